"""Paper trading: order placement round trips and throughput, quote-to-fill latency under a
1k ticks/s feed, and the cost of the Kite adapter — all in one run against the release server
on the live Redis feed (the legacy ticker as background load, this script's own ticks for the
instrument it trades, so it knows the instant an order becomes marketable).

    cargo build --release -p stocksblitz-server --bin stocksblitz-server
    apt-get install wrk                     # the throughput part
    python bench/bench_trading.py [--fills 200] [--seconds 10] [--connections 32]

Prints a JSON line per part and the ratios. Outputs are checked: every fill is the order
placed for it, every wrk request answered 200, the books add up at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
TICKER = ROOT / "tests" / "tools" / "legacy_ticker.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {url}: {e.code} {e.read()[:300]!r}") from None


def wait(pred, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


class Redis:
    """PUBLISH over a raw RESP connection (no client library needed)."""

    def __init__(self, host: str, port: int) -> None:
        self.s = socket.create_connection((host, port))
        self.f = self.s.makefile("rb")
        self.lock = threading.Lock()

    def publish(self, channel: str, payload: bytes) -> None:
        parts = [b"PUBLISH", channel.encode(), payload]
        msg = b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        with self.lock:
            self.s.sendall(msg)
            self.f.readline()


def user(base: str, email: str) -> tuple[str, str]:
    """(API key with read+trade, primary account id) of a new user with ₹1 crore."""
    pw = "Bench-Password-123!"
    call(base + "/v1/auth/register", "POST", {"email": email, "password": pw})
    jwt = call(base + "/v1/auth/login", "POST", {"email": email, "password": pw})["access_token"]
    key = call(base + "/api-keys", "POST", {"name": "b", "scopes": ["read", "trade"]}, jwt)
    acc = call(base + "/accounts", token=key["api_key"])["data"][0]["account_id"]
    call(base + f"/accounts/{acc}/reset", "POST", {"opening_balance": 10_000_000}, key["api_key"])
    return key["api_key"], acc


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=f"{target}/release/stocksblitz-server")
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    ap.add_argument("--fills", type=int, default=200, help="quote-to-fill samples per side")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--kite-calls", type=int, default=300)
    args = ap.parse_args()
    if not Path(args.server).exists():
        raise SystemExit(f"{args.server} not found: cargo build --release -p stocksblitz-server")
    host, rport = args.redis.removeprefix("redis://").split("/")[0].split(":")
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-trading-"))
    env = {**os.environ, "REDIS_URL": args.redis}
    env.pop("DATABASE_URL", None)
    log = open(tmp / "server.log", "wb")
    srv = subprocess.Popen(
        [
            args.server,
            "--addr",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(tmp / "data"),
            "--source",
            "redis",
            "--redis-pattern",
            f"{prefix}:*",
            "--redis-prefix",
            prefix,
            "--demo-clock",
            "--identity-addr",
            "off",
            "--backfill-days",
            "0",
            "--log-level",
            "warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    load = None
    try:
        wait(lambda: call(base + "/health"), "the server")
        # Background load: the legacy ticker's universe at ~1,000 ticks/s in all.
        sys.path.insert(0, str(TICKER.parent))
        import legacy_ticker

        n_inst = len(legacy_ticker.build_universe(dt.date.today()))
        rate = 1000 / n_inst
        load = subprocess.Popen(
            [
                sys.executable,
                str(TICKER),
                "--redis",
                args.redis,
                "--prefix",
                f"{prefix}:nifty",
                "--rate",
                f"{rate:.3f}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        key, acc = user(base, "fills@example.com")
        wait(
            lambda: call(base + "/monitor/snapshot?underlying=NIFTY", token=key).get("underlying"),
            "the feed's NIFTY quotes",
        )
        # The traded instrument: a far NIFTY strike the ticker does not publish.
        chain = call(base + "/fo/option-chain?underlying=NIFTY", token=key)
        expiry = chain["expiry"]
        strike = round(chain["spot"] / 50) * 50 + 2000
        near = next(r for r in chain["strikes"] if r["call"] and r["call"]["tradingsymbol"])
        sym = near["call"]["tradingsymbol"].replace(str(int(near["strike"])), str(int(strike)))
        red = Redis(host, int(rport))
        chan = f"{prefix}:nifty:options"

        def tick(price: float) -> None:
            body = {
                "symbol": "NIFTY",
                "token": 99_000_001,
                "tradingsymbol": sym,
                "segment": "NFO-OPT",
                "exchange": "NFO",
                "strike": float(strike),
                "expiry": expiry,
                "type": "CE",
                "lot_size": 65,
                "tick_size": 0.05,
                "price": price,
                "volume": 1000,
                "oi": 1000,
                "ts": int(time.time()),
                "is_mock": False,
            }
            red.publish(chan, json.dumps(body).encode())

        tick(100.0)
        wait(
            lambda: call(base + f"/quote?symbol={sym}", token=key).get("ltp"),
            f"the quote of {sym}",
        )

        # Part 1: quote → fill on the WebSocket.
        from websockets.sync.client import connect

        trades: dict[str, float] = {}
        with connect(base.replace("http", "ws") + f"/orders/stream?token={key}") as ws:
            assert json.loads(ws.recv(timeout=10))["action"] == "auth"

            def reader() -> None:
                try:
                    for raw in ws:
                        m = json.loads(raw)
                        if m["type"] == "trade":
                            trades[m["data"]["order_id"]] = time.perf_counter()
                except Exception:
                    pass

            th = threading.Thread(target=reader, daemon=True)
            th.start()
            lat: dict[str, list[float]] = {"BUY": [], "SELL": []}
            for _ in range(args.fills):
                for side, rest_px, limit, cross in (
                    ("BUY", 100.0, 99.0, 98.95),
                    ("SELL", 100.0, 101.0, 101.05),
                ):
                    tick(rest_px)
                    time.sleep(0.01)
                    oid = call(
                        base + f"/accounts/{acc}/orders",
                        "POST",
                        {
                            "tradingsymbol": sym,
                            "transaction_type": side,
                            "quantity": 65,
                            "order_type": "LIMIT",
                            "price": limit,
                            "product": "NRML",
                        },
                        key,
                    )["data"]["order_id"]
                    t0 = time.perf_counter()
                    tick(cross)
                    wait(lambda oid=oid: oid in trades, f"the fill of {oid}", timeout=10)
                    lat[side].append((trades[oid] - t0) * 1000)
            ws.close()
        pos = call(base + f"/accounts/{acc}/positions", token=key)["data"]
        assert [p["quantity"] for p in pos] == [0], pos  # every BUY matched by its SELL
        all_lat = lat["BUY"] + lat["SELL"]
        print(
            json.dumps(
                {
                    "part": "quote_to_fill_ws",
                    "samples": len(all_lat),
                    "background_ticks_per_s": round(rate * n_inst),
                    "p50_ms": round(statistics.median(all_lat), 3),
                    "p99_ms": round(pct(all_lat, 99), 3),
                    "max_ms": round(max(all_lat), 3),
                }
            ),
            flush=True,
        )

        # Keep the traded quote fresh during the throughput runs.
        stop = threading.Event()

        def keep() -> None:
            while not stop.is_set():
                tick(100.0)
                time.sleep(0.2)

        threading.Thread(target=keep, daemon=True).start()

        # Part 2: placement throughput with wrk, native route and Kite route.
        users = [user(base, f"w{i}@example.com") for i in range(args.connections)]
        results: dict[str, Any] = {}
        if shutil.which("wrk"):
            for family in ("native", "kite"):
                lua = tmp / f"{family}.lua"
                lua.write_text(wrk_script(users, sym, family))
                out = subprocess.run(
                    [
                        "wrk",
                        "-t2",
                        f"-c{args.connections}",
                        f"-d{max(1, round(args.seconds))}s",
                        "--latency",
                        "-s",
                        str(lua),
                        base,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                results[family] = parse_wrk(out)
                print(json.dumps({"part": f"place_wrk_{family}", **results[family]}), flush=True)
            print(
                json.dumps(
                    {
                        "part": "kite_vs_native_wrk",
                        "rps_ratio": round(results["kite"]["rps"] / results["native"]["rps"], 3),
                        "p50_ratio": round(
                            results["kite"]["p50_ms"] / results["native"]["p50_ms"], 3
                        ),
                    }
                ),
                flush=True,
            )
        else:
            print(json.dumps({"part": "place_wrk", "skipped": "wrk not installed"}))

        # Part 3: one client's round trip, pykiteconnect's place_order against the native
        # route with a keep-alive requests session (the same order, interleaved).
        try:
            import requests
            from kiteconnect import KiteConnect
        except ImportError:
            print(json.dumps({"part": "kite_client", "skipped": "kiteconnect not installed"}))
        else:
            k, a = user(base, "kiteclient@example.com")
            kite = KiteConnect(api_key="b", access_token=k, root=base + "/kite")
            sess = requests.Session()
            sess.headers["Authorization"] = f"Bearer {k}"
            tk: list[float] = []
            tn: list[float] = []
            for i in range(args.kite_calls):
                side = "BUY" if i % 2 == 0 else "SELL"
                t0 = time.perf_counter()
                kite.place_order(
                    variety="regular",
                    exchange="NFO",
                    tradingsymbol=sym,
                    transaction_type=side,
                    quantity=65,
                    product="MIS",
                    order_type="MARKET",
                )
                tk.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                r = sess.post(
                    base + f"/accounts/{a}/orders",
                    json={
                        "tradingsymbol": sym,
                        "transaction_type": side,
                        "quantity": 65,
                        "order_type": "MARKET",
                        "product": "MIS",
                    },
                )
                tn.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
            pos = call(base + f"/accounts/{a}/positions", token=k)["data"]
            assert [p["quantity"] for p in pos] == [0], pos
            print(
                json.dumps(
                    {
                        "part": "kite_client_vs_native",
                        "calls_each": args.kite_calls,
                        "kite_p50_ms": round(statistics.median(tk), 3),
                        "native_p50_ms": round(statistics.median(tn), 3),
                        "kite_p99_ms": round(pct(tk, 99), 3),
                        "native_p99_ms": round(pct(tn, 99), 3),
                        "p50_ratio": round(statistics.median(tk) / statistics.median(tn), 3),
                    }
                ),
                flush=True,
            )
        stop.set()
    finally:
        if load is not None:
            load.terminate()
        srv.terminate()
        srv.wait(timeout=20)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def wrk_script(users: list[tuple[str, str]], sym: str, family: str) -> str:
    rows = ",\n".join(f'  {{"{k}", "{a}"}}' for k, a in users)
    if family == "native":
        req = (
            'local path = "/accounts/" .. u[2] .. "/orders"\n'
            f'  local body = \'{{"tradingsymbol":"{sym}","transaction_type":"\' .. side .. '
            '\'","quantity":65,"order_type":"MARKET","product":"MIS"}\'\n'
            '  local headers = {["Authorization"] = "Bearer " .. u[1], '
            '["Content-Type"] = "application/json"}\n'
        )
    else:
        req = (
            'local path = "/kite/orders/regular"\n'
            f'  local body = "exchange=NFO&tradingsymbol={sym}&transaction_type=" .. side .. '
            '"&quantity=65&order_type=MARKET&product=MIS"\n'
            '  local headers = {["Authorization"] = "token b:" .. u[1], '
            '["Content-Type"] = "application/x-www-form-urlencoded", ["X-Kite-Version"] = "3"}\n'
        )
    return f"""
local users = {{
{rows}
}}
local n = 0
local tid = 0
function setup(thread)
  thread:set("tid", tid)
  tid = tid + 1
end
request = function()
  n = n + 1
  local u = users[((n + (tid or 0) * 7) % #users) + 1]
  local side = (math.floor(n / #users) % 2 == 0) and "BUY" or "SELL"
  {req}  return wrk.format("POST", path, headers, body)
end
"""


def parse_wrk(out: str) -> dict[str, Any]:
    def ms(v: str) -> float:
        m = re.fullmatch(r"([\d.]+)(us|ms|s)", v)
        assert m, v
        x = float(m.group(1))
        return {"us": x / 1000, "ms": x, "s": x * 1000}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    assert bad == 0, f"{bad} placements were not answered 200:\n{out}"
    return {"rps": rps, "p50_ms": round(p50, 3), "p99_ms": round(p99, 3), "non_2xx": bad}


if __name__ == "__main__":
    main()
