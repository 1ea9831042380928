"""Indicators TA-Lib does not define, checked against plain numpy implementations written from
the formulas in the spec (independent of the Rust code), on the same seeded series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ta_data import cases, random_walk

import stocksblitz.ta as ta

talib = pytest.importorskip("talib")
DATA = [c for c in cases() if len(c[1]["close"]) >= 2]
IDS = [c[0] for c in DATA]


def close_enough(mine: np.ndarray, ref: np.ndarray, label: str) -> None:
    assert mine.shape == ref.shape, label
    assert np.array_equal(np.isnan(mine), np.isnan(ref)), (
        f"{label}: NaN positions differ at {np.flatnonzero(np.isnan(mine) != np.isnan(ref))[:5]}"
    )
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(mine[ok], ref[ok], rtol=1e-9, atol=1e-9, err_msg=label)


def ref_sma(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    for i in range(n - 1, len(x)):
        out[i] = x[i - n + 1 : i + 1].mean()
    return out


def ref_ema(x: np.ndarray, n: int) -> np.ndarray:
    """EMA seeded with the mean of the first n defined values, alpha = 2/(n+1)."""
    out = np.full(len(x), np.nan)
    valid = np.flatnonzero(~np.isnan(x))
    if len(valid) < n:
        return out
    start = valid[0]
    k = 2.0 / (n + 1)
    prev = x[start : start + n].mean()
    out[start + n - 1] = prev
    for i in range(start + n, len(x)):
        prev = prev + k * (x[i] - prev)
        out[i] = prev
    return out


def ref_wma(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    w = np.arange(1, n + 1, dtype=float)
    valid = np.flatnonzero(~np.isnan(x))
    if len(valid) == 0:
        return out
    for i in range(valid[0] + n - 1, len(x)):
        out[i] = np.dot(x[i - n + 1 : i + 1], w) / w.sum()
    return out


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_hma(name: str, d: dict) -> None:
    n = 20
    raw = 2 * ref_wma(d["close"], n // 2) - ref_wma(d["close"], n)
    close_enough(ta.hma(d["close"], length=n), ref_wma(raw, math.isqrt(n)), f"HMA {name}")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_vwma(name: str, d: dict) -> None:
    ref = ref_sma(d["close"] * d["volume"], 20) / ref_sma(d["volume"], 20)
    close_enough(ta.vwma(d["close"], d["volume"], length=20), ref, f"VWMA {name}")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_zlema(name: str, d: dict) -> None:
    n, c = 20, d["close"]
    lag = (n - 1) // 2
    src = np.full(len(c), np.nan)
    src[lag:] = c[lag:] + (c[lag:] - c[: len(c) - lag])
    close_enough(ta.zlema(c, length=n), ref_ema(src, n), f"ZLEMA {name}")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_tsi(name: str, d: dict) -> None:
    c = d["close"]
    diff = np.concatenate([[np.nan], np.diff(c)])
    num = ref_ema(ref_ema(diff, 25), 13)
    den = ref_ema(ref_ema(np.abs(diff), 25), 13)
    with np.errstate(all="ignore"):
        tsi = np.where(den != 0, 100 * num / den, np.nan)
    got = ta.tsi(c)
    close_enough(got["tsi"], tsi, f"TSI {name}")
    close_enough(got["signal"], ref_ema(tsi, 13), f"TSI signal {name}")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_ao(name: str, d: dict) -> None:
    hl2 = (d["high"] + d["low"]) / 2
    close_enough(ta.ao(d["high"], d["low"]), ref_sma(hl2, 5) - ref_sma(hl2, 34), f"AO {name}")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_kc(name: str, d: dict) -> None:
    h, lo, c = d["high"], d["low"], d["close"]
    prev = np.concatenate([[np.nan], c[:-1]])
    tr = np.maximum.reduce([h - lo, np.abs(h - prev), np.abs(lo - prev)])
    tr[0] = h[0] - lo[0]
    basis, band = ref_ema(c, 20), ref_ema(tr, 20)
    got = ta.kc(h, lo, c)
    close_enough(got["basis"], basis, f"KC basis {name}")
    close_enough(got["upper"], basis + 2 * band, f"KC upper {name}")
    close_enough(got["lower"], basis - 2 * band, f"KC lower {name}")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_dc(name: str, d: dict) -> None:
    n, h, lo = 20, d["high"], d["low"]
    up = np.full(len(h), np.nan)
    dn = np.full(len(h), np.nan)
    for i in range(n - 1, len(h)):
        up[i], dn[i] = h[i - n + 1 : i + 1].max(), lo[i - n + 1 : i + 1].min()
    got = ta.dc(h, lo)
    close_enough(got["upper"], up, f"DC {name}")
    close_enough(got["lower"], dn, f"DC {name}")
    close_enough(got["middle"], (up + dn) / 2, f"DC {name}")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_vwap_resets_per_ist_session(name: str, d: dict) -> None:
    tp = (d["high"] + d["low"] + d["close"]) / 3
    day = (d["time"] + 19_800) // 86_400
    ref = np.empty(len(tp))
    pv = v = 0.0
    for i in range(len(tp)):
        if i == 0 or day[i] != day[i - 1]:
            pv = v = 0.0
        pv += tp[i] * d["volume"][i]
        v += d["volume"][i]
        ref[i] = pv / v
    close_enough(ta.vwap(d["high"], d["low"], d["close"], d["volume"], time=d["time"]), ref, name)
    # Without times it is cumulative over the whole input.
    cum = np.cumsum(tp * d["volume"]) / np.cumsum(d["volume"])
    close_enough(ta.vwap(d["high"], d["low"], d["close"], d["volume"]), cum, f"{name} no time")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_supertrend(name: str, d: dict) -> None:
    h, lo, c = d["high"], d["low"], d["close"]
    atr = talib.ATR(h, lo, c, 10)
    hl2 = (h + lo) / 2
    value = np.full(len(c), np.nan)
    direction = np.full(len(c), np.nan)
    upper = lower = np.nan
    trend = 1.0
    for i in range(len(c)):
        if np.isnan(atr[i]):
            continue
        bu, bl = hl2[i] + 3 * atr[i], hl2[i] - 3 * atr[i]
        if np.isnan(upper):
            upper, lower, trend = bu, bl, 1.0
        else:
            new_upper = bu if (bu < upper or c[i - 1] > upper) else upper
            new_lower = bl if (bl > lower or c[i - 1] < lower) else lower
            if c[i] > upper:
                trend = 1.0
            elif c[i] < lower:
                trend = -1.0
            upper, lower = new_upper, new_lower
        value[i] = lower if trend > 0 else upper
        direction[i] = trend
    got = ta.supertrend(h, lo, c)
    close_enough(got["value"], value, f"SUPERTREND {name}")
    close_enough(got["direction"], direction, f"SUPERTREND dir {name}")


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_fisher(name: str, d: dict) -> None:
    n = 9
    hl2 = (d["high"] + d["low"]) / 2
    fisher = np.full(len(hl2), np.nan)
    v = f = 0.0
    for i in range(n - 1, len(hl2)):
        w = hl2[i - n + 1 : i + 1]
        pos = (hl2[i] - w.min()) / max(w.max() - w.min(), 0.001) - 0.5
        v = min(max(0.66 * pos + 0.67 * v, -0.999), 0.999)
        f = 0.5 * math.log((1 + v) / (1 - v)) + 0.5 * f
        fisher[i] = f
    signal = np.concatenate([[np.nan], fisher[:-1]])
    got = ta.fisher(d["high"], d["low"])
    close_enough(got["fisher"], fisher, f"FISHER {name}")
    close_enough(got["signal"], signal, f"FISHER signal {name}")


def test_cpr_uses_previous_session() -> None:
    d = random_walk(375 * 3, seed=11)
    day = (d["time"] + 19_800) // 86_400
    got = ta.cpr(d["high"], d["low"], d["close"], time=d["time"])
    days = np.unique(day)
    assert np.isnan(got["pivot"][day == days[0]]).all()
    for prev, cur in zip(days[:-1], days[1:]):
        m = day == prev
        hh, ll, cc = d["high"][m].max(), d["low"][m].min(), d["close"][m][-1]
        p = (hh + ll + cc) / 3
        bc = (hh + ll) / 2
        expected = {
            "pivot": p,
            "bc": bc,
            "tc": 2 * p - bc,
            "r1": 2 * p - ll,
            "r2": p + (hh - ll),
            "r3": hh + 2 * (p - ll),
            "s1": 2 * p - hh,
            "s2": p - (hh - ll),
            "s3": ll - 2 * (hh - p),
        }
        for k, val in expected.items():
            np.testing.assert_allclose(got[k][day == cur], val, rtol=1e-12, err_msg=k)
    # Without times each bar is a session: levels come from the previous bar.
    g = ta.cpr(d["high"], d["low"], d["close"])
    np.testing.assert_allclose(
        g["pivot"][1:], (d["high"][:-1] + d["low"][:-1] + d["close"][:-1]) / 3, rtol=1e-12
    )


@pytest.mark.parametrize("name,d", DATA, ids=IDS)
def test_ppo_signal_and_bbands_extras(name: str, d: dict) -> None:
    c = d["close"]
    ppo = talib.PPO(c, 12, 26, 0)
    got = ta.ppo(c)
    close_enough(got["signal"], ref_ema(ppo, 9), f"PPO signal {name}")
    close_enough(got["histogram"], ppo - ref_ema(ppo, 9), f"PPO hist {name}")
    up, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    bb = ta.bbands(c)
    with np.errstate(all="ignore"):
        width = np.where(mid != 0, 100 * (up - lo) / mid, np.nan)
        pct = np.where(up - lo != 0, (c - lo) / (up - lo), np.nan)
    close_enough(bb["bandwidth"], width, f"BB bandwidth {name}")
    close_enough(bb["percent"], pct, f"BB percent {name}")
