"""Enums of the old SDK, with the same string values."""

from __future__ import annotations

from enum import Enum

__all__ = [
    "AlertPriority",
    "AlertStatus",
    "AlertType",
    "DataState",
    "EventStatus",
    "Exchange",
    "MessageChannel",
    "MessagePriority",
    "MessageType",
    "NewsCategory",
    "NewsSentiment",
    "OrderStatus",
    "OrderType",
    "PositionType",
    "ProductType",
    "ReminderFrequency",
    "StrategyStatus",
    "StrategyType",
    "Timeframe",
    "TransactionType",
    "Validity",
]


class _StrEnum(str, Enum):
    def __str__(self) -> str:
        return str(self.value)


class DataState(_StrEnum):
    VALID = "valid"
    STALE = "stale"
    NO_DATA = "no_data"
    NOT_SUBSCRIBED = "not_subscribed"
    ERROR = "error"
    UNAVAILABLE = "unavailable"


class Exchange(_StrEnum):
    NSE = "NSE"
    BSE = "BSE"
    NFO = "NFO"
    BFO = "BFO"
    CDS = "CDS"
    MCX = "MCX"


class Validity(_StrEnum):
    DAY = "DAY"
    IOC = "IOC"
    TTL = "TTL"


class OrderStatus(_StrEnum):
    """Order statuses as the server (and Kite) report them."""

    AMO_REQ_RECEIVED = "AMO REQ RECEIVED"
    OPEN = "OPEN"
    TRIGGER_PENDING = "TRIGGER PENDING"
    COMPLETE = "COMPLETE"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


class PositionType(_StrEnum):
    """Kite's position books (``convert_position``'s ``position_type``)."""

    DAY = "day"
    OVERNIGHT = "overnight"


class StrategyType(_StrEnum):
    CUSTOM = "custom"
    MOMENTUM = "momentum"
    MEAN_REVERSION = "mean_reversion"
    TREND_FOLLOWING = "trend_following"
    ARBITRAGE = "arbitrage"
    SCALPING = "scalping"
    OPTIONS = "options"
    HEDGING = "hedging"


class StrategyStatus(_StrEnum):
    """A strategy's lifecycle on the server (start, pause, resume, stop)."""

    CREATED = "created"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class AlertType(_StrEnum):
    PRICE = "price"
    INDICATOR = "indicator"
    VOLUME = "volume"
    POSITION = "position"
    ORDER = "order"
    CUSTOM = "custom"
    REMINDER = "reminder"


class ReminderFrequency(_StrEnum):
    """How often a reminder fires (on the exchange calendar: sessions, holidays, expiries)."""

    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"
    MARKET_OPEN = "market_open"
    MARKET_CLOSE = "market_close"
    BEFORE_EXPIRY = "before_expiry"


class EventStatus(_StrEnum):
    """A reminder's state on the server."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DISABLED = "disabled"


class AlertStatus(_StrEnum):
    ACTIVE = "active"
    TRIGGERED = "triggered"
    PAUSED = "paused"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class AlertPriority(_StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class MessageType(_StrEnum):
    TEXT = "text"
    JSON = "json"
    SIGNAL = "signal"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    TRADE = "trade"
    ALERT = "alert"


class MessageChannel(_StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    WEBHOOK = "webhook"
    TELEGRAM = "telegram"


class MessagePriority(_StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class NewsCategory(_StrEnum):
    MARKET = "market"
    ECONOMY = "economy"
    CORPORATE = "corporate"
    POLICY = "policy"
    GLOBAL = "global"


class NewsSentiment(_StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


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
    # The old SDK's names and values (accepted everywhere a timeframe is).
    MINUTE_1 = "1min"
    MINUTE_3 = "3min"
    MINUTE_5 = "5min"
    MINUTE_10 = "10min"
    MINUTE_15 = "15min"
    MINUTE_30 = "30min"
    HOUR_1 = "1hour"
    DAY_1 = "1day"

    @classmethod
    def normalize(cls, value: object) -> Timeframe:
        """The canonical member for any spelling of the timeframe table (``"5min"``,
        ``Timeframe.MINUTE_5``, ``5``) — ValueError naming the accepted ones otherwise."""
        from . import _native

        raw = value.value if isinstance(value, Enum) else value
        return cls(_native.timeframe_canonical(raw))
