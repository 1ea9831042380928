"""HTTP API throughput and latency with wrk against the release server with the simulator
running, authenticated with an API key; and, in the same run, `/indicators/current` served by
the FastAPI + uvicorn + TA-Lib reference (bench/fastapi_ref.py) over the same store.

    cargo build --release -p stocksblitz-server --bin stocksblitz-server
    pip install -r bench/requirements.txt      # fastapi, uvicorn (wrk: apt-get install wrk)
    python bench/bench_http.py [--seconds 10] [--connections 64] [--misses 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

target = os.environ.get("CARGO_TARGET_DIR", str(Path(__file__).resolve().parents[1] / "target"))
IND = "RSI_14,SMA_20,MACD_12_26_9"


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
        return json.loads(r.read())


def wait(url: str, pred=lambda b: True, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = call(url)
            if pred(body):
                return body
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {url}")


def to_ms(v: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", v)
    if not m:
        return float("nan")
    x, unit = float(m.group(1)), m.group(2)
    return x / 1000 if unit == "us" else x if unit == "ms" else x * 1000


def wrk(url: str, seconds: float, conns: int, token: str | None) -> tuple[float, float, float, int]:
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, p50, p99, int(non2xx.group(1)) if non2xx else 0


def sequential(base: str, paths: list[str], token: str) -> tuple[float, float, int]:
    """One client on one keep-alive connection: (p50 ms, p99 ms, requests) over `paths` in order,
    every answer a 200 with a body."""
    import http.client
    import statistics

    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    lat = []
    for path in paths:
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        body = r.read()
        lat.append((time.perf_counter() - t0) * 1000)
        if r.status != 200 or not body:
            raise SystemExit(f"{path}: {r.status} {body[:200]!r}")
    conn.close()
    lat.sort()
    return statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))], len(lat)


def uncached_paths(base: str, key: str) -> tuple[list[str], list[str]]:
    """Requests no cache can answer: `/indicators/current` of a (contract, timeframe) asked once
    (series read from the store, indicators computed), and `/indicators/history` with lookback
    500 (computed on every request)."""
    listed = call(base + "/instruments?underlying=NIFTY&limit=1000", token=key)["instruments"]
    symbols = [urllib.parse.quote(i["tradingsymbol"]) for i in listed]
    tfs = ["1m", "3m", "5m", "10m", "15m", "30m", "1h"]
    current = [
        f"/indicators/current?symbol={s}&timeframe={tf}&indicators={IND}"
        for tf in tfs
        for s in symbols
    ]
    history = [
        f"/indicators/history?symbol={s}&timeframe=5m&indicator=RSI_14&lookback=500"
        for s in symbols[:200]
    ]
    return current, history


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=f"{target}/release/stocksblitz-server")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument(
        "--misses", type=int, default=1000, help="uncached /indicators/current requests"
    )
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    port, ref_port = free_port(), free_port()
    base, ref = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ref_port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        args = [a.server, "--addr", f"127.0.0.1:{port}", "--data-dir", tmp, "--demo-clock"]
        args += ["--backfill-days", "2", "--identity-addr", "off", "--log-level", "warn"]
        srv = subprocess.Popen(args, env=env)
        procs = [srv]
        try:
            wait(base + "/health")
            print("waiting for the simulator's back-fill (2 sessions)…", flush=True)
            wait(
                base + "/health",
                lambda h: h["ingest"]["backfill"]["state"] in ("done", "idle"),
            )
            user = {"email": "bench@example.com", "password": "Bench-password-123"}
            call(base + "/v1/auth/register", user)
            jwt = call(base + "/v1/auth/login", user)["access_token"]
            body = {"name": "bench", "scopes": ["read"]}  # no per-key limit
            key = call(base + "/api-keys", body, token=jwt)["api_key"]
            current = f"/indicators/current?symbol=NIFTY%2050&timeframe=5m&indicators={IND}"
            ours = call(base + current, token=key)
            ref_proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "fastapi_ref:app",
                    "--app-dir",
                    str(Path(__file__).parent),
                    "--port",
                    str(ref_port),
                    "--log-level",
                    "warning",
                    "--workers",
                    "2",
                ],
                env={**env, "SB_DB": str(Path(tmp) / "stocksblitz.db")},
            )
            procs.append(ref_proc)
            theirs = wait(ref + current)
            print(
                f"latest bar: ours {ours['candle_time']} (stored + forming bar), reference "
                f"{theirs['candle_time']} (stored bars only); RSI_14 ours "
                f"{ours['indicators']['RSI_14']:.4f}, reference {theirs['indicators']['RSI_14']:.4f}"
            )
            cases = [
                ("/health", base + "/health", None),
                ("/quote", base + "/quote?symbol=NIFTY%2050", key),
                ("/indicators/current", base + current, key),
                (
                    "/monitor/snapshot?underlying=NIFTY",
                    base + "/monitor/snapshot?underlying=NIFTY",
                    key,
                ),
                ("reference /indicators/current (FastAPI+TA-Lib)", ref + current, None),
            ]
            res = {}
            print(
                f"wrk: 2 threads, {a.connections} connections, {a.seconds:.0f} s each; simulator running"
            )
            for name, url, token in cases:
                rps, p50, p99, bad = wrk(url, a.seconds, a.connections, token)
                res[name] = rps
                print(
                    f"{name:48s} {rps:>9.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  non-2xx {bad}"
                )
            ratio = (
                res["/indicators/current"] / res["reference /indicators/current (FastAPI+TA-Lib)"]
            )
            print(f"ratio /indicators/current ours / FastAPI reference: {ratio:.1f}x")
            current_miss, history = uncached_paths(base, key)
            print("uncached, one client, sequential (simulator running):")
            for name, paths in [
                (f"/indicators/current, cache miss ({IND})", current_miss[: a.misses]),
                ("/indicators/history RSI_14 lookback 500", history),
            ]:
                p50, p99, n = sequential(base, paths, key)
                print(f"{name:48s} {n:>6d} requests  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms")
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=30)


if __name__ == "__main__":
    main()
