"""SDK latency against the local server: `inst.ltp` and `tf.rsi[14]`, cold (cache cleared before
each call: a real round trip) and warm (the client's cache), p50/p99 over N calls, compared in
the same run with the same requests made by a plain httpx client (what the old pure-Python SDK
did: one HTTP request + JSON parse per attribute read).

    maturin develop --release                  # the wheel optimised, as pip install builds it
    cargo build --release -p stocksblitz-server --bin stocksblitz-server
    python bench/bench_sdk.py [--calls 10000] [--server PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable

import stocksblitz as sb


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: dict, token: str | None = None) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def measure(
    fn: Callable[[], object], calls: int, before: Callable[[], None] | None = None
) -> tuple[float, float]:
    samples = []
    for _ in range(calls):
        if before:
            before()
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.99) - 1] / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--server", default=None, help="server binary (default: the wheel's)")
    a = ap.parse_args()
    import httpx

    target = os.environ.get("CARGO_TARGET_DIR", str(Path(__file__).resolve().parents[1] / "target"))
    release = Path(target) / "release" / "stocksblitz-server"
    server = a.server or (str(release) if release.exists() else "stocksblitz-server")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [
                server,
                "--addr",
                f"127.0.0.1:{port}",
                "--data-dir",
                tmp,
                "--demo-clock",
                "--backfill-days",
                "1",
                "--identity-addr",
                "off",
                "--log-level",
                "warn",
            ]
        )
        try:
            for _ in range(600):
                try:
                    h = json.loads(urllib.request.urlopen(base + "/health", timeout=1).read())
                    if any(
                        t["name"] == "backfill" and not t["running"] for t in h["ingest"]["tasks"]
                    ):
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            user = {"email": "bench@example.com", "password": "Bench-password-123"}
            post(base + "/v1/auth/register", user)
            jwt = post(base + "/v1/auth/login", user)["access_token"]
            key = post(base + "/api-keys", {"name": "bench", "scopes": ["read"]}, token=jwt)[
                "api_key"
            ]
            client = sb.TradingClient(api_url=base, api_key=key)
            nifty = client.Instrument("NIFTY 50")
            tf = nifty["5m"]
            tf.rsi[14]
            hx = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"})

            def hx_ltp() -> float:
                return hx.get("/quote", params={"symbol": "NIFTY 50"}).json()["ltp"]

            def hx_rsi() -> float:
                r = hx.get(
                    "/indicators/current",
                    params={"symbol": "NIFTY 50", "timeframe": "5m", "indicators": "RSI_14"},
                )
                return r.json()["indicators"]["RSI_14"]

            n = a.calls
            rows = [
                ("inst.ltp warm (cached)", measure(lambda: nifty.ltp, n)),
                ("inst.ltp cold (round trip)", measure(lambda: nifty.ltp, n, client.clear_cache)),
                ("httpx GET /quote + json", measure(hx_ltp, n)),
                ("tf.rsi[14] warm (cached)", measure(lambda: tf.rsi[14], n)),
                (
                    "tf.rsi[14] cold (round trip)",
                    measure(lambda: tf.rsi[14], n, client.clear_cache),
                ),
                ("httpx GET /indicators/current + json", measure(hx_rsi, n)),
            ]
            print(f"{n} calls each, loopback, release server, simulator running")
            for name, (p50, p99) in rows:
                print(f"{name:40s} p50 {p50:9.1f} µs  p99 {p99:9.1f} µs")
            d = dict(rows)
            print(
                f"ratio cold ltp SDK / httpx (p50): {d['inst.ltp cold (round trip)'][0] / d['httpx GET /quote + json'][0]:.2f}"
            )
            print(
                f"ratio cold rsi SDK / httpx (p50): {d['tf.rsi[14] cold (round trip)'][0] / d['httpx GET /indicators/current + json'][0]:.2f}"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
