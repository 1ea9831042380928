"""Time every indicator TA-Lib also has, on the same 1,000,000-bar arrays, stocksblitz.ta against
talib in one run; print a table of times and ratios (ours / TA-Lib; < 1 means faster). Also the
Python call overhead on a 1,000-element array.

    python bench/bench_ta.py [--n 1000000] [--repeat 5]

Run it against a release build (maturin develop --release).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import talib

import stocksblitz.ta as ta


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    c = 100 + np.cumsum(rng.normal(0, 0.5, args.n))
    o = np.concatenate([[c[0]], c[:-1]])
    h = np.maximum(o, c) + np.abs(rng.normal(0, 0.3, args.n))
    lo = np.minimum(o, c) - np.abs(rng.normal(0, 0.3, args.n))
    v = rng.integers(100, 10_000, args.n).astype(np.float64)

    pairs = [
        ("RSI", lambda: ta.rsi(c), lambda: talib.RSI(c, 14)),
        ("STOCH", lambda: ta.stoch(h, lo, c), lambda: talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)),
        ("MACD", lambda: ta.macd(c), lambda: talib.MACD(c, 12, 26, 9)),
        ("CCI", lambda: ta.cci(h, lo, c), lambda: talib.CCI(h, lo, c, 20)),
        ("MOM", lambda: ta.mom(c), lambda: talib.MOM(c, 10)),
        ("ROC", lambda: ta.roc(c), lambda: talib.ROC(c, 12)),
        ("WILLR", lambda: ta.willr(h, lo, c), lambda: talib.WILLR(h, lo, c, 14)),
        ("PPO", lambda: ta.ppo(c), lambda: talib.PPO(c, 12, 26, 0)),
        ("SMA", lambda: ta.sma(c), lambda: talib.SMA(c, 20)),
        ("EMA", lambda: ta.ema(c), lambda: talib.EMA(c, 20)),
        ("WMA", lambda: ta.wma(c), lambda: talib.WMA(c, 20)),
        ("DEMA", lambda: ta.dema(c), lambda: talib.DEMA(c, 20)),
        ("TEMA", lambda: ta.tema(c), lambda: talib.TEMA(c, 20)),
        ("KAMA", lambda: ta.kama(c), lambda: talib.KAMA(c, 10)),
        ("MAMA", lambda: ta.mama(c), lambda: talib.MAMA(c, 0.5, 0.05)),
        ("T3", lambda: ta.t3(c), lambda: talib.T3(c, 5, 0.7)),
        ("ATR", lambda: ta.atr(h, lo, c), lambda: talib.ATR(h, lo, c, 14)),
        ("NATR", lambda: ta.natr(h, lo, c), lambda: talib.NATR(h, lo, c, 14)),
        ("BBANDS", lambda: ta.bbands(c), lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0)),
        ("OBV", lambda: ta.obv(c, v), lambda: talib.OBV(c, v)),
        ("AD", lambda: ta.ad(h, lo, c, v), lambda: talib.AD(h, lo, c, v)),
        (
            "ADX",
            lambda: ta.adx(h, lo, c),
            lambda: (
                talib.ADX(h, lo, c, 14),
                talib.PLUS_DI(h, lo, c, 14),
                talib.MINUS_DI(h, lo, c, 14),
            ),
        ),
        ("MFI", lambda: ta.mfi(h, lo, c, v), lambda: talib.MFI(h, lo, c, v, 14)),
        ("PSAR", lambda: ta.psar(h, lo), lambda: talib.SAR(h, lo, 0.02, 0.2)),
        (
            "AROON",
            lambda: ta.aroon(h, lo),
            lambda: (talib.AROON(h, lo, 25), talib.AROONOSC(h, lo, 25)),
        ),
    ]
    print(f"{args.n:,} bars, best of {args.repeat}; ratio = stocksblitz / TA-Lib (lower is better)")
    print(f"{'indicator':<10} {'stocksblitz ms':>15} {'TA-Lib ms':>10} {'ratio':>7}")
    ratios = []
    for name, ours, theirs in pairs:
        t_ours = best(ours, args.repeat)
        t_theirs = best(theirs, args.repeat)
        r = t_ours / t_theirs
        ratios.append(r)
        print(f"{name:<10} {t_ours * 1e3:15.2f} {t_theirs * 1e3:10.2f} {r:7.2f}")
    print(
        f"median ratio {statistics.median(ratios):.2f}; slowest {max(ratios):.2f}; "
        f"{sum(r <= 1.0 for r in ratios)}/{len(ratios)} at or below TA-Lib"
    )

    small = c[:1000].copy()
    n_calls = 20_000
    for label, fn in [
        ("ta.rsi(1k)", lambda: ta.rsi(small)),
        ("talib.RSI(1k)", lambda: talib.RSI(small, 14)),
        ("ta.sma(1k)", lambda: ta.sma(small)),
        ("talib.SMA(1k)", lambda: talib.SMA(small, 20)),
    ]:
        t0 = time.perf_counter()
        for _ in range(n_calls):
            fn()
        print(
            f"call overhead {label:<14}: {(time.perf_counter() - t0) / n_calls * 1e6:6.2f} µs per call"
        )


if __name__ == "__main__":
    main()
