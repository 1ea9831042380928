"""Option analytics, offline: Black-76 / Black-Scholes prices, implied volatility and greeks,
and SVI smiles — all computed in Rust (``stocksblitz._native``, the market crate).

    >>> from stocksblitz import options
    >>> options.greeks(152.35, 24_600, 24_500, 7 / 365, "CE")          # one option: dict or None
    >>> options.greeks(prices, spots, strikes, years, rights)          # arrays: dict of arrays
    >>> options.implied_vol(prices, 24_600, strikes, 7 / 365, "PE")    # scalars broadcast
    >>> options.price(24_600, strikes, 7 / 365, 0.14, ["CE", "PE"] * 20)
    >>> smile = options.fit_smile(strikes, ivs, forward=26_010.5, years=7 / 365)
    >>> smile.iv(26_200), smile.params, smile.rmse, smile.butterfly_ok(strikes)

Arguments are numbers or 1-D arrays (any sequence numpy reads as float64) broadcast together:
each array has the same length, or one value. ``right`` is "CE"/"PE"/"call"/"put" (any case)
or a sequence of them. ``model`` is "black76" (the underlying is the future's price, the
default) or "bs" (spot, Black-Scholes); ``rate`` is continuously compounded. With only scalar
arguments the functions return a float (``price``), a float or None (``implied_vol``), a dict
or None (``greeks``), as before; with any array they return numpy arrays, NaN where no
volatility fits the price (outside the no-arbitrage bounds, a non-positive input) — the
computation runs with the GIL released.

Greeks: theta per calendar day, vega per volatility point, rho per 1 % of rate.

A running server serves the same smile for its live chain: ``TradingClient.iv_smile()`` or
``GET /fo/iv-smile``.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from ._native import (
    Smile,
    fit_smile,
    option_greeks,
    option_greeks_vec,
    option_iv_vec,
    option_price,
    option_price_vec,
)

DEFAULT_RATE = 0.065

_Num = Union[float, "np.ndarray", Any]


def _scalar(*xs: Any) -> bool:
    return all(isinstance(x, (int, float, np.integer, np.floating)) for x in xs)


def price(
    underlying: _Num,
    strike: _Num,
    years: _Num,
    vol: _Num,
    right: Any,
    model: str = "black76",
    rate: float = DEFAULT_RATE,
) -> Any:
    """Model price at volatility ``vol`` (a float for scalars, else an array)."""
    if _scalar(underlying, strike, years, vol) and isinstance(right, str):
        return option_price(
            float(underlying), float(strike), float(years), float(vol), right, model, rate
        )
    return option_price_vec(underlying, strike, years, vol, right, model, rate)


def implied_vol(
    price: _Num,
    underlying: _Num,
    strike: _Num,
    years: _Num,
    right: Any,
    model: str = "black76",
    rate: float = DEFAULT_RATE,
) -> Any:
    """Implied volatility of a price (scalars: a float or None; arrays: NaN where none fits)."""
    if _scalar(price, underlying, strike, years) and isinstance(right, str):
        v = float(option_iv_vec(float(price), underlying, strike, years, right, model, rate)[0])
        return None if v != v else v
    return option_iv_vec(price, underlying, strike, years, right, model, rate)


def greeks(
    price: _Num,
    underlying: _Num,
    strike: _Num,
    years: _Num,
    right: Any,
    model: str = "black76",
    rate: float = DEFAULT_RATE,
) -> Optional[dict[str, Any]]:
    """Implied volatility and greeks (iv delta gamma theta vega rho): scalars give a dict of
    floats or None, arrays a dict of arrays."""
    if _scalar(price, underlying, strike, years) and isinstance(right, str):
        return option_greeks(
            float(price), float(underlying), float(strike), float(years), right, model, rate
        )
    return dict(option_greeks_vec(price, underlying, strike, years, right, model, rate))


__all__ = [
    "DEFAULT_RATE",
    "Smile",
    "fit_smile",
    "greeks",
    "implied_vol",
    "option_greeks",
    "option_price",
    "price",
]
