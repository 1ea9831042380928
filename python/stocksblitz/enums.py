"""Enums of the old SDK, with the same string values."""

from __future__ import annotations

from enum import Enum

__all__ = ["DataState", "Exchange", "OrderType", "ProductType", "Timeframe", "TransactionType"]


class _StrEnum(str, Enum):
    def __str__(self) -> str:
        return str(self.value)


class DataState(_StrEnum):
    VALID = "valid"
    STALE = "stale"
    NO_DATA = "no_data"


class Exchange(_StrEnum):
    NSE = "NSE"
    BSE = "BSE"
    NFO = "NFO"
    BFO = "BFO"


class TransactionType(_StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(_StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SL = "SL"
    SL_M = "SL-M"


class ProductType(_StrEnum):
    MIS = "MIS"
    CNC = "CNC"
    NRML = "NRML"


class Timeframe(_StrEnum):
    """Bar timeframes (canonical spellings of the timeframe table)."""

    ONE_MINUTE = "1m"
    THREE_MINUTES = "3m"
    FIVE_MINUTES = "5m"
    TEN_MINUTES = "10m"
    FIFTEEN_MINUTES = "15m"
    THIRTY_MINUTES = "30m"
    ONE_HOUR = "1h"
    ONE_DAY = "1d"
