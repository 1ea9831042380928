"""Vectorised option math: implied volatility + greeks for 1,000,000 options, against py_vollib
(Black-76, Jäckel's "Let's Be Rational" IV, analytical greeks) doing the same work per option.

    pip install py_vollib            # optional: without it only our figures are printed
    maturin develop --release && python bench/bench_options.py [--n 1000000] [--ref-n 20000]

Data: a NIFTY-like chain — forwards around 26,000, strikes ±8 % in 50-point steps, 1 to 60 days,
calls and puts, prices from a smile (so every IV exists), only options whose price and time
value are at least the 0.05 tick, plus ~1 % of in-the-money prices below intrinsic that no volatility fits (NaN for us; skipped for py_vollib, which raises). py_vollib runs on the
first `--ref-n` options (a pure-Python loop; 1M would take minutes) and its per-option cost is
compared to ours on the same options and to ours on the full 1M. Outputs are checked: IVs
agree to 1e-6, deltas to 1e-6. Medians of 5 runs; one core (the work runs in one thread).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

# One OpenBLAS thread: its idle pool spins on the second core otherwise (see bench_ta.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from stocksblitz import options

RATE = options.DEFAULT_RATE


def chain(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """`n` options whose price and time value are at least the 0.05 tick (below that the
    volatility of a deep in-the-money option is not determined by its price)."""
    m = int(n * 1.6) + 100
    c = _draw(m, seed)
    disc = np.exp(-RATE * c["t"])
    intrinsic = disc * np.where(
        c["call"], np.maximum(c["f"] - c["k"], 0), np.maximum(c["k"] - c["f"], 0)
    )
    quoted = (c["price"] >= 0.05) & ((c["price"] - intrinsic >= 0.05) | c["bad"])
    keep = np.flatnonzero(quoted)[:n]
    assert keep.size == n, "too few quoted options drawn"
    return {k: v[keep] for k, v in c.items()}


def _draw(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = 26_000.0 * np.exp(rng.normal(0, 0.02, n))
    k = np.round(f * np.exp(rng.uniform(-0.08, 0.08, n)) / 50) * 50
    t = rng.integers(1, 61, n) / 365.0
    call = rng.random(n) < 0.5
    vol = 0.11 + 0.6 * np.log(k / f) ** 2 + 0.02 * rng.random(n)
    price = options.price(f, k, t, vol, np.where(call, "CE", "PE"), rate=RATE)
    bad = rng.random(n) < 0.01
    disc = np.exp(-RATE * t)
    intrinsic = disc * np.where(call, np.maximum(f - k, 0), np.maximum(k - f, 0))
    price = np.where(bad & (intrinsic > 1), intrinsic * 0.5, price)
    bad &= intrinsic > 1
    return {"f": f, "k": k, "t": t, "call": call, "vol": vol, "price": price, "bad": bad}


def ours(c: dict[str, np.ndarray], sl: slice) -> dict[str, np.ndarray]:
    rights = np.where(c["call"][sl], "CE", "PE")
    return options.greeks(c["price"][sl], c["f"][sl], c["k"][sl], c["t"][sl], rights, rate=RATE)


def vollib(c: dict[str, np.ndarray], m: int) -> list[tuple[float, float] | None]:
    from py_vollib.black import greeks as _g  # noqa: F401
    from py_vollib.black.greeks.analytical import delta, gamma, rho, theta, vega
    from py_vollib.black.implied_volatility import implied_volatility

    out: list[tuple[float, float] | None] = []
    for i in range(m):
        if c["bad"][i]:
            out.append(None)
            continue
        flag = "c" if c["call"][i] else "p"
        p, f, k, t = float(c["price"][i]), float(c["f"][i]), float(c["k"][i]), float(c["t"][i])
        iv = implied_volatility(p, f, k, RATE, t, flag)
        d = delta(flag, f, k, t, RATE, iv)
        gamma(flag, f, k, t, RATE, iv)
        theta(flag, f, k, t, RATE, iv)
        vega(flag, f, k, t, RATE, iv)
        rho(flag, f, k, t, RATE, iv)
        out.append((iv, d))
    return out


def median_time(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--ref-n", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    c = chain(a.n)
    full, g = median_time(lambda: ours(c, slice(None)), a.runs)
    assert isinstance(g, dict)
    ok = ~c["bad"]
    np.testing.assert_allclose(g["iv"][ok], c["vol"][ok], rtol=1e-6)
    assert np.isnan(g["iv"][c["bad"]]).all()
    print(f"IV + greeks for {a.n:,} options (stocksblitz.options.greeks, one thread):")
    print(f"  {full * 1000:.0f} ms median of {a.runs}  ({full / a.n * 1e9:.0f} ns/option)")
    print(f"  target < 500 ms: {'met' if full < 0.5 else 'MISSED'}")
    m = min(a.ref_n, a.n)
    sub, gs = median_time(lambda: ours(c, slice(0, m)), a.runs)
    try:
        import py_vollib  # noqa: F401
    except ImportError:
        print("py_vollib not installed: pip install py_vollib for the comparison")
        return
    ref_t, ref = median_time(lambda: vollib(c, m), max(1, a.runs // 2))
    assert isinstance(ref, list) and isinstance(gs, dict)
    for i, r in enumerate(ref):
        if r is None:
            continue
        assert math.isclose(gs["iv"][i], r[0], rel_tol=1e-6), (i, gs["iv"][i], r[0])
        assert math.isclose(gs["delta"][i], r[1], rel_tol=1e-6, abs_tol=1e-9), i
    print(f"\nthe same work on the first {m:,} options (outputs agree: IV and delta to 1e-6):")
    print(f"  stocksblitz {sub * 1000:9.1f} ms  ({sub / m * 1e9:8.0f} ns/option)")
    print(f"  py_vollib   {ref_t * 1000:9.1f} ms  ({ref_t / m * 1e9:8.0f} ns/option)")
    print(f"  ratio stocksblitz / py_vollib: {sub / ref_t:.4f}  ({ref_t / sub:.0f}x faster)")


if __name__ == "__main__":
    main()
