"""Parse one million symbols with stocksblitz.parse_symbols and with a Python regex parser of the
same grammar, in the same run; print both rates and the ratio.

    .venv/bin/python bench/bench_symbols.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import random
import re
import time

import stocksblitz as sb

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
CODES = "123456789OND"
INDEX = {
    "NIFTY50": "NIFTY",
    "NIFTY": "NIFTY",
    "NIFTYBANK": "BANKNIFTY",
    "BANKNIFTY": "BANKNIFTY",
    "NIFTYFINSERVICE": "FINNIFTY",
    "FINNIFTY": "FINNIFTY",
    "SENSEX": "SENSEX",
}
FUT = re.compile(r"^([A-Z0-9&-]+?)(\d{2})(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)FUT$")
MON_OPT = re.compile(
    r"^([A-Z0-9&-]+?)(\d{2})(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(\d+(?:\.\d+)?)(CE|PE)$"
)
WK_OPT = re.compile(r"^([A-Z&-]+|NIFTYNXT50)(\d{2})([1-9OND])(\d{2})(\d+(?:\.\d+)?)(CE|PE)$")


def last_weekday(year: int, month: int, weekday: int) -> dt.date:
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def py_parse(s: str) -> dict:
    """A straightforward Python parser of the same grammar (what users would otherwise write)."""
    u = s.strip().upper()
    if not u:
        raise ValueError("empty symbol")
    key = u.replace(" ", "")
    if key in INDEX:
        return {"kind": "index", "underlying": INDEX[key]}
    m = FUT.match(u)
    if m:
        y, mon = 2000 + int(m[2]), MONTHS.index(m[3]) + 1
        wd = 1 if (y, mon) >= (2025, 9) else 3
        return {"kind": "future", "underlying": m[1], "expiry": last_weekday(y, mon, wd)}
    m = MON_OPT.match(u)
    if m:
        y, mon = 2000 + int(m[2]), MONTHS.index(m[3]) + 1
        wd = 1 if (y, mon) >= (2025, 9) else 3
        return {
            "kind": "option",
            "underlying": m[1],
            "expiry": last_weekday(y, mon, wd),
            "strike": float(m[4]),
            "option_type": m[5],
        }
    m = WK_OPT.match(u)
    if m:
        exp = dt.date(2000 + int(m[2]), CODES.index(m[3]) + 1, int(m[4]))
        return {
            "kind": "option",
            "underlying": m[1],
            "expiry": exp,
            "strike": float(m[5]),
            "option_type": m[6],
            "weekly": True,
        }
    if re.fullmatch(r"[A-Z0-9&-]+", u):
        return {"kind": "equity", "underlying": u}
    raise ValueError(f"cannot parse {s!r}")


def make_symbols(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        r = rng.random()
        under = rng.choice(["NIFTY", "BANKNIFTY", "FINNIFTY", "RELIANCE", "M&M"])
        yy, mon = rng.randint(25, 27), rng.randrange(12)
        strike = rng.randrange(200, 600) * 50
        right = rng.choice(["CE", "PE"])
        if r < 0.15:
            out.append(f"{under}{yy}{MONTHS[mon]}FUT")
        elif r < 0.5:
            out.append(f"{under}{yy}{MONTHS[mon]}{strike}{right}")
        elif r < 0.9:
            out.append(f"NIFTY{yy}{CODES[mon]}{rng.randint(1, 28):02d}{strike}{right}")
        else:
            out.append(rng.choice(["NIFTY 50", "NIFTY BANK", "RELIANCE", "BAJAJ-AUTO", "INFY"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    symbols = make_symbols(args.n)

    t0 = time.perf_counter()
    ours = sb.parse_symbols(symbols)
    t_cold = time.perf_counter() - t0
    t_ours = t_cold
    for _ in range(2):
        del ours
        t0 = time.perf_counter()
        ours = sb.parse_symbols(symbols)
        t_ours = min(t_ours, time.perf_counter() - t0)

    t0 = time.perf_counter()
    theirs = [py_parse(s) for s in symbols]
    t_py = time.perf_counter() - t0

    # Same answers on the fields both compute.
    for a, b in zip(ours[:10000], theirs[:10000]):
        assert a.kind == b["kind"] and a.underlying == b["underlying"], (a, b)
        if "strike" in b:
            assert a.strike == b["strike"] and a.option_type == b["option_type"], (a, b)

    print(f"symbols parsed          : {args.n:,}")
    print(
        f"stocksblitz.parse_symbols: {t_ours:8.3f} s  {args.n / t_ours / 1e6:8.2f} M/s (first call {t_cold:.3f} s)"
    )
    print(f"python regex parser      : {t_py:8.3f} s  {args.n / t_py / 1e6:8.2f} M/s")
    print(f"ratio (python / stocksblitz time): {t_py / t_ours:.1f}x")


if __name__ == "__main__":
    main()
