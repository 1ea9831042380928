"""The async SDK and streams against the alternatives, in one run, on the server the installed
wheel ships (build both in release for real figures: `maturin develop --release`).

    pip install -r bench/requirements.txt        # httpx
    python bench/bench_async.py [--calls 400] [--concurrency 1000] [--stream-seconds 10]

1. Cold `ltp()` latency, p50/p99: `await AsyncInstrument.ltp()`, the sync `Instrument.ltp`, and
   `httpx.AsyncClient` GET /quote + JSON decode — each call a full HTTP round trip (the SDK's
   response cache is cleared before every call, outside the timed part), the three interleaved
   call by call so drift hits all alike; every answer checked to be a positive price.
2. 1,000 concurrent awaits on one client (`asyncio.gather` of GET /quote, no response cache:
   every await a request): wall time and errors, against the same gather on one
   `httpx.AsyncClient` (its default pool: 100 connections).
3. Stream throughput: quote updates/s delivered to Python from a `NIFTY*` quote subscription
   (every NIFTY contract) while the simulator ticks every 100 ms, against the quotes the server
   published in the same window (latest-wins coalescing shows as the difference).
4. Bar close → consumer: the server stamps each bar close (`closed_at`, epoch ms, when its
   bar clock closes the bar — before it is stored, so the figure includes the write the stream
   waits for); the consumer's clock at arrival minus that, p50/p99, over `--bars` closes of a
   1-minute subscription on a 30x demo clock (one close every 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import stocksblitz as sb


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tmp: str, extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = Path(sys.executable).parent / "stocksblitz-server"
    args = [str(exe), "--addr", f"127.0.0.1:{port}", "--data-dir", tmp]
    args += ["--identity-addr", "off", "--log-level", "warn", *extra]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.Popen(args, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            q = call(url + "/health")
            if q["ingest"]["backfill"]["state"] in ("done", "idle"):
                break
        except OSError:
            pass
        time.sleep(0.1)
    return proc, url


def api_key(url: str) -> str:
    user = {"email": "bench@example.com", "password": "Bench-password-123", "name": "Bench"}
    call(url + "/v1/auth/register", "POST", user)
    jwt = call(url + "/v1/auth/login", "POST", user)["access_token"]
    return str(call(url + "/api-keys", "POST", {"name": "b", "scopes": ["read"]}, jwt)["api_key"])


async def latency(url: str, key: str, calls: int) -> dict[str, list[float]]:
    import httpx

    aclient = sb.AsyncTradingClient(url, api_key=key)
    sclient = sb.TradingClient(url, api_key=key)
    ainst, sinst = aclient.Instrument("NIFTY 50"), sclient.Instrument("NIFTY 50")
    out: dict[str, list[float]] = {"async SDK": [], "sync SDK": [], "httpx.AsyncClient": []}
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as hx:

        async def via_httpx() -> float:
            r = await hx.get(url + "/quote", params={"symbol": "NIFTY 50"})
            return float(r.json()["ltp"])

        for warm in (True, False):
            for _ in range(20 if warm else calls):
                for name in out:
                    aclient.clear_cache()
                    sclient.clear_cache()
                    t = time.perf_counter()
                    if name == "async SDK":
                        v = await ainst.ltp()
                    elif name == "sync SDK":
                        v = sinst.ltp
                    else:
                        v = await via_httpx()
                    dt = (time.perf_counter() - t) * 1000
                    assert v is not None and v > 0, (name, v)
                    if not warm:
                        out[name].append(dt)
    return out


async def fan_out(url: str, key: str, n: int) -> dict[str, tuple[float, int, int]]:
    import httpx

    res: dict[str, tuple[float, int, int]] = {}
    client = sb.AsyncTradingClient(url, api_key=key)
    q = {"symbol": "NIFTY 50"}

    async def sdk_one() -> float:
        # `get` does not use the response cache: every await is a request, as with httpx.
        return float((await client.get("/quote", q))["ltp"])

    await sdk_one()
    t = time.perf_counter()
    got = await asyncio.gather(*(sdk_one() for _ in range(n)), return_exceptions=True)
    wall = time.perf_counter() - t
    ok = sum(isinstance(v, float) and v > 0 for v in got)
    res["async SDK"] = (wall, ok, n - ok)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as hx:
        await hx.get(url + "/quote", params={"symbol": "NIFTY 50"})

        async def one() -> float:
            r = await hx.get(url + "/quote", params={"symbol": "NIFTY 50"})
            return float(r.json()["ltp"])

        t = time.perf_counter()
        got = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
        wall = time.perf_counter() - t
    ok = sum(isinstance(v, float) and v > 0 for v in got)
    res["httpx.AsyncClient"] = (wall, ok, n - ok)
    return res


async def throughput(url: str, key: str, seconds: float) -> tuple[float, float]:
    client = sb.AsyncTradingClient(url, api_key=key)
    before = call(url + "/health")["ingest"]["ticks_total"]
    n = 0
    async with client.stream(quotes=["NIFTY*"]) as s:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            u = await s.next()
            if u is not None and u.type == "quote":
                assert u.ltp is None or u.ltp > 0
                n += 1
        wall = time.perf_counter() - t0
    after = call(url + "/health")["ingest"]["ticks_total"]
    return n / wall, (after - before) / wall


async def bar_latency(url: str, key: str, bars: int) -> list[float]:
    client = sb.AsyncTradingClient(url, api_key=key)
    lat: list[float] = []
    async with client.stream(bars=[("NIFTY 50", "1m")]) as s:
        async for u in s:
            if u.type != "bar":
                continue
            arrived = time.time() * 1000
            assert u.closed_at is not None and u.low <= u.close <= u.high
            lat.append(arrived - u.closed_at)
            if len(lat) >= bars:
                break
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=1000)
    ap.add_argument("--stream-seconds", type=float, default=10.0)
    ap.add_argument("--bars", type=int, default=30)
    a = ap.parse_args()
    demo = ["--demo-clock", "--demo-speed", "30", "--bar-grace-ms", "0", "--backfill-days", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(tmp, [*demo, "--tick-interval-ms", "100"])
        try:
            key = api_key(url)
            print(f"server: {url} (the wheel's), Python {sys.version.split()[0]}")

            lat = asyncio.run(latency(url, key, a.calls))
            base = statistics.median(lat["httpx.AsyncClient"])
            print(f"\n1. cold ltp() over {a.calls} calls each (ms; ratio of medians to httpx)")
            for name, xs in lat.items():
                med = statistics.median(xs)
                print(
                    f"   {name:18} p50 {med:6.3f}  p99 {pct(xs, 99):6.3f}  ratio {med / base:5.2f}"
                )

            fan = asyncio.run(fan_out(url, key, a.concurrency))
            print(f"\n2. {a.concurrency} concurrent awaits on one client")
            for name, (wall, ok, err) in fan.items():
                print(f"   {name:18} wall {wall * 1000:7.1f} ms  ok {ok}  errors {err}")
            r = fan["async SDK"][0] / fan["httpx.AsyncClient"][0]
            print(f"   ratio (SDK / httpx wall): {r:.2f}")

            got, offered = asyncio.run(throughput(url, key, a.stream_seconds))
            print(f"\n3. stream: {got:,.0f} quote updates/s delivered to Python")
            print(f"   the server ingested {offered:,.0f} ticks/s (all underlyings) meanwhile")

            bl = asyncio.run(bar_latency(url, key, a.bars))
            print(f"\n4. bar close -> Python consumer over {len(bl)} closes (ms)")
            print(f"   p50 {statistics.median(bl):.2f}  p99 {pct(bl, 99):.2f}  max {max(bl):.2f}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
