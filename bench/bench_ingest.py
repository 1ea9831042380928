"""Ingestion benchmarks against a real Redis and the release server.

1. Sustained ingest: legacy_ticker.py --rate 0 --pool 10000 --count N publishes as fast as it
   can; the server (consuming, building and persisting bars) and a do-nothing subscriber on the
   same Redis count what they get in the same run; prints both rates, the ratio, reconnects.
2. Tick-to-snapshot latency: probe ticks published while the ticker adds background load (about
   1k and 50k ticks/s); the time from PUBLISH to the probe price being visible through /quote.

    python bench/bench_ingest.py [--count 500000] [--server target/release/stocksblitz-server]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKER = ROOT / "tests" / "tools" / "legacy_ticker.py"
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(conn: http.client.HTTPConnection) -> dict:
    conn.request("GET", "/health")
    return json.loads(conn.getresponse().read())


def resp(*parts: bytes) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500_000)
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    ap.add_argument("--server", default=f"{target}/release/stocksblitz-server")
    ap.add_argument("--null", default=f"{target}/release/examples/null_subscriber")
    args = ap.parse_args()
    prefix = f"ticker:bench{os.getpid()}"
    port = free_port()
    data = tempfile.mkdtemp()
    srv = subprocess.Popen(
        [
            args.server,
            "--addr",
            f"127.0.0.1:{port}",
            "--data-dir",
            data,
            "--source",
            "redis",
            "--redis-pattern",
            f"{prefix}:*",
            "--demo-clock",
            "--log-level",
            "warn",
        ],
        env={**os.environ, "REDIS_URL": REDIS},
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for _ in range(100):
            try:
                if health(conn)["ingest"]["connected"]:
                    break
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            time.sleep(0.1)
        # 1. Sustained ingest vs the do-nothing ceiling.
        null = subprocess.Popen(
            [args.null, REDIS, f"{prefix}:*", str(args.count)], stdout=subprocess.PIPE, text=True
        )
        assert null.stdout is not None and null.stdout.readline().strip() == "ready"
        before = health(conn)["ingest"]
        t0 = time.monotonic()
        pub = subprocess.run(
            [
                sys.executable,
                str(TICKER),
                "--redis",
                REDIS,
                "--prefix",
                prefix,
                "--rate",
                "0",
                "--pool",
                "10000",
                "--count",
                str(args.count),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        published = json.loads(pub.stdout.strip().splitlines()[-1])
        got = before["ticks_total"]
        last_change, last_value = time.monotonic(), got
        while got - before["ticks_total"] < args.count and time.monotonic() - last_change < 5:
            got = health(conn)["ingest"]["ticks_total"]
            if got != last_value:
                last_change, last_value = time.monotonic(), got
            time.sleep(0.02)
        server_secs = last_change - t0
        ceiling = json.loads(null.communicate(timeout=60)[0].strip().splitlines()[-1])
        after = health(conn)["ingest"]
        server_rate = (got - before["ticks_total"]) / server_secs
        print(
            f"publisher (legacy_ticker --rate 0 --pool 10000): {published['per_second']:>10,.0f} msg/s, {published['published']:,} messages"
        )
        print(
            f"do-nothing subscriber (ceiling)                  : {ceiling['per_second']:>10,.0f} msg/s ({ceiling['messages']:,} received)"
        )
        print(
            f"server consume + snapshot + bars + persistence   : {server_rate:>10,.0f} ticks/s ({got - before['ticks_total']:,} ingested)"
        )
        print(
            f"ratio server / ceiling                           : {server_rate / ceiling['per_second']:.2f}; reconnects {after['reconnects'] - before['reconnects']}"
        )

        # 2. Tick-to-snapshot latency under background load (through /quote, which needs a
        # credential: the bootstrap API key the server wrote at first start).
        creds = dict(
            line.split("=", 1)
            for line in Path(data, "bootstrap-credentials.txt").read_text().splitlines()
            if "=" in line
        )
        auth = {"Authorization": f"Bearer {creds['api_key']}"}
        host, rport = REDIS.split("//")[1].split(":")
        r = socket.create_connection((host, int(rport)))
        rf = r.makefile("rb")
        probe = "NIFTY27JAN99000CE"
        for label, rate in (("~1k ticks/s", "10"), ("~50k ticks/s", "520")):
            load = subprocess.Popen(
                [
                    sys.executable,
                    str(TICKER),
                    "--redis",
                    REDIS,
                    "--prefix",
                    prefix,
                    "--rate",
                    rate,
                    "--duration",
                    "30",
                ],
                stdout=subprocess.DEVNULL,
            )
            time.sleep(1.0)
            lat = []
            for i in range(300):
                price = 1000 + i + 0.05 * (i % 7)
                body = json.dumps(
                    {
                        "tradingsymbol": probe,
                        "type": "CE",
                        "price": price,
                        "volume": i,
                        "ts": int(time.time()),
                    }
                ).encode()
                t = time.perf_counter()
                r.sendall(resp(b"PUBLISH", f"{prefix}:options".encode(), body))
                rf.readline()
                while True:
                    conn.request("GET", f"/quote?symbol={probe}", headers=auth)
                    q = json.loads(conn.getresponse().read())
                    if q.get("ltp") == price:
                        lat.append((time.perf_counter() - t) * 1000)
                        break
                    if time.perf_counter() - t > 2:
                        break
                time.sleep(0.01)
            load.kill()
            lat.sort()
            h = health(conn)["ingest"]
            print(
                f"tick→snapshot latency at {label:<13}: p50 {statistics.median(lat):.2f} ms, p99 {lat[int(len(lat) * 0.99) - 1]:.2f} ms "
                f"({len(lat)} probes; reconnects {h['reconnects']})"
            )
    finally:
        srv.terminate()
        srv.wait(timeout=30)


if __name__ == "__main__":
    main()
