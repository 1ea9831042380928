"""The "what users would otherwise run" reference for `/indicators/current`: a minimal FastAPI
app that reads the same 1-minute bars from the same SQLite store, rolls them up with numpy and
computes with TA-Lib — the same semantics (the forming bar is whatever the store holds, the same
warm-up), so bench_http.py can compare requests/s and latency side by side.

    SB_DB=<data-dir>/stocksblitz.db uvicorn fastapi_ref:app --app-dir bench --port 9000
"""

from __future__ import annotations

import os
import sqlite3
import threading

import numpy as np
import talib
from fastapi import FastAPI, HTTPException

DB = os.environ.get("SB_DB", "stocksblitz-data/stocksblitz.db")
IST = 19_800
OPEN = 9 * 3600 + 15 * 60
MINUTES = {"1m": 1, "3m": 3, "5m": 5, "10m": 10, "15m": 15, "30m": 30, "1h": 60}
WARMUP = 400  # bars before the value (what the server uses for RSI/MACD is of this order)

app = FastAPI()
_local = threading.local()


def db() -> sqlite3.Connection:
    con = getattr(_local, "con", None)
    if con is None:
        con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, check_same_thread=False)
        _local.con = con
    return con


def rollup(rows: list[tuple], minutes: int) -> dict[str, np.ndarray]:
    arr = np.array(rows, dtype=float)[::-1]  # oldest first
    start = arr[:, 0].astype(np.int64)
    local = start + IST
    day = local // 86_400 * 86_400
    bucket = day + OPEN + (local - day - OPEN) // (minutes * 60) * (minutes * 60)
    keys, first = np.unique(bucket, return_index=True)
    last = np.r_[first[1:], len(bucket)] - 1
    return {
        "open": arr[first, 1],
        "high": np.maximum.reduceat(arr[:, 2], first),
        "low": np.minimum.reduceat(arr[:, 3], first),
        "close": arr[last, 4],
        "volume": np.add.reduceat(arr[:, 5], first),
        "time": keys - IST,
    }


def value(name: str, b: dict[str, np.ndarray]) -> object:
    parts = name.upper().split("_")
    c = b["close"]
    if parts[0] == "RSI":
        v = talib.RSI(c, int(parts[1]) if len(parts) > 1 else 14)[-1]
    elif parts[0] == "SMA":
        v = talib.SMA(c, int(parts[1]) if len(parts) > 1 else 20)[-1]
    elif parts[0] == "EMA":
        v = talib.EMA(c, int(parts[1]) if len(parts) > 1 else 20)[-1]
    elif parts[0] == "MACD":
        f, s, g = (int(x) for x in parts[1:4]) if len(parts) > 3 else (12, 26, 9)
        m, sig, h = talib.MACD(c, f, s, g)
        return {
            k: (None if np.isnan(x[-1]) else float(x[-1]))
            for k, x in (("macd", m), ("signal", sig), ("histogram", h))
        }
    else:
        raise HTTPException(400, f"unknown indicator {name}")
    return None if np.isnan(v) else float(v)


@app.get("/indicators/current")
def current(symbol: str, timeframe: str, indicators: str) -> dict:
    minutes = MINUTES.get(timeframe)
    if minutes is None:
        raise HTTPException(400, f"unknown timeframe {timeframe}")
    rows = (
        db()
        .execute(
            "SELECT start_ts, open, high, low, close, volume FROM bars "
            "WHERE instrument = ? AND timeframe = '1m' ORDER BY start_ts DESC LIMIT ?",
            (symbol, (WARMUP + 1) * minutes),
        )
        .fetchall()
    )
    if not rows:
        return {"status": "success", "symbol": symbol, "indicators": {}, "reason": "no_data"}
    bars = rollup(rows, minutes)
    return {
        "status": "success",
        "symbol": symbol,
        "timeframe": timeframe,
        "candle_time": int(bars["time"][-1]),
        "indicators": {name: value(name, bars) for name in indicators.split(",")},
    }
