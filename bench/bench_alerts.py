"""Alert evaluation cost (issue 19): 10,000 active alerts across 500 instruments at 1,000
ticks/s, against the same feed with no alerts, in one run.

The release server reads exact ticks from Redis (the native superset of the legacy format, with
`exchange_ts_ms` = the publish time); ten users hold 1,000 alerts each (price alerts on options
of NIFTY and BANKNIFTY: comparisons and crossings at levels around each instrument's price,
repeating with a 5 s cool-down) and listen on `/alerts/stream`. Reported:

- the server's CPU share (utime + stime over wall time) with no alerts and with 10,000, and
  the difference;
- tick → alert latency at the client: receive time minus the firing tick's publish time
  (Redis, ingestion, evaluation, the store's claim, the socket), p50 / p99 / max;
- events received against firings recorded (nothing lost) and ticks the engine dropped.

    cargo build --release -p stocksblitz-server --bin stocksblitz-server
    python bench/bench_alerts.py [--seconds 20] [--rate 1000] [--alerts 10000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect as ws_connect

target = os.environ.get("CARGO_TARGET_DIR", str(Path(__file__).resolve().parents[1] / "target"))
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
USERS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, body: dict | None = None, token: str | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
    return json.loads(text) if text[:1] in (b"{", b"[") else {"text": text.decode()}


def instruments() -> list[tuple[str, float]]:
    """500 option contracts (next year's January monthlies) and a starting price each."""
    out = []
    for strike in range(22000, 32000, 50):  # 200 strikes, CE and PE
        for right in ("CE", "PE"):
            out.append((f"NIFTY27JAN{strike}{right}", 50 + (strike % 700) / 3))
    for strike in range(50000, 55000, 100):  # 50 strikes, CE and PE
        for right in ("CE", "PE"):
            out.append((f"BANKNIFTY27JAN{strike}{right}", 120 + (strike % 900) / 4))
    return out[:500]


class Publisher:
    def __init__(self, channel: str) -> None:
        host, port = REDIS.split("://", 1)[1].split("/")[0].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)))
        self.channel = channel.encode()
        self.pending = 0

    def publish(self, sym: str, price: float) -> None:
        now = time.time()
        body = json.dumps(
            {
                "symbol": sym.split("2", 1)[0],
                "tradingsymbol": sym,
                "type": sym[-2:],
                "price": round(price, 2),
                "volume": 0,
                "oi": 0,
                "ts": int(now),
                "exchange_ts_ms": int(now * 1000),
            }
        ).encode()
        parts = [b"PUBLISH", self.channel, body]
        self.sock.sendall(b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        self.pending += 1
        if self.pending >= 64:
            self.drain()

    def drain(self) -> None:
        need = self.pending
        buf = b""
        while buf.count(b"\r\n") < need:
            buf += self.sock.recv(65536)
        self.pending = 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def feed(
    pub: Publisher, prices: dict[str, float], rate: int, seconds: float, rng: random.Random
) -> int:
    syms = list(prices)
    sent = 0
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        due = int(elapsed * rate)
        while sent < due:
            s = syms[sent % len(syms)]
            prices[s] = max(0.05, prices[s] * (1 + rng.gauss(0, 0.002)))
            pub.publish(s, prices[s])
            sent += 1
        time.sleep(0.001)
    pub.drain()
    return sent


def listen_all(url: str, keys: list[str], stop: Any, results: Any, ready: Any) -> None:
    """Listen on every user's /alerts/stream (a thread each); put the latencies (ms) on
    ``results`` once ``stop`` is set."""
    lat: list[float] = []
    lock = threading.Lock()
    connected = threading.Barrier(len(keys) + 1)

    def listen(key: str) -> None:
        with ws_connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
            connected.wait()
            while not stop.is_set():
                try:
                    msg = ws.recv(timeout=0.5)
                except TimeoutError:
                    continue
                now = time.time() * 1000
                m = json.loads(msg)
                if m.get("type") != "alert":
                    continue
                with lock:
                    lat.append(now - float(m["data"]["data"]["tick_time"]))

    threads = [threading.Thread(target=listen, args=(k,), daemon=True) for k in keys]
    for th in threads:
        th.start()
    connected.wait()
    ready.wait()
    for th in threads:
        th.join()
    results.put(lat)


def percentile(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=int, default=1000, help="ticks per second (all instruments)")
    ap.add_argument("--alerts", type=int, default=10_000)
    args = ap.parse_args()
    exe = Path(target) / "release" / "stocksblitz-server"
    if not exe.exists():
        sys.exit(f"{exe} missing: cargo build --release -p stocksblitz-server")
    rng = random.Random(7)
    prefix = f"benchalerts{os.getpid()}"
    tmp = Path(tempfile.mkdtemp())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env["REDIS_URL"] = REDIS
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen(
        [str(exe), "--addr", f"127.0.0.1:{port}", "--data-dir", str(tmp / "data"),
         "--source", "redis", "--redis-pattern", f"{prefix}:*", "--backfill-days", "0",
         "--identity-addr", "off", "--log-level", "warn"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                if call(url + "/health").get("status"):
                    break
            except OSError:
                time.sleep(0.1)
        insts = instruments()
        prices = dict(insts)
        pub = Publisher(f"{prefix}:options")
        print(f"warming up: {len(insts)} instruments, one tick each")
        for s, p in insts:
            pub.publish(s, p)
        pub.drain()
        time.sleep(1)

        print(f"no alerts: {args.rate} ticks/s for {args.seconds:.0f} s")
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        n0 = feed(pub, prices, args.rate, args.seconds, rng)
        idle = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)

        keys = []
        for u in range(USERS):
            email = f"bench-alerts-{u}@example.com"
            call(
                url + "/v1/auth/register",
                {"email": email, "password": "Bench-Alerts-Pass-1!", "name": "B"},
            )
            jwt = call(
                url + "/v1/auth/login", {"email": email, "password": "Bench-Alerts-Pass-1!"}
            )["access_token"]
            keys.append(call(url + "/api-keys", {"name": "b", "scopes": ["read"]}, jwt)["api_key"])
        per_user = args.alerts // USERS
        print(f"creating {per_user * USERS} alerts ({per_user} per user) …", flush=True)
        t = time.monotonic()
        ops = ["crosses_above", "crosses_below", "crosses", ">", "<"]
        made = 0
        for u, key in enumerate(keys):
            for i in range(per_user):
                sym, _ = insts[(u * per_user + i) % len(insts)]
                level = prices[sym] * (1 + rng.uniform(-0.03, 0.03))
                body = {
                    "alert_type": "price",
                    "symbol": sym,
                    "condition": f"ltp {ops[i % len(ops)]} {level:.2f}",
                    "repeat": True,
                    "cooldown_secs": 5,
                }
                call(url + "/alerts", body, key)
                made += 1
        print(f"  {made} created in {time.monotonic() - t:.1f} s")

        # The listeners run in a process of their own: the publisher's loop must not hold
        # their receive times back (one interpreter lock), or the client's delay is counted.
        ctx = multiprocessing.get_context("spawn")
        stop = ctx.Event()
        results = ctx.Queue()
        ready = ctx.Barrier(2)
        ws_url = url.replace("http://", "ws://") + "/alerts/stream"
        listener = ctx.Process(target=listen_all, args=(ws_url, keys, stop, results, ready))
        listener.start()
        ready.wait(timeout=30)
        time.sleep(1)
        before = call(url + "/metrics")["text"]
        print(f"{made} alerts: {args.rate} ticks/s for {args.seconds:.0f} s")
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
        n1 = feed(pub, prices, args.rate, args.seconds, rng)
        busy = (cpu_seconds(proc.pid) - c1) / (time.monotonic() - t1)
        time.sleep(2)
        stop.set()
        lat: list[float] = results.get(timeout=30)
        listener.join(timeout=10)
        received = [len(lat)]
        metrics = call(url + "/metrics")["text"]

        def metric(text: str, name: str) -> float:
            for line in text.splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
            return 0.0

        fired = metric(metrics, "stocksblitz_alerts_fired_total") - metric(
            before, "stocksblitz_alerts_fired_total"
        )
        evals = metric(metrics, "stocksblitz_alert_evaluations_total") - metric(
            before, "stocksblitz_alert_evaluations_total"
        )
        dropped = metric(metrics, "stocksblitz_alert_ticks_dropped_total")
        print()
        print("| | ticks sent | server CPU (share of one core) |")
        print("|---|---:|---:|")
        print(f"| no alerts | {n0} | {idle:.3f} |")
        print(f"| {made} alerts | {n1} | {busy:.3f} |")
        print(f"| difference (the alerts) | | {busy - idle:+.3f} |")
        print()
        print(
            f"evaluations {evals:.0f} ({evals / args.seconds:,.0f}/s), firings {fired:.0f}, "
            f"events received {received[0]}, ticks dropped by the engine {dropped:.0f}"
        )
        print(
            f"tick → alert at the client (ms): p50 {percentile(lat, 50):.1f}  "
            f"p99 {percentile(lat, 99):.1f}  max {max(lat) if lat else float('nan'):.1f}  "
            f"(target p99 < 20)"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=15)


if __name__ == "__main__":
    main()
