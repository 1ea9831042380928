#!/usr/bin/env bash
# Server RSS with the full simulator listing running (demo clock, 1 tick/s per instrument, the
# 5-day back-fill included), sampled every 10 s for MINUTES minutes (default 10).
#   bench/bench_rss.sh [MINUTES] [path/to/stocksblitz-server]
set -euo pipefail
minutes=${1:-10}
bin=${2:-${CARGO_TARGET_DIR:-target}/release/stocksblitz-server}
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --addr "127.0.0.1:$port" --data-dir "$dir" --demo-clock > "$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
max=0
for ((i = 0; i < minutes * 6; i++)); do
  sleep 10
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  [ "$rss" -gt "$max" ] && max=$rss
  ticks=$(curl -s "127.0.0.1:$port/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ingest"]["ticks_total"])')
  echo "t=$(( (i + 1) * 10 ))s rss=${rss}kB ticks=$ticks"
done
echo "peak RSS: $((max / 1024)) MB over $minutes min"
