"""The stocksblitz exception hierarchy (python-api.md). All are exported from ``stocksblitz``."""

from __future__ import annotations

import builtins
import re
from typing import Any, Optional

__all__ = [
    "APIError",
    "AuthenticationError",
    "CacheError",
    "DataUnavailableError",
    "DataValidationError",
    "IndicatorUnavailableError",
    "IndicatorValidationError",
    "InstrumentNotFoundError",
    "InstrumentNotSubscribedError",
    "InsufficientFundsError",
    "InvalidOrderError",
    "InvalidSymbolError",
    "PermissionDeniedError",
    "RateLimitError",
    "StaleDataError",
    "StocksBlitzError",
    "TimeoutError",
]


class StocksBlitzError(Exception):
    """Base class of every error raised by stocksblitz."""


class APIError(StocksBlitzError):
    """An HTTP error from the server, carrying its detail, status code and parsed body."""

    def __init__(
        self, message: str, status_code: Optional[int] = None, response: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.response = response


class AuthenticationError(APIError):
    """401 or a failed login."""


class PermissionDeniedError(APIError):
    """403: the credentials lack the scope the route needs."""


class RateLimitError(APIError):
    """429; ``retry_after`` is the number of seconds the server asked to wait."""

    def __init__(
        self,
        message: str,
        status_code: Optional[int] = 429,
        response: Any = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message, status_code, response)
        self.retry_after = retry_after


class TimeoutError(StocksBlitzError, builtins.TimeoutError):
    """A request timed out (also a ``builtins.TimeoutError``)."""


class DataUnavailableError(StocksBlitzError):
    """The server has no data for the request; ``reason`` says why (e.g. ``no_data``)."""

    def __init__(self, message: str, reason: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class InstrumentNotSubscribedError(DataUnavailableError):
    """The instrument is not in the live feed."""


class IndicatorUnavailableError(DataUnavailableError):
    """An indicator value cannot be given yet (no data, not enough bars)."""


class StaleDataError(StocksBlitzError):
    """Data is older than allowed; ``age_seconds`` is its age."""

    def __init__(self, message: str, age_seconds: Optional[float] = None) -> None:
        super().__init__(message)
        self.message = message
        self.age_seconds = age_seconds


class DataValidationError(StocksBlitzError):
    """A value failed validation; ``field`` and ``value`` name it."""

    def __init__(self, message: str, field: Optional[str] = None, value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value


class InvalidOrderError(APIError):
    """An order was refused by a rule (lot multiple, tick, trigger side, expired contract, MIS
    after the cut-off, a closed order …): ``message`` names the rule and its numbers, ``code``
    is the server's (``order_invalid``, ``order_rejected``, ``order_not_found``)."""

    def __init__(
        self,
        message: str,
        status_code: Optional[int] = 400,
        response: Any = None,
        code: Optional[str] = None,
    ) -> None:
        super().__init__(message, status_code, response)
        self.code = code


class InsufficientFundsError(APIError):
    """Not enough margin for an order: ``required`` and ``available`` in rupees (from the
    server's message)."""

    def __init__(
        self, message: str, status_code: Optional[int] = 400, response: Any = None
    ) -> None:
        super().__init__(message, status_code, response)
        self.code = "insufficient_funds"
        self.required: Optional[float] = None
        self.available: Optional[float] = None
        m = re.search(r"Required margin is ([\d,.]+) but available margin is (-?[\d,.]+)", message)
        if m:
            self.required = float(m.group(1).replace(",", ""))
            self.available = float(m.group(2).replace(",", "").rstrip("."))


class InstrumentNotFoundError(StocksBlitzError):
    """The instrument does not exist (or has expired)."""


class InvalidSymbolError(InstrumentNotFoundError, ValueError):
    """A symbol or instrument spec could not be parsed (also a ``ValueError``, and an
    :class:`InstrumentNotFoundError` as the old README caught it)."""


class CacheError(StocksBlitzError):
    """The SDK's disk cache could not be read or written."""


class IndicatorValidationError(StocksBlitzError, ValueError):
    """Indicator parameters were refused; ``indicator`` and ``params`` say which."""

    def __init__(
        self, message: str, indicator: Optional[str] = None, params: Optional[dict[str, Any]] = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.indicator = indicator
        self.params = params
