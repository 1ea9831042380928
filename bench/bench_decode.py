"""Decode + aggregate throughput of legacy option payloads: the Rust market crate (one thread)
against a straightforward Python implementation (json + dict aggregation) on the same payload
file, in one run; prints both rates and the ratio.

    python bench/bench_decode.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_payloads(n: int) -> list[str]:
    out = []
    for i in range(n):
        strike = 24_000 + (i % 40) * 50
        right = "CE" if i % 2 == 0 else "PE"
        out.append(
            json.dumps(
                {
                    "symbol": "NIFTY",
                    "token": 10_000 + i % 80,
                    "tradingsymbol": f"NIFTY25N11{strike}{right}",
                    "segment": "NFO-OPT",
                    "exchange": "NFO",
                    "strike": float(strike),
                    "expiry": "2025-11-11",
                    "type": right,
                    "lot_size": 75,
                    "tick_size": 0.05,
                    "price": round(100 + (i % 97) * 0.05, 2),
                    "volume": i * 3,
                    "oi": 1_234_500,
                    "iv": 0.0,
                    "delta": 0.0,
                    "gamma": 0.0,
                    "theta": 0.0,
                    "vega": 0.0,
                    "ts": 1_762_228_000 + i // 80,
                    "is_mock": False,
                }
            )
        )
    return out


def python_aggregate(lines: list[str]) -> int:
    """What a Python service would do: json.loads, then 1-minute OHLCV per tradingsymbol with
    volume from cumulative deltas."""
    bars: dict[tuple[str, int], list[float]] = {}
    last_cum: dict[str, int] = {}
    for line in lines:
        d = json.loads(line)
        price = float(d["price"])
        if price < 0:
            continue
        sym = d["tradingsymbol"]
        start = int(d["ts"]) // 60 * 60
        cum = int(d.get("volume") or 0)
        prev = last_cum.get(sym)
        vol = 0 if prev is None or cum < prev else cum - prev
        last_cum[sym] = cum
        b = bars.get((sym, start))
        if b is None:
            bars[(sym, start)] = [price, price, price, price, vol]
        else:
            b[1] = max(b[1], price)
            b[2] = min(b[2], price)
            b[3] = price
            b[4] += vol
    return len(bars)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    lines = make_payloads(args.n)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("\n".join(lines))
        path = f.name
    try:
        env = dict(os.environ)
        out = subprocess.run(
            [
                "cargo",
                "run",
                "-q",
                "--release",
                "-p",
                "stocksblitz-market",
                "--example",
                "decode_file",
                "--",
                path,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        rust = json.loads(out.stdout.strip().splitlines()[-1])
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            nbars = python_aggregate(lines)
            best = min(best, time.perf_counter() - t0)
        py_rate = args.n / best
        print(
            f"payloads                 : {args.n:,} legacy option ticks ({os.path.getsize(path) / args.n:.0f} bytes each)"
        )
        print(
            f"rust decode+aggregate    : {rust['per_second']:>12,.0f} ticks/s ({rust['bars']} bars, 1 thread)"
        )
        print(f"python json+dict         : {py_rate:>12,.0f} ticks/s ({nbars} bars)")
        print(f"ratio (rust / python)    : {rust['per_second'] / py_rate:.1f}x")
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
