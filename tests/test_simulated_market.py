"""The built-in simulator as a new user meets it: one continuous path (history that ends where
the live ticks begin, today's session filled up to now, a restart that continues where the
store left off) and a book on every quote.

The seam bound: a 1-minute close-to-close move of an index never exceeds 6 standard deviations
of a normal 1-minute move (annual volatility times √(60 s / one trading year of 252 sessions of
6¼ h)): 0.25 % for NIFTY's 13 %. The old simulator restarted every walk at the seed level, a
jump of 1.7 % (25,563.7 → 25,997.3) in one bar.
"""

from __future__ import annotations

import datetime as dt
import math
import signal
from pathlib import Path
from typing import Any

import pytest

from conftest import IST, ServerProcess, http_call, wait_for

ADMIN = {"email": "sim-admin@example.com", "password": "Sim-Admin-Password-1!"}
ENV = {"STOCKSBLITZ_ADMIN_EMAIL": ADMIN["email"], "STOCKSBLITZ_ADMIN_PASSWORD": ADMIN["password"]}
ARGS = [
    "--demo-clock",
    "--demo-speed",
    "6",
    "--backfill-days",
    "1",
    "--tick-interval-ms",
    "250",
    "--bar-grace-ms",
    "0",
]
VOL = {"NIFTY 50": 0.13, "NIFTY BANK": 0.15}
SESSION_SECONDS_PER_YEAR = 252 * 22_500


def bound(vol: float) -> float:
    return 6 * vol * math.sqrt(60 / SESSION_SECONDS_PER_YEAR)


def admin_token(srv: ServerProcess) -> str:
    status, _, body = http_call(
        srv.url + "/v1/auth/login", "POST", {"email": ADMIN["email"], "password": ADMIN["password"]}
    )
    assert status == 200, body
    return str(body["access_token"])


def clock(srv: ServerProcess) -> dt.datetime:
    """The exchange clock's minute (the demo clock's)."""
    _, _, c = http_call(srv.url + "/clock")
    return dt.datetime.fromtimestamp(c["now_ms"] // 60_000 * 60, IST)


def minutes(srv: ServerProcess, symbol: str, since: dt.datetime) -> list[dict[str, Any]]:
    sym = symbol.replace(" ", "%20")
    status, _, body = http_call(
        srv.url + f"/candles?symbol={sym}&timeframe=1m&limit=5000&from={int(since.timestamp())}"
    )
    assert status == 200, body
    return list(body["candles"])


def session_minutes(day: dt.date, upto: dt.datetime) -> list[int]:
    t = dt.datetime.combine(day, dt.time(9, 15), IST)
    end = min(dt.datetime.combine(day, dt.time(15, 30), IST), upto)
    out = []
    while t < end:
        out.append(int(t.timestamp()))
        t += dt.timedelta(minutes=1)
    return out


def check_path(srv: ServerProcess, since: dt.datetime, now: dt.datetime, days: list[dt.date]):
    """Every session minute of `days` up to `now`'s minute is there, and no close jumps."""
    for symbol, vol in VOL.items():
        bars = minutes(srv, symbol, since)
        have = [b["time"] for b in bars]
        want = [m for d in days for m in session_minutes(d, now)]
        missing = sorted(set(want) - set(have))
        assert not missing, f"{symbol}: {len(missing)} minutes missing, first {missing[:5]}"
        closes = [b["close"] for b in bars if b["time"] in set(want)]
        worst = max(abs(math.log(b / a)) for a, b in zip(closes, closes[1:]))
        assert worst < bound(vol), f"{symbol}: a 1-minute move of {worst:.4%}"
    return bars


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seam") / "data"


def test_history_ends_where_live_begins_and_a_restart_continues(data_dir: Path) -> None:
    srv = ServerProcess(data_dir, ARGS, env=ENV)
    try:
        srv.wait_healthy()
        srv.wait_backfilled(timeout=180)
        start = clock(srv)
        today = start.date()
        # The previous session is back-filled and today's begins where it ended.
        prev = today - dt.timedelta(days=1)
        while True:
            _, _, c = http_call(srv.url + f"/calendar/status?date={prev}")
            if c["is_trading_day"]:
                break
            prev -= dt.timedelta(days=1)
        since = dt.datetime.combine(prev, dt.time(9, 15), IST)
        wait_for(lambda: len(minutes(srv, "NIFTY 50", start)) >= 2, timeout=90, what="live bars")
        check_path(srv, since, clock(srv), [prev, today])

        # Started mid-session: jump the demo clock to 12:35; the skipped minutes are walked
        # and stored, live ticks go on from there.
        tok = admin_token(srv)
        before = wait_for(lambda: http_call(srv.url + "/health")[2]["ingest"]["backfill"])
        target = f"{today} 12:35:00"
        status, _, body = http_call(srv.url + "/admin/clock", "POST", {"to": target}, token=tok)
        assert status == 200, body

        def caught_up() -> bool:
            b = http_call(srv.url + "/health")[2]["ingest"]["backfill"]
            return bool(
                b["minutes_total"] > before["minutes_total"]
                and b["minutes_written"] == b["minutes_total"]
            )

        wait_for(caught_up, timeout=120, what="the skipped minutes written")
        mid = clock(srv)
        assert mid.time() >= dt.time(12, 35)
        wait_for(
            lambda: any(b["time"] >= mid.timestamp() - 60 for b in minutes(srv, "NIFTY 50", mid)),
            timeout=90,
            what="a live bar after the jump",
        )
        check_path(srv, since, clock(srv), [prev, today])
        # Today's bars are all there from 09:15: the 5-minute bars too.
        _, _, five = http_call(
            srv.url
            + f"/candles?symbol=NIFTY%2050&timeframe=5m&limit=500&from={int(dt.datetime.combine(today, dt.time(9, 15), IST).timestamp())}"
        )
        assert five["candles"][0]["time"] == int(
            dt.datetime.combine(today, dt.time(9, 15), IST).timestamp()
        )
    finally:
        code = srv.proc.poll()
        if code is None:
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait()
        srv.stop()

    # kill -9 above; a restart on the same data continues from the stored prices, and the
    # minute in progress at the kill is walked again.
    again = ServerProcess(data_dir, ARGS, env=ENV)
    try:
        again.wait_healthy()
        again.wait_backfilled(timeout=120)
        resumed = clock(again)
        wait_for(
            lambda: any(
                b["time"] > resumed.timestamp() for b in minutes(again, "NIFTY 50", resumed)
            ),
            timeout=90,
            what="a live bar after the restart",
        )
        check_path(again, since, clock(again), [prev, today])
    finally:
        again.stop()


def test_every_quote_has_a_book(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", ["--demo-clock", "--tick-interval-ms", "250"])
    try:
        srv.wait_healthy()
        srv.wait_quotes("NIFTY")
        _, _, exp = http_call(srv.url + "/fo/expiries?underlying=NIFTY")
        _, _, chain = http_call(
            srv.url + f"/fo/option-chain?underlying=NIFTY&expiry={exp['monthly'][0]}"
        )
        spot = chain["spot"]
        atm = min(chain["strikes"], key=lambda r: abs(r["strike"] - spot))
        checked = 0
        for row in chain["strikes"]:
            for q in (row["call"], row["put"]):
                if q is None:
                    continue
                lot = 65
                assert q["book"] == "top"
                assert q["ask"] is not None and q["ask"] >= 0.05
                ticks = round(q["ask"] / 0.05, 6)
                assert ticks == int(ticks), q
                if q["bid"] is None:  # worth less than a tick: only the minimum offer
                    assert q["ask"] == 0.05, q
                    continue
                assert q["bid"] < q["ask"] and q["bid_qty"] % lot == 0 and q["ask_qty"] % lot == 0
                assert q["ltp"] in (q["bid"], q["ask"]), q
                assert q["last_quantity"] % lot == 0
                spread = round((q["ask"] - q["bid"]) / 0.05)
                if row is atm:
                    assert spread <= 2, q
                checked += 1
        assert checked >= 30
        # The future: one or two ticks wide; Kite's depth carries the sizes.
        fut = next(iter(http_call(srv.url + "/monitor/snapshot?underlying=NIFTY")[2]["futures"]))
        _, _, q = http_call(srv.url + f"/quote?symbol={fut}")
        assert q["book"] == "top" and 1 <= round((q["ask"] - q["bid"]) / 0.05) <= 2, q
        # The index does not trade: no book, and the quote says the book is unknown.
        _, _, idx = http_call(srv.url + "/quote?symbol=NIFTY%2050")
        assert (idx["bid"], idx["ask"], idx["book"]) == (None, None, "unknown")
    finally:
        srv.stop()
