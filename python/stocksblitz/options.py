"""Option analytics, offline: Black-76 / Black-Scholes prices, implied volatility and greeks,
and SVI smiles — all computed in Rust (``stocksblitz._native``, the market crate).

    >>> from stocksblitz import options
    >>> options.greeks(price=152.35, underlying=24_600, strike=24_500, years=7 / 365, right="CE")
    >>> smile = options.fit_smile(strikes, ivs, forward=26_010.5, years=7 / 365)
    >>> smile.iv(26_200), smile.params, smile.rmse, smile.butterfly_ok(strikes)

A running server serves the same smile for its live chain: ``TradingClient.iv_smile()`` or
``GET /fo/iv-smile``.
"""

from __future__ import annotations

from ._native import Smile, fit_smile, option_greeks, option_price

#: Implied volatility and greeks of an option price (None when no volatility fits the price).
greeks = option_greeks
#: Model price of an option at a volatility.
price = option_price

__all__ = ["Smile", "fit_smile", "greeks", "option_greeks", "option_price", "price"]
