"""Vectorised option math (`stocksblitz.options`): the same numbers as the scalar calls,
element by element, checked against the closed form of test_greeks (scipy); broadcasting,
NaN where no volatility fits, clear errors for bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_greeks import black76

from stocksblitz import options

F, T = 26_000.0, 7 / 365


def chain() -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """A 41-strike chain, calls and puts, priced at a smile by the independent closed form;
    plus a few prices no volatility fits (below intrinsic, zero)."""
    strikes = np.arange(25_000.0, 27_050.0, 50.0)
    ks, rights, prices = [], [], []
    for k in strikes:
        vol = 0.12 + 0.4 * math.log(k / F) ** 2
        for right in ("CE", "PE"):
            ks.append(k)
            rights.append(right)
            prices.append(black76(F, k, T, options.DEFAULT_RATE, vol, right == "CE")["price"])
    ks += [25_000.0, 26_000.0]
    rights += ["CE", "PE"]
    prices += [1.0, 0.0]  # a deep ITM call for 1 rupee; a zero price
    return np.array(ks), np.array(prices), rights, strikes


def test_vectorised_equals_scalar_calls_and_the_closed_form() -> None:
    ks, prices, rights, _ = chain()
    g = options.greeks(prices, F, ks, T, rights)
    assert set(g) == {"iv", "delta", "gamma", "theta", "vega", "rho"}
    assert all(isinstance(v, np.ndarray) and v.shape == ks.shape for v in g.values())
    for i, (k, p, r) in enumerate(zip(ks, prices, rights)):
        one = options.greeks(float(p), F, float(k), T, r)
        if one is None:
            assert all(math.isnan(g[name][i]) for name in g), (k, p, r)
            continue
        for name in g:
            assert g[name][i] == one[name], (name, k, r)  # the same code: bit-exact
        # The independent closed form at the recovered volatility.
        ref = black76(F, k, T, options.DEFAULT_RATE, one["iv"], r == "CE")
        assert one["delta"] == pytest.approx(ref["delta"], rel=1e-6, abs=1e-9)
        assert one["gamma"] == pytest.approx(ref["gamma"], rel=1e-6, abs=1e-12)
    # The smile's volatilities are recovered; the last two prices admit none.
    want = np.array([0.12 + 0.4 * math.log(k / F) ** 2 for k in ks[:-2]])
    np.testing.assert_allclose(g["iv"][:-2], want, rtol=1e-6)
    assert np.isnan(g["iv"][-2:]).all()
    iv = options.implied_vol(prices, F, ks, T, rights)
    np.testing.assert_array_equal(iv, g["iv"])


def test_prices_roundtrip_and_broadcast() -> None:
    *_, strikes = chain()
    vols = 0.12 + 0.4 * np.log(strikes / F) ** 2
    calls = options.price(F, strikes, T, vols, "CE")
    puts = options.price([F], strikes, T, vols, "put")
    for k, v, c, p in zip(strikes, vols, calls, puts):
        assert c == pytest.approx(
            black76(F, k, T, options.DEFAULT_RATE, v, True)["price"], rel=1e-9
        )
        # Put-call parity on the forward.
        assert c - p == pytest.approx(math.exp(-options.DEFAULT_RATE * T) * (F - k), abs=1e-6)
    back = options.implied_vol(calls, F, strikes, T, "call")
    np.testing.assert_allclose(back, vols, rtol=1e-7)
    # Integer arrays and lists are numbers too; a scalar call is unchanged.
    ints = options.price(np.array([26_000]), np.array([26_000]), T, 0.15, ["CE"])
    assert ints[0] == options.price(26_000, 26_000, T, 0.15, "CE")
    assert isinstance(options.price(26_000, 26_000, T, 0.15, "CE"), float)
    assert options.implied_vol(0.0, 26_000, 26_000, T, "CE") is None


def test_black_scholes_model_and_rate() -> None:
    s = np.array([25_900.0, 26_100.0])
    a = options.price(s, 26_000, 0.1, 0.2, "CE", model="bs", rate=0.07)
    b = [options.price(float(x), 26_000, 0.1, 0.2, "CE", model="bs", rate=0.07) for x in s]
    assert list(a) == b


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: options.price([1.0, 2.0], [1.0, 2.0, 3.0], T, 0.2, "CE"),
            "underlying has 2 values where the other arguments have 3",
        ),
        (lambda: options.price(F, [F, F], T, 0.2, ["CE", "XE", "PE"]), "right must be"),
        (lambda: options.price(F, F, T, 0.2, ["CE", "XE"]), "right must be CE or PE"),
        (lambda: options.greeks([1.0], F, F, T, "CE", model="sabr"), "model must be"),
        (lambda: options.greeks(["x"], F, F, T, "CE"), "price must be a number"),
        (lambda: options.price(np.ones((2, 2)), F, T, 0.2, "CE"), "underlying must be"),
    ],
)
def test_bad_arguments_are_clear_errors(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_non_positive_inputs_are_nan_not_errors() -> None:
    out = options.price(F, [26_000.0, -1.0, 26_000.0], [T, T, 0.0], [0.2, 0.2, 0.2], "CE")
    assert out[0] > 0 and math.isnan(out[1]) and math.isnan(out[2])


def test_rights_as_numpy_string_arrays_read_in_place() -> None:
    ks = np.array([25_900.0, 26_000.0, 26_100.0, 26_200.0])
    as_list = options.price(F, ks, T, 0.15, ["CE", "pe", "Call", "PUT"])
    for arr in (
        np.array(["CE", "pe", "Call", "PUT"]),  # <U4
        np.array(["CE", "PE", "CE", "PE"]),  # <U2
        np.array(["C", "P", "C", "P"]),  # <U1
    ):
        np.testing.assert_array_equal(options.price(F, ks, T, 0.15, arr), as_list)
    with pytest.raises(ValueError, match='right must be CE or PE, got "XE"'):
        options.price(F, ks, T, 0.15, np.array(["CE", "XE", "CE", "PE"]))
    with pytest.raises(ValueError, match="right must be CE or PE"):
        options.price(F, ks, T, 0.15, np.array(["CALLS", "PE", "CE", "PE"]))  # <U5
