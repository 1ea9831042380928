"""stocksblitz.ta against TA-Lib, indicator by indicator, in one run; prints tables, asserts nothing.

    python bench/bench_ta.py [--n 1000000] [--repeat 8] [--takt-python PATH] [--no-greeks] [--warm]
        [--only RSI,ATR,...] [--arithmetic auto|fused|plain]

Method (build the wheel in release first: `maturin develop --release`):

- Data: a positive geometric random walk (1,000,000 one-minute bars; O/H/L/C around 100 with
  realistic ranges, volume 100..10,000), float64 contiguous arrays, the same for both sides.
- Every indicator TA-Lib can express with the same definition, call for call: ADX against
  TA-Lib's ADX alone (our ADX also returns +DI/-DI, which it computes anyway); multi-output
  indicators against the one TA-Lib call that returns the same outputs; DC against DONCHIAN,
  AO against AO, STOCHRSI against RSI + STOCH (TA-Lib's STOCHRSI does not smooth %K).
- Timing: the two sides interleaved call by call, medians of `--repeat` calls; every output
  compared (NaN positions equal, values within 1e-9 relative) and the verdict printed. By default
  the calls go in rounds over all indicators (each call finds the cache holding the previous
  indicator's data, as a real caller would); `--warm` makes each indicator's calls back to back
  (inputs and output buffers in cache: the kernels' own speed). ta-lib-takt runs the same
  schedule. On a shared VM the cold numbers swing by ±30 % from run to run; run both.
- Ratio = stocksblitz / reference: < 1 is faster.
- What the reference runs: TA-Lib 0.8's wheel bundles the C library built with function clones
  (`TA_ATR.default` / `TA_ATR.fma`, 120 of them) and runs the FMA clone on a CPU that has FMA:
  a recurrence like ATR's Wilder step is one fused multiply-add on its chain there. Ours does the
  same: the recurrence kernels (EMA, DEMA, TEMA, T3, MACD, PPO, KAMA, RSI, ATR, NATR) run a build
  compiled with FMA and AVX2 when the CPU has them (`ta.arithmetic()` says which: "fused" or
  "plain"); the header prints it. ROC, AO, DC, BBANDS and WILLR take the AVX2 build too (same
  numbers). `--arithmetic plain` times the baseline build instead.
- `--takt-python`: the python of a separate venv with ta-lib-takt (it installs the same `talib`
  module name, so it cannot share a venv with TA-Lib):
      python -m venv /tmp/takt && /tmp/takt/bin/pip install ta-lib-takt numpy
      python bench/bench_ta.py --takt-python /tmp/takt/bin/python
  The same data goes to that process through a temporary .npz; it times the same calls
  (medians of `--repeat`) and returns its outputs' checksums, compared with TA-Lib's here.
- Streaming: per-update cost of `ta.Stream.update` against TA-Lib 0.8's incremental
  `talib.stream.<NAME>.open_and_fill(...)[0].update(...)`, both fed the same 200,000 bars from a
  Python loop, last values compared.
- Greeks: implied volatility + greeks for 1,000,000 options against py_vollib (bench_options.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

# numpy's OpenBLAS keeps a pool of threads that spin after a BLAS call (10 % of a profile of
# this script): on a two-core machine they take cycles from whichever library is being timed.
# One thread, set before numpy loads it (the ta-lib-takt child inherits it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

D = dict[str, np.ndarray]


def data(n: int, seed: int = 1) -> D:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(rng.normal(0, 0.0002, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.0008, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.0008, n)))
    volume = rng.integers(100, 10_000, n).astype(np.float64)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def _stochrsi(talib: Any, d: D) -> tuple[np.ndarray, np.ndarray]:
    r = talib.RSI(d["close"], 14)
    return talib.STOCH(r, r, r, 14, 3, 0, 3, 0)


# name -> TA-Lib call(s) returning the outputs in our order. Only `talib` and numpy here: the
# ta-lib-takt child process runs these too.
REFERENCE: dict[str, Callable[[Any, D], Any]] = {
    "RSI": lambda t, d: t.RSI(d["close"], 14),
    "STOCH": lambda t, d: t.STOCH(d["high"], d["low"], d["close"], 14, 3, 0, 3, 0),
    "STOCHRSI": _stochrsi,
    "MACD": lambda t, d: t.MACD(d["close"], 12, 26, 9),
    "CCI": lambda t, d: t.CCI(d["high"], d["low"], d["close"], 20),
    "MOM": lambda t, d: t.MOM(d["close"], 10),
    "ROC": lambda t, d: t.ROC(d["close"], 12),
    "WILLR": lambda t, d: t.WILLR(d["high"], d["low"], d["close"], 14),
    "PPO": lambda t, d: t.PPO(d["close"], 12, 26, 0),
    "AO": lambda t, d: t.AO(d["high"], d["low"], 5, 34),
    "SMA": lambda t, d: t.SMA(d["close"], 20),
    "EMA": lambda t, d: t.EMA(d["close"], 20),
    "WMA": lambda t, d: t.WMA(d["close"], 20),
    "DEMA": lambda t, d: t.DEMA(d["close"], 20),
    "TEMA": lambda t, d: t.TEMA(d["close"], 20),
    "KAMA": lambda t, d: t.KAMA(d["close"], 10),
    "MAMA": lambda t, d: t.MAMA(d["close"], 0.5, 0.05),
    "T3": lambda t, d: t.T3(d["close"], 5, 0.7),
    "ATR": lambda t, d: t.ATR(d["high"], d["low"], d["close"], 14),
    "NATR": lambda t, d: t.NATR(d["high"], d["low"], d["close"], 14),
    "BBANDS": lambda t, d: t.BBANDS(d["close"], 20, 2.0, 2.0, 0),
    "DC": lambda t, d: t.DONCHIAN(d["high"], d["low"], 20),
    "OBV": lambda t, d: t.OBV(d["close"], d["volume"]),
    "AD": lambda t, d: t.AD(d["high"], d["low"], d["close"], d["volume"]),
    "ADX": lambda t, d: t.ADX(d["high"], d["low"], d["close"], 14),
    "MFI": lambda t, d: t.MFI(d["high"], d["low"], d["close"], d["volume"], 14),
    "PSAR": lambda t, d: t.SAR(d["high"], d["low"], 0.02, 0.2),
    "AROON": lambda t, d: t.AROON(d["high"], d["low"], 25),
}


def ours_calls(ta: Any) -> dict[str, tuple[Callable[[D], Any], list[str]]]:
    """name -> (our call, the outputs to compare in REFERENCE's order)."""
    return {
        "RSI": (lambda d: ta.rsi(d["close"], 14), []),
        "STOCH": (lambda d: ta.stoch(d["high"], d["low"], d["close"], 14, 3, 3), ["k", "d"]),
        "STOCHRSI": (lambda d: ta.stochrsi(d["close"], 14, 14, 3, 3), ["k", "d"]),
        "MACD": (lambda d: ta.macd(d["close"], 12, 26, 9), ["macd", "signal", "histogram"]),
        "CCI": (lambda d: ta.cci(d["high"], d["low"], d["close"], 20), []),
        "MOM": (lambda d: ta.mom(d["close"], 10), []),
        "ROC": (lambda d: ta.roc(d["close"], 12), []),
        "WILLR": (lambda d: ta.willr(d["high"], d["low"], d["close"], 14), []),
        "PPO": (lambda d: ta.ppo(d["close"], 12, 26, 9), ["ppo"]),
        "AO": (lambda d: ta.ao(d["high"], d["low"], 5, 34), []),
        "SMA": (lambda d: ta.sma(d["close"], 20), []),
        "EMA": (lambda d: ta.ema(d["close"], 20), []),
        "WMA": (lambda d: ta.wma(d["close"], 20), []),
        "DEMA": (lambda d: ta.dema(d["close"], 20), []),
        "TEMA": (lambda d: ta.tema(d["close"], 20), []),
        "KAMA": (lambda d: ta.kama(d["close"], 10), []),
        "MAMA": (lambda d: ta.mama(d["close"], 0.5, 0.05), ["mama", "fama"]),
        "T3": (lambda d: ta.t3(d["close"], 5, 0.7), []),
        "ATR": (lambda d: ta.atr(d["high"], d["low"], d["close"], 14), []),
        "NATR": (lambda d: ta.natr(d["high"], d["low"], d["close"], 14), []),
        "BBANDS": (lambda d: ta.bbands(d["close"], 20, 2.0), ["upper", "middle", "lower"]),
        "DC": (lambda d: ta.dc(d["high"], d["low"], 20), ["upper", "middle", "lower"]),
        "OBV": (lambda d: ta.obv(d["close"], d["volume"]), []),
        "AD": (lambda d: ta.ad(d["high"], d["low"], d["close"], d["volume"]), []),
        "ADX": (lambda d: ta.adx(d["high"], d["low"], d["close"], 14), ["adx"]),
        "MFI": (lambda d: ta.mfi(d["high"], d["low"], d["close"], d["volume"], 14), []),
        "PSAR": (lambda d: ta.psar(d["high"], d["low"], 0.02, 0.2), ["sar"]),
        "AROON": (lambda d: ta.aroon(d["high"], d["low"], 25), ["down", "up"]),
    }


def as_list(x: Any, names: list[str]) -> list[np.ndarray]:
    if names:
        return [np.asarray(x[k]) for k in names]
    return [np.asarray(x)]


def ref_list(x: Any) -> list[np.ndarray]:
    return [np.asarray(a) for a in x] if isinstance(x, (tuple, list)) else [np.asarray(x)]


def agree(mine: list[np.ndarray], ref: list[np.ndarray]) -> str:
    """The parity tests' rule: NaN where the reference has NaN, else within 1e-9 relative
    (1e-9 absolute near zero)."""
    if len(mine) != len(ref):
        return f"outputs {len(mine)} vs {len(ref)}"
    worst = 0.0
    for a, b in zip(mine, ref):
        if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
            return "NaN positions differ"
        ok = ~np.isnan(b)
        if ok.any():
            excess = np.abs(a[ok] - b[ok]) / (1e-9 + 1e-9 * np.abs(b[ok]))
            worst = max(worst, float(excess.max()))
    return "ok" if worst <= 1.0 else f"differs ({worst:.1e}x the tolerance)"


def checksum(outs: list[np.ndarray]) -> list[float]:
    return [float(np.nansum(a)) for a in outs]


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def schedule(repeat: int, warm: bool) -> list[tuple[int, str]]:
    """(round, indicator) in calling order: `repeat` rounds over every indicator (each call finds
    the caches holding the previous indicator's data: cold), or with `warm` each indicator's
    calls back to back (its inputs and buffers in cache: the kernels' own speed)."""
    if warm:
        return [(r, name) for name in REFERENCE for r in range(repeat)]
    return [(r, name) for r in range(repeat) for name in REFERENCE]


def child(path: str, repeat: int, warm: bool) -> None:
    """Run inside the ta-lib-takt venv: time REFERENCE on the saved data, print JSON."""
    import talib

    d = dict(np.load(path))
    # The parent's schedule, call for call.
    times: dict[str, list[float]] = {name: [] for name in REFERENCE}
    outs: dict[str, Any] = {}
    for _, name in schedule(repeat, warm):
        t, outs[name] = timed(REFERENCE[name], talib, d)
        times[name].append(t)
    result = {
        name: {"median": statistics.median(times[name]), "sums": checksum(ref_list(outs[name]))}
        for name in REFERENCE
    }
    print(json.dumps({"version": getattr(talib, "__version__", "?"), "results": result}))


def takt(python: str, d: D, repeat: int, warm: bool) -> dict[str, Any] | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "data.npz")
        np.savez(path, **d)
        proc = subprocess.run(
            [python, __file__, "--child", path, "--repeat", str(repeat)]
            + (["--warm"] if warm else [])
            + ["--only", ",".join(REFERENCE)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        print(f"ta-lib-takt run failed:\n{proc.stderr.strip()[-2000:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def batch_table(
    ta: Any, talib: Any, d: D, repeat: int, takt_python: str | None, warm: bool
) -> None:
    ours = ours_calls(ta)
    t_ours: dict[str, list[float]] = {k: [] for k in REFERENCE}
    t_ref: dict[str, list[float]] = {k: [] for k in REFERENCE}
    verdict: dict[str, str] = {}
    sums: dict[str, list[float]] = {}
    for r, name in schedule(repeat, warm):
        ref = REFERENCE[name]
        call, names = ours[name]
        # Alternate who goes first, so warm caches favour neither (an even count of rounds).
        if r % 2 == 0:
            a, mine = timed(call, d)
            b, theirs = timed(ref, talib, d)
        else:
            b, theirs = timed(ref, talib, d)
            a, mine = timed(call, d)
        t_ours[name].append(a)
        t_ref[name].append(b)
        if r == 0:
            with np.errstate(all="ignore"):
                verdict[name] = agree(as_list(mine, names), ref_list(theirs))
            sums[name] = checksum(ref_list(theirs))
    tk = takt(takt_python, d, repeat, warm) if takt_python else None
    n = len(d["close"])
    how = "back to back (warm)" if warm else "in rounds over all indicators (cold)"
    print(f"\n1. batch: {n:,} bars, medians of {repeat} calls {how}, ours and TA-Lib interleaved")
    print("   (ms); ratio = ours / ref")
    head = f"{'indicator':<10} {'ours':>8} {'TA-Lib':>8} {'ratio':>6}"
    if tk:
        head += f" {'takt':>8} {'ratio':>6} {'takt=TA-Lib':>11}"
    print(head + "  outputs")
    ratios, ratios_tk = [], []
    for name in REFERENCE:
        mo, mr = statistics.median(t_ours[name]), statistics.median(t_ref[name])
        ratios.append(mo / mr)
        line = f"{name:<10} {mo * 1e3:8.2f} {mr * 1e3:8.2f} {mo / mr:6.2f}"
        if tk:
            k = tk["results"][name]
            ratios_tk.append(mo / k["median"])
            same = np.allclose(k["sums"], sums[name], rtol=1e-9, equal_nan=True)
            line += (
                f" {k['median'] * 1e3:8.2f} {mo / k['median']:6.2f} {'yes' if same else 'NO':>11}"
            )
        print(f"{line}  {verdict[name]}")
    above = [n for n, r in zip(REFERENCE, ratios) if r > 1.0]
    print(
        f"TA-Lib {talib.__version__}: median ratio {statistics.median(ratios):.2f} (target <= 0.5), "
        f"worst {max(ratios):.2f}; {len(ratios) - len(above)}/{len(ratios)} at or below 1.0"
        + (f"; above: {', '.join(above)}" if above else "")
    )
    if tk:
        print(
            f"ta-lib-takt {tk['version']}: median ratio {statistics.median(ratios_tk):.2f} "
            f"(target <= 1.0), worst {max(ratios_tk):.2f}"
        )
    elif not takt_python:
        print("ta-lib-takt: not run (pass --takt-python; see the docstring)")


def stream_table(ta: Any, talib: Any, d: D, n: int, repeat: int) -> None:
    import talib.stream as tstream

    warm = 100
    n = min(n, len(d["close"]) - warm)
    # Arrays to open TA-Lib's streams; plain floats to feed both, as a live feed delivers them.
    ha, la, ca = (d[k][: n + warm] for k in ("high", "low", "close"))
    h, lo, c = ha.tolist(), la.tolist(), ca.tolist()
    # name: (our id, how we update, TA-Lib stream factory, how it updates)
    cases: dict[
        str, tuple[str, Callable[[Any, int], Any], Callable[[], Any], Callable[[Any, int], Any]]
    ] = {
        "RSI": (
            "RSI_14",
            lambda s, i: s.update(c[i]),
            lambda: tstream.RSI.open_and_fill(ca[:warm], 14)[0],
            lambda s, i: s.update(c[i]),
        ),
        "EMA": (
            "EMA_20",
            lambda s, i: s.update(c[i]),
            lambda: tstream.EMA.open_and_fill(ca[:warm], 20)[0],
            lambda s, i: s.update(c[i]),
        ),
        "ATR": (
            "ATR_14",
            lambda s, i: s.update(c[i], h[i], lo[i]),
            lambda: tstream.ATR.open_and_fill(ha[:warm], la[:warm], ca[:warm], 14)[0],
            lambda s, i: s.update(h[i], lo[i], c[i]),
        ),
        "MACD": (
            "MACD_12_26_9",
            lambda s, i: s.update(c[i]),
            lambda: tstream.MACD.open_and_fill(ca[:warm], 12, 26, 9)[0],
            lambda s, i: s.update(c[i]),
        ),
        "BBANDS": (
            "BBANDS_20_2",
            lambda s, i: s.update(c[i]),
            lambda: tstream.BBANDS.open_and_fill(ca[:warm], 20, 2.0, 2.0, 0)[0],
            lambda s, i: s.update(c[i]),
        ),
    }
    print(
        f"\n2. streaming: per-update cost over {n:,} updates from Python, medians of {repeat} (ns)"
    )
    print(f"{'indicator':<10} {'ours':>8} {'talib':>8} {'ratio':>6}  last values")
    for name, (ident, upd, make, tupd) in cases.items():
        ours_t, ref_t = [], []
        last_ours = last_ref = None
        for r in range(repeat):
            s = ta.Stream(ident)
            for i in range(warm):
                upd(s, i)
            t = make()
            pair = [(s, upd, ours_t), (t, tupd, ref_t)]
            for obj, fn, acc in pair if r % 2 == 0 else pair[::-1]:
                t0 = time.perf_counter()
                for i in range(warm, warm + n):
                    out = fn(obj, i)
                acc.append((time.perf_counter() - t0) / n)
                if obj is s:
                    last_ours = out
                else:
                    last_ref = out
        mine = list(last_ours) if not isinstance(last_ours, float) else [last_ours]
        theirs = list(last_ref) if isinstance(last_ref, tuple) else [last_ref]
        # Our BBANDS also has bandwidth and %B: the outputs TA-Lib has are compared.
        same = np.allclose(mine[: len(theirs)], theirs, rtol=1e-9)
        mo, mr = statistics.median(ours_t), statistics.median(ref_t)
        print(
            f"{name:<10} {mo * 1e9:8.0f} {mr * 1e9:8.0f} {mo / mr:6.2f}  {'equal' if same else 'DIFFER'}"
        )


def greeks_table() -> None:
    print("\n3. options: IV + greeks for 1,000,000 options (bench_options.py)")
    sys.stdout.flush()
    subprocess.run([sys.executable, str(Path(__file__).with_name("bench_options.py"))], check=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument(
        "--repeat", type=int, default=8, help="calls per side (rounded up to even: see batch_table)"
    )
    ap.add_argument("--stream-n", type=int, default=200_000)
    ap.add_argument("--takt-python")
    ap.add_argument("--no-greeks", action="store_true")
    ap.add_argument("--warm", action="store_true", help="each indicator's calls back to back")
    ap.add_argument("--only", help="comma-separated indicators (default: all)")
    ap.add_argument(
        "--arithmetic",
        choices=["auto", "fused", "plain"],
        default="auto",
        help="ours in this arithmetic (default: the CPU's; see ta.arithmetic)",
    )
    ap.add_argument("--child")
    a = ap.parse_args()
    # Who calls first alternates by round; with an odd count one side would go first (and pay
    # for bringing the inputs into cache, the other finding them there) once more than the
    # other, and its median would be one of those calls: 7 rounds put ours first 4 times and
    # tilted every cold ratio against us. Even counts: first 4 times each.
    a.repeat += a.repeat % 2
    if a.only:
        keep = [k.strip().upper() for k in a.only.split(",")]
        unknown = [k for k in keep if k not in REFERENCE]
        if unknown:
            ap.error(f"unknown indicator(s) {', '.join(unknown)}; known: {', '.join(REFERENCE)}")
        for k in list(REFERENCE):
            if k not in keep:
                del REFERENCE[k]
    if a.child:
        child(a.child, a.repeat, a.warm)
        return
    import talib

    import stocksblitz.ta as ta

    d = data(a.n)
    mode = ta.arithmetic(a.arithmetic)
    print(
        f"stocksblitz.ta ({mode} arithmetic) vs TA-Lib {talib.__version__}, "
        f"Python {sys.version.split()[0]}"
    )
    batch_table(ta, talib, d, a.repeat, a.takt_python, a.warm)
    stream_table(ta, talib, d, a.stream_n, a.repeat)
    if not a.no_greeks:
        greeks_table()


if __name__ == "__main__":
    main()
