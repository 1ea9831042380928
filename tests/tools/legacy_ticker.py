#!/usr/bin/env python3
"""Publish ticks to Redis in the exact JSON formats of the old ticker service.

An independent feed for testing ingestion: it speaks the legacy payloads documented in
shared/spec/market-data.md, with no dependency beyond the standard library (RESP over TCP).

  legacy_ticker.py                         # NIFTY chain, ~1 tick/s per instrument, until Ctrl+C
  legacy_ticker.py --duration 10           # stop after 10 s
  legacy_ticker.py --count 200000 --rate 0 # as fast as possible, pipelined, then print throughput
  legacy_ticker.py --bad 0.05              # 5% malformed payloads mixed in (counted, listed at exit)
  legacy_ticker.py --rate 0 --pool 10000 --count 1000000   # load test: republish pre-encoded ticks

Prints one JSON line at exit: {"published": N, "bad": B, "seconds": S, "per_second": R, ...}.
"""

import argparse
import calendar
import csv
import datetime as dt
import json
import math
import os
import random
import socket
import sys
import time
from urllib.parse import urlparse

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
WEEKLY_MONTH_CODE = "123456789OND"
UNDERLYINGS = {  # name, index display name, index token, level, strike step, lot size
    "NIFTY": ("NIFTY 50", 256265, 24500.0, 50, 75),
    "BANKNIFTY": ("NIFTY BANK", 260105, 52000.0, 100, 35),
}


def load_holidays():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "data", "nse-holidays.csv")
    days = set()
    try:
        with open(path) as f:
            for row in csv.reader(line for line in f if not line.startswith("#")):
                if row and row[0] != "date":
                    days.add(dt.date.fromisoformat(row[0]))
    except OSError:
        pass
    return days


HOLIDAYS = load_holidays()


def trading_day_on_or_before(day):
    while day.weekday() >= 5 or day in HOLIDAYS:
        day -= dt.timedelta(days=1)
    return day


def last_weekday_of_month(year, month, weekday):
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def monthly_expiry(year, month):
    # NSE: Tuesday for contracts expiring from 2025-09-01, Thursday before.
    tuesday = last_weekday_of_month(year, month, 1)
    weekday = 1 if tuesday >= dt.date(2025, 9, 1) else 3
    return trading_day_on_or_before(last_weekday_of_month(year, month, weekday))


def listed_expiries(today):
    monthly = []
    y, m = today.year, today.month
    while len(monthly) < 2:
        e = monthly_expiry(y, m)
        if e >= today:
            monthly.append(e)
        m += 1
        if m == 13:
            y, m = y + 1, 1
    weekly = []
    d = today
    while len(weekly) < 2:
        if d.weekday() == 1:
            weekly.append(trading_day_on_or_before(d))
        d += dt.timedelta(days=1)
    return weekly, monthly


def option_symbol(under, expiry, strike, right, monthly_set):
    yy = expiry.year % 100
    if expiry in monthly_set:
        return f"{under}{yy:02d}{MONTHS[expiry.month - 1]}{int(strike)}{right}"
    return (
        f"{under}{yy:02d}{WEEKLY_MONTH_CODE[expiry.month - 1]}{expiry.day:02d}{int(strike)}{right}"
    )


def build_universe(today):
    weekly, monthly = listed_expiries(today)
    monthly_set = set(monthly)
    instruments = []
    token = 10_000_000
    for under, (index_name, index_token, level, step, lot) in UNDERLYINGS.items():
        instruments.append(
            {
                "kind": "index",
                "under": under,
                "symbol": index_name,
                "token": index_token,
                "price": level,
            }
        )
        for e in monthly:
            token += 1
            instruments.append(
                {
                    "kind": "FUT",
                    "under": under,
                    "token": token,
                    "expiry": e,
                    "tradingsymbol": f"{under}{e.year % 100:02d}{MONTHS[e.month - 1]}FUT",
                    "price": level * 1.004,
                    "lot": lot,
                }
            )
        atm = round(level / step) * step
        expiries = (weekly if under == "NIFTY" else []) + monthly[:1]
        for e in expiries:
            for k in range(-5, 6):
                strike = atm + k * step
                for right in ("CE", "PE"):
                    token += 1
                    intrinsic = max(0.0, (level - strike) if right == "CE" else (strike - level))
                    instruments.append(
                        {
                            "kind": right,
                            "under": under,
                            "token": token,
                            "expiry": e,
                            "strike": float(strike),
                            "lot": lot,
                            "tradingsymbol": option_symbol(under, e, strike, right, monthly_set),
                            "price": round(intrinsic + 40 + 5 * abs(k), 2),
                        }
                    )
    return instruments


def payload(inst, ts, cum_volume, oi):
    if inst["kind"] == "index":
        return {
            "symbol": inst["symbol"],
            "token": inst["token"],
            "tradingsymbol": inst["symbol"],
            "segment": "INDICES",
            "exchange": "NSE",
            "strike": 0.0,
            "expiry": None,
            "type": "EQ",
            "lot_size": 0,
            "tick_size": 0.05,
            "price": round(inst["price"], 2),
            "volume": 0,
            "oi": 0,
            "iv": 0.0,
            "delta": 0.0,
            "gamma": 0.0,
            "theta": 0.0,
            "vega": 0.0,
            "ts": ts,
            "is_mock": False,
        }
    fut = inst["kind"] == "FUT"
    return {
        "symbol": inst["under"],
        "token": inst["token"],
        "tradingsymbol": inst["tradingsymbol"],
        "segment": "NFO-FUT" if fut else "NFO-OPT",
        "exchange": "NFO",
        "strike": 0.0 if fut else inst["strike"],
        "expiry": inst["expiry"].isoformat(),
        "type": inst["kind"],
        "lot_size": inst["lot"],
        "tick_size": 0.05,
        "price": round(inst["price"], 2),
        "volume": cum_volume,
        "oi": oi,
        "iv": 0.0,
        "delta": 0.0,
        "gamma": 0.0,
        "theta": 0.0,
        "vega": 0.0,
        "ts": ts,
        "is_mock": False,
    }


BAD_PAYLOADS = [
    b"not json at all",
    b'{"symbol": "NIFTY", "token": 1',
    json.dumps({"symbol": "NIFTY", "type": "CE", "ts": 1}).encode(),
    json.dumps(
        {"tradingsymbol": "NIFTY25XYZ99CE", "type": "CE", "price": 10.0, "ts": 1762246980}
    ).encode(),
    json.dumps(
        {"tradingsymbol": "NIFTY25N0424500PE", "type": "ZZ", "price": 10.0, "ts": 1762246980}
    ).encode(),
    b'{"tradingsymbol": "NIFTY25N0424500PE", "type": "PE", "price": NaN, "ts": 1762246980}',
    json.dumps(
        {"tradingsymbol": "NIFTY25N0424500PE", "type": "PE", "price": -5.0, "ts": 1762246980}
    ).encode(),
    json.dumps(
        {"tradingsymbol": "NIFTY25N0424500PE", "type": "PE", "price": 5.0, "ts": 99999999999999}
    ).encode(),
    json.dumps([1, 2, 3]).encode(),
    b"",
    ('{"pad": "' + "x" * 1_000_000 + '"}').encode(),
]


class Redis:
    def __init__(self, url):
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pending = 0
        self.file = self.sock.makefile("rb")
        if u.password:
            self.command(b"AUTH", u.password.encode())

    @staticmethod
    def encode(*parts):
        out = [b"*%d\r\n" % len(parts)]
        for p in parts:
            out.append(b"$%d\r\n%s\r\n" % (len(p), p))
        return b"".join(out)

    def queue(self, *parts):
        self.buf += self.encode(*parts)
        self.pending += 1

    def flush(self):
        if self.buf:
            self.sock.sendall(self.buf)
            self.buf.clear()
        replies = []
        for _ in range(self.pending):
            line = self.file.readline()
            if line[:1] == b"-":
                raise RuntimeError(line.decode().strip())
            replies.append(line)
        self.pending = 0
        return replies

    def command(self, *parts):
        self.queue(*parts)
        return self.flush()[0]


def blast(args):
    rng = random.Random(args.seed)
    universe = build_universe(dt.datetime.now(IST).date())
    ts = int(time.time())
    bodies = []
    for n in range(args.pool):
        inst = universe[n % len(universe)]
        inst["price"] = max(0.05, inst["price"] * (1 + rng.uniform(-0.0012, 0.0012)))
        bodies.append(json.dumps(payload(inst, ts, n, 1000 + n)).encode())
    r = Redis(args.redis)
    ch = f"{args.prefix}:options".encode()
    total = args.count or len(bodies)
    started = time.monotonic()
    deadline = started + args.duration if args.duration > 0 else math.inf
    published = 0
    while published < total and time.monotonic() < deadline:
        r.queue(b"PUBLISH", ch, bodies[published % len(bodies)])
        published += 1
        if r.pending >= args.batch:
            r.flush()
    r.flush()
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "published": published,
                "bad": 0,
                "instruments": len(universe),
                "seconds": round(seconds, 3),
                "per_second": round(published / seconds, 1),
            }
        )
    )
    return 0


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    ap.add_argument(
        "--prefix", default="ticker:nifty", help="channel prefix (default ticker:nifty)"
    )
    ap.add_argument(
        "--rate",
        type=float,
        default=1.0,
        help="ticks per second per instrument; 0 = as fast as possible",
    )
    ap.add_argument("--duration", type=float, default=0.0, help="seconds to run (0 = forever)")
    ap.add_argument("--count", type=int, default=0, help="stop after this many messages")
    ap.add_argument("--bad", type=float, default=0.0, help="fraction of malformed payloads")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--batch", type=int, default=256, help="pipeline depth when --rate 0")
    ap.add_argument(
        "--pool",
        type=int,
        default=0,
        help="with --rate 0: serialise this many ticks once, then republish them in a loop "
        "(measures the consumer, not this script's JSON encoding)",
    )
    args = ap.parse_args()
    if args.pool and args.rate == 0:
        return blast(args)

    rng = random.Random(args.seed)
    today = dt.datetime.now(IST).date()
    universe = build_universe(today)
    volumes = {i["token"]: 0 for i in universe}
    ois = {i["token"]: rng.randint(10_000, 5_000_000) for i in universe}
    index_by_under = {i["under"]: i for i in universe if i["kind"] == "index"}
    day_ohlc = {u: [i["price"]] * 3 for u, i in index_by_under.items()}
    r = Redis(args.redis)
    opt_ch = f"{args.prefix}:options".encode()
    und_ch = f"{args.prefix}:underlying".encode()

    published = bad = 0
    bad_kinds = {}
    started = time.monotonic()
    next_underlying = started
    deadline = started + args.duration if args.duration > 0 else math.inf
    period = 1.0 / args.rate if args.rate > 0 else 0.0
    try:
        while time.monotonic() < deadline and (args.count == 0 or published < args.count):
            cycle_start = time.monotonic()
            ts = int(time.time())
            for inst in universe:
                inst["price"] = max(0.05, inst["price"] * (1 + rng.uniform(-0.0012, 0.0012)))
                if inst["kind"] != "index":
                    volumes[inst["token"]] += rng.randint(0, 3) * inst["lot"]
                    ois[inst["token"]] = max(
                        0, ois[inst["token"]] + rng.randint(-2, 2) * inst["lot"]
                    )
                if args.bad and rng.random() < args.bad:
                    k = rng.randrange(len(BAD_PAYLOADS))
                    r.queue(b"PUBLISH", opt_ch, BAD_PAYLOADS[k])
                    bad += 1
                    bad_kinds[k] = bad_kinds.get(k, 0) + 1
                else:
                    body = json.dumps(payload(inst, ts, volumes[inst["token"]], ois[inst["token"]]))
                    r.queue(b"PUBLISH", opt_ch, body.encode())
                published += 1
                if period == 0.0 and r.pending >= args.batch:
                    r.flush()
                if args.count and published >= args.count:
                    break
            now = time.monotonic()
            if now >= next_underlying:
                for under, idx in index_by_under.items():
                    o, h, l = day_ohlc[under]
                    c = idx["price"]
                    day_ohlc[under] = [o, max(h, c), min(l, c)]
                    body = {
                        "symbol": under,
                        "open": round(o, 2),
                        "high": round(max(h, c), 2),
                        "low": round(min(l, c), 2),
                        "close": round(c, 2),
                        "volume": 0,
                        "ts": ts,
                    }
                    r.queue(b"PUBLISH", und_ch, json.dumps(body).encode())
                    published += 1
                next_underlying = now + 1.0
            r.flush()
            if period:
                sleep = period - (time.monotonic() - cycle_start)
                if sleep > 0:
                    time.sleep(min(sleep, max(0.0, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass
    r.flush()
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "published": published,
                "bad": bad,
                "bad_kinds": {str(k): v for k, v in sorted(bad_kinds.items())},
                "instruments": len(universe),
                "seconds": round(seconds, 3),
                "per_second": round(published / seconds, 1) if seconds else None,
                "tradingsymbols": [i.get("tradingsymbol", i.get("symbol")) for i in universe[:6]],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
