"""stocksblitz: market data and analytics for Indian derivatives.

The work happens in Rust (``stocksblitz._native``); this package gives it its Python shape.
"""

from __future__ import annotations

from ._native import SymbolInfo, __version__, next_expiries, parse_spec, parse_symbol, parse_symbols
from .client import TradingClient
from .enums import DataState, Exchange, OrderType, ProductType, Timeframe, TransactionType
from .exceptions import (
    APIError,
    AuthenticationError,
    DataUnavailableError,
    DataValidationError,
    IndicatorUnavailableError,
    InstrumentNotFoundError,
    InstrumentNotSubscribedError,
    InsufficientFundsError,
    InvalidOrderError,
    InvalidSymbolError,
    PermissionDeniedError,
    RateLimitError,
    StaleDataError,
    StocksBlitzError,
    TimeoutError,
)
from .instrument import Instrument
from .trading import Account, Funds, Order, OrderRequest, Position, PositionSnapshot

__all__ = [
    "APIError",
    "Account",
    "AuthenticationError",
    "DataState",
    "DataUnavailableError",
    "DataValidationError",
    "Exchange",
    "Funds",
    "IndicatorUnavailableError",
    "Instrument",
    "InstrumentNotFoundError",
    "InstrumentNotSubscribedError",
    "InsufficientFundsError",
    "InvalidOrderError",
    "InvalidSymbolError",
    "Order",
    "OrderRequest",
    "OrderType",
    "PermissionDeniedError",
    "Position",
    "PositionSnapshot",
    "ProductType",
    "RateLimitError",
    "StaleDataError",
    "StocksBlitzError",
    "SymbolInfo",
    "Timeframe",
    "TimeoutError",
    "TradingClient",
    "TransactionType",
    "__version__",
    "next_expiries",
    "parse_spec",
    "parse_symbol",
    "parse_symbols",
]
