"""SDK trading latency against the local server, compared in one run with httpx doing the same
work: ``account.buy(...)`` (a keyed POST of the order and a GET of the placed order, as the SDK
does) alternating BUY/SELL of one option lot; and iterating ``InstrumentFilter`` over a chain
(one request) reading every instrument's ``ltp``, cold (cache cleared) and warm.

    maturin develop --release                  # the wheel optimised, as pip install builds it
    cargo build --release -p stocksblitz-server --bin stocksblitz-server
    pip install -r bench/requirements.txt      # httpx
    python bench/bench_sdk_trading.py [--orders 400] [--iterations 300]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

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


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=400)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--server", default=None)
    a = ap.parse_args()
    import httpx

    target = os.environ.get("CARGO_TARGET_DIR", str(Path(__file__).resolve().parents[1] / "target"))
    release = Path(target) / "release" / "stocksblitz-server"
    wheel = Path(sys.executable).parent / "stocksblitz-server"
    server = a.server or str(release if release.exists() else wheel)
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
                "0",
                "--identity-addr",
                "off",
                "--log-level",
                "warn",
            ]
        )
        try:
            user = {"email": "bench@example.com", "password": "Bench-password-123"}
            for _ in range(300):
                try:
                    post(base + "/v1/auth/register", user)
                    break
                except OSError:
                    time.sleep(0.2)
            jwt = post(base + "/v1/auth/login", user)["access_token"]
            key = post(
                base + "/api-keys", {"name": "bench", "scopes": ["read", "trade"]}, token=jwt
            )["api_key"]
            hx = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"})
            for _ in range(300):
                if (
                    hx.get("/monitor/snapshot", params={"underlying": "NIFTY"})
                    .json()
                    .get("underlying")
                ):
                    break
                time.sleep(0.2)
            chain = hx.get("/fo/option-chain", params={"underlying": "NIFTY"}).json()
            row = min(chain["strikes"], key=lambda r: abs(r["strike"] - chain["spot"]))
            sym = row["call"]["tradingsymbol"]
            client = sb.TradingClient(api_url=base, api_key=key)
            account = client.Account()
            account.reset(opening_balance=100_000_000)
            acc = account.account_id

            def sdk_order(side: str) -> str:
                o = account.place_order(sym, side, 65, product="MIS")
                return str(o.status)

            def hx_order(side: str) -> str:
                r = hx.post(
                    f"/accounts/{acc}/orders",
                    json={
                        "tradingsymbol": sym,
                        "transaction_type": side,
                        "quantity": 65,
                        "order_type": "MARKET",
                        "product": "MIS",
                    },
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                oid = r.json()["data"]["order_id"]
                return str(hx.get(f"/accounts/{acc}/orders/{oid}").json()["data"]["status"])

            ts: dict[str, list[float]] = {"sdk": [], "httpx": []}
            for i in range(a.orders):
                side = "BUY" if (i // 2) % 2 == 0 else "SELL"
                for name, f in (("sdk", sdk_order), ("httpx", hx_order)):
                    t0 = time.perf_counter()
                    status = f(side)
                    ts[name].append((time.perf_counter() - t0) * 1000)
                    assert status == "COMPLETE", status
            pos = [p.quantity for p in account.positions]
            assert pos == [0], pos  # every BUY matched by a SELL: the books add up
            print(
                json.dumps(
                    {
                        "part": "account_buy_round_trip",
                        "orders_each": a.orders,
                        "sdk_p50_ms": round(statistics.median(ts["sdk"]), 3),
                        "sdk_p99_ms": round(pct(ts["sdk"], 99), 3),
                        "httpx_p50_ms": round(statistics.median(ts["httpx"]), 3),
                        "httpx_p99_ms": round(pct(ts["httpx"], 99), 3),
                        "p50_ratio_sdk_over_httpx": round(
                            statistics.median(ts["sdk"]) / statistics.median(ts["httpx"]), 3
                        ),
                    }
                ),
                flush=True,
            )

            strikes = sum(1 for s in chain["strikes"] if s["call"])
            cold: list[float] = []
            warm: list[float] = []
            native = client._api._native
            cold_requests = 0
            for _ in range(a.iterations):
                client.clear_cache()
                start = native.stats()["requests"]
                t0 = time.perf_counter()
                n = sum(1 for i in client.InstrumentFilter("NSE@NIFTY@Nw@Call") if i.ltp > 0)
                cold.append((time.perf_counter() - t0) * 1000)
                before = native.stats()["requests"]
                cold_requests = max(cold_requests, before - start)
                t0 = time.perf_counter()
                m = sum(1 for i in client.InstrumentFilter("NSE@NIFTY@Nw@Call") if i.ltp > 0)
                warm.append((time.perf_counter() - t0) * 1000)
                assert native.stats()["requests"] == before, "a warm iteration made a request"
                assert n == m == strikes, (n, m, strikes)
            print(
                json.dumps(
                    {
                        "part": "instrument_filter_iteration",
                        "strikes": strikes,
                        "cold_p50_ms": round(statistics.median(cold), 3),
                        "warm_p50_ms": round(statistics.median(warm), 3),
                        "warm_p99_ms": round(pct(warm, 99), 3),
                        "requests_cold": cold_requests,
                        "requests_warm": 0,
                    }
                ),
                flush=True,
            )
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
