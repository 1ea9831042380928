"""The greeks model against an independent closed-form implementation (scipy), to 1e-6."""

from __future__ import annotations

import math

import pytest

from stocksblitz import _native

stats = pytest.importorskip("scipy.stats")
optimize = pytest.importorskip("scipy.optimize")
N = stats.norm.cdf
n = stats.norm.pdf


def black76(f: float, k: float, t: float, r: float, vol: float, call: bool) -> dict[str, float]:
    df = math.exp(-r * t)
    d1 = (math.log(f / k) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    price = df * (f * N(d1) - k * N(d2)) if call else df * (k * N(-d2) - f * N(-d1))
    delta = df * N(d1) if call else -df * N(-d1)
    gamma = df * n(d1) / (f * vol * math.sqrt(t))
    vega = df * f * n(d1) * math.sqrt(t)
    theta = -df * f * n(d1) * vol / (2 * math.sqrt(t)) + r * price
    rho = -t * price
    return {
        "price": price,
        "delta": delta,
        "gamma": gamma,
        "theta": theta / 365,
        "vega": vega / 100,
        "rho": rho / 100,
    }


def bs(s: float, k: float, t: float, r: float, vol: float, call: bool) -> dict[str, float]:
    d1 = (math.log(s / k) + (r + 0.5 * vol * vol) * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    disc = k * math.exp(-r * t)
    if call:
        price = s * N(d1) - disc * N(d2)
        delta = N(d1)
        theta = -s * n(d1) * vol / (2 * math.sqrt(t)) - r * disc * N(d2)
        rho = disc * t * N(d2)
    else:
        price = disc * N(-d2) - s * N(-d1)
        delta = N(d1) - 1
        theta = -s * n(d1) * vol / (2 * math.sqrt(t)) + r * disc * N(-d2)
        rho = -disc * t * N(-d2)
    return {
        "price": price,
        "delta": delta,
        "gamma": n(d1) / (s * vol * math.sqrt(t)),
        "theta": theta / 365,
        "vega": s * n(d1) * math.sqrt(t) / 100,
        "rho": rho / 100,
    }


CASES = [
    (24_600.0, 24_000.0, 7 / 365, 0.12),
    (24_600.0, 24_600.0, 2 / 365, 0.15),
    (24_600.0, 25_500.0, 30 / 365, 0.18),
    (52_000.0, 50_000.0, 60 / 365, 0.22),
    (24_600.0, 24_650.0, 0.5 / 365, 0.10),
]


@pytest.mark.parametrize("model,ref", [("black76", black76), ("bs", bs)])
@pytest.mark.parametrize("u,k,t,vol", CASES)
@pytest.mark.parametrize("call", [True, False])
def test_against_closed_form(model, ref, u, k, t, vol, call) -> None:
    r = 0.065
    expected = ref(u, k, t, r, vol, call)
    right = "CE" if call else "PE"
    assert _native.option_price(u, k, t, vol, right, model, r) == pytest.approx(
        expected["price"], rel=1e-9, abs=1e-9
    )
    # Implied vol from the reference price, solved independently with scipy's brentq.
    iv_ref = optimize.brentq(
        lambda v: ref(u, k, t, r, v, call)["price"] - expected["price"], 1e-4, 5, xtol=1e-14
    )
    got = _native.option_greeks(expected["price"], u, k, t, right, model, r)
    assert got is not None
    assert got["iv"] == pytest.approx(iv_ref, abs=1e-6)
    for g in ["delta", "gamma", "theta", "vega", "rho"]:
        assert got[g] == pytest.approx(expected[g], rel=1e-6, abs=1e-6), g


def test_null_not_nan_outside_bounds() -> None:
    assert _native.option_greeks(1.0, 24_600.0, 24_000.0, 7 / 365, "CE") is None  # below intrinsic
    assert _native.option_greeks(50_000.0, 24_600.0, 24_000.0, 7 / 365, "CE") is None
    assert _native.option_greeks(100.0, 24_600.0, 24_000.0, 0.0, "PE") is None  # expired
    with pytest.raises(ValueError, match="right must be CE or PE"):
        _native.option_greeks(100.0, 24_600.0, 24_000.0, 0.1, "XX")


def test_put_call_parity() -> None:
    f, k, t, r = 24_600.0, 24_300.0, 10 / 365, 0.065
    c = _native.option_price(f, k, t, 0.16, "CE", "black76", r)
    p = _native.option_price(f, k, t, 0.16, "PE", "black76", r)
    assert c - p == pytest.approx(math.exp(-r * t) * (f - k), abs=1e-8)
