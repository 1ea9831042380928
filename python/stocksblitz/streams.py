"""Live updates over the server's WebSockets: quotes, bar closes, indicator values, order and
trade events — as an iterator, with callbacks, or ``async for``.

The connections live in the Rust core: heartbeats find a dead connection within seconds, it is
replaced with jittered backoff and every subscription is sent again, and the bar closes and
indicator values missed meanwhile are fetched (``/candles``, ``/indicators/history``) before
anything new — so every bar close arrives exactly once, in order; order and trade events missed
are read from the order book. A slow consumer gets the newest quote of each instrument
(latest wins) and never loses a bar close, an indicator value, an order or a trade.

    with client.stream(quotes=["NIFTY 50"], indicators=[("NIFTY 50", "5m", "RSI_14")]) as s:
        for update in s:
            ...

    async with aclient.stream() as s:
        await s.subscribe(bars=[("NIFTY 50", "1m")], orders=True)
        async for update in s:
            ...
"""

from __future__ import annotations

import datetime as _dt
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Union

from .timeframe import IST

__all__ = [
    "AlertEvent",
    "AsyncStream",
    "BarUpdate",
    "IndicatorUpdate",
    "Message",
    "NewsItem",
    "OrderUpdate",
    "QuoteUpdate",
    "StatusUpdate",
    "Stream",
    "TradeUpdate",
    "Update",
]


@dataclass(frozen=True)
class QuoteUpdate:
    """An instrument's latest quote (latest wins: a slow consumer skips stale ones)."""

    symbol: str
    ltp: Optional[float]
    bid: Optional[float]
    ask: Optional[float]
    bid_qty: Optional[int]
    ask_qty: Optional[int]
    volume: Optional[int]
    oi: Optional[int]
    ts: Optional[int]
    data: dict[str, Any] = field(repr=False)
    type: str = field(default="quote", init=False)


@dataclass(frozen=True)
class BarUpdate:
    """A bar that closed; ``time`` is its start, epoch seconds (``datetime``: IST)."""

    symbol: str
    timeframe: str
    time: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    oi: Optional[int]
    #: When the server closed the bar, epoch ms (None for a bar recovered by a gap fill): a
    #: consumer's feed latency is its clock at arrival minus this.
    closed_at: Optional[int] = None
    type: str = field(default="bar", init=False)

    @property
    def datetime(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.time, IST)


@dataclass(frozen=True)
class IndicatorUpdate:
    """An indicator's value at a bar close; ``candle_time`` is the bar's start, epoch seconds.
    ``value`` is a number, or a dict of named outputs (``MACD``: macd, signal, histogram)."""

    symbol: str
    timeframe: str
    indicator_id: str
    value: Union[float, dict[str, Optional[float]], None]
    candle_time: int
    type: str = field(default="indicator", init=False)


@dataclass(frozen=True)
class OrderUpdate:
    """An order's state changed (Kite's order fields in ``data``)."""

    order_id: str
    status: str
    data: dict[str, Any] = field(repr=False)
    type: str = field(default="order", init=False)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class TradeUpdate:
    """A fill (Kite's trade fields in ``data``)."""

    trade_id: str
    order_id: Optional[str]
    data: dict[str, Any] = field(repr=False)
    type: str = field(default="trade", init=False)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class StatusUpdate:
    """A connection became live (subscribed and caught up) or dropped (``reason``)."""

    stream: str
    state: str
    reason: Optional[str] = None
    type: str = field(default="status", init=False)


@dataclass(frozen=True)
class AlertEvent:
    """An alert fired on the server, or an event raised with ``raise_alert`` (the old SDK's
    ``AlertEvent``). ``alert_id`` is the event's own id (what ``acknowledge`` takes);
    ``rule_id`` the server alert that fired it (None for a raised event)."""

    alert_id: str
    alert_type: str
    priority: str
    symbol: str
    message: str
    data: dict[str, Any]
    timestamp: _dt.datetime
    acknowledged: bool = False
    rule_id: Optional[str] = None
    fire_no: Optional[int] = None
    type: str = field(default="alert", init=False)

    @property
    def event_id(self) -> str:
        return self.alert_id

    @property
    def condition(self) -> Optional[str]:
        """The condition that fired (None for a raised event)."""
        c = self.data.get("condition")
        return None if c is None else str(c)

    @property
    def value(self) -> Optional[float]:
        """The condition's left side when it fired (``ltp``, ``RSI_14``, …)."""
        left = self.data.get("left")
        return left.get("value") if isinstance(left, dict) else None

    @classmethod
    def _from_json(cls, d: dict[str, Any]) -> AlertEvent:
        rule = d.get("alert_id")
        return cls(
            alert_id=str(d["event_id"]),
            alert_type=str(d.get("alert_type", "")),
            priority=str(d.get("priority", "")),
            symbol=str(d.get("symbol", "")),
            message=str(d.get("message", "")),
            data=dict(d.get("data") or {}),
            timestamp=_dt.datetime.fromtimestamp(int(d.get("timestamp", 0)) / 1000, IST),
            acknowledged=bool(d.get("acknowledged", False)),
            rule_id=None if rule is None else str(rule),
            fire_no=d.get("fire_no"),
        )


@dataclass(frozen=True)
class Message:
    """A message between your own clients (the old SDK's ``Message``): published to
    ``topic`` (``"*"``: a broadcast) or sent to ``recipient``."""

    message_id: str
    topic: Optional[str]
    content: Any
    message_type: str
    sender: str
    recipient: Optional[str]
    metadata: dict[str, Any]
    timestamp: _dt.datetime
    read: bool = False
    type: str = field(default="message", init=False)

    @classmethod
    def _from_json(cls, d: dict[str, Any]) -> Message:
        return cls(
            message_id=str(d["message_id"]),
            topic=d.get("topic"),
            content=d.get("content"),
            message_type=str(d.get("message_type", "")),
            sender=str(d.get("sender", "")),
            recipient=d.get("recipient"),
            metadata=dict(d.get("metadata") or {}),
            timestamp=_dt.datetime.fromtimestamp(int(d.get("timestamp", 0)) / 1000, IST),
            read=bool(d.get("read", False)),
        )


@dataclass(frozen=True)
class NewsItem:
    """A news item (the old SDK's ``NewsItem``). ``sentiment`` is positive / negative /
    neutral from ``sentiment_score`` ∈ [-1, 1], a lexicon score (VADER rules, VADER lexicon
    with Henry's finance words) scored by the server on ingest: it reads words, not meaning."""

    news_id: str
    title: str
    summary: str
    source: str
    url: Optional[str]
    category: str
    symbols: list[str]
    sentiment: str
    sentiment_score: float
    timestamp: _dt.datetime
    type: str = field(default="news", init=False)

    @classmethod
    def _from_json(cls, d: dict[str, Any]) -> NewsItem:
        return cls(
            news_id=str(d["news_id"]),
            title=str(d.get("title", "")),
            summary=str(d.get("summary", "")),
            source=str(d.get("source", "")),
            url=d.get("url"),
            category=str(d.get("category", "")),
            symbols=list(d.get("symbols") or []),
            sentiment=str(d.get("sentiment", "")),
            sentiment_score=float(d.get("sentiment_score") or 0.0),
            timestamp=_dt.datetime.fromtimestamp(int(d.get("published_at", 0)) / 1000, IST),
        )


Update = Union[
    QuoteUpdate,
    BarUpdate,
    IndicatorUpdate,
    OrderUpdate,
    TradeUpdate,
    AlertEvent,
    Message,
    NewsItem,
    StatusUpdate,
]

_KINDS = ("quote", "bar", "indicator", "order", "trade", "alert", "message", "news", "status")


def _typed(u: dict[str, Any]) -> Update:
    t = u.get("type")
    if t == "quote":
        return QuoteUpdate(
            symbol=u["symbol"],
            ltp=u.get("ltp"),
            bid=u.get("bid"),
            ask=u.get("ask"),
            bid_qty=u.get("bid_qty"),
            ask_qty=u.get("ask_qty"),
            volume=u.get("volume"),
            oi=u.get("oi"),
            ts=u.get("ts"),
            data=u,
        )
    if t == "bar":
        return BarUpdate(
            symbol=u["symbol"],
            timeframe=u["timeframe"],
            time=u["time"],
            open=u["open"],
            high=u["high"],
            low=u["low"],
            close=u["close"],
            volume=u.get("volume") or 0,
            oi=u.get("oi"),
            closed_at=u.get("closed_at"),
        )
    if t == "indicator":
        return IndicatorUpdate(
            symbol=u["symbol"],
            timeframe=u["timeframe"],
            indicator_id=u["indicator_id"],
            value=u.get("value"),
            candle_time=u["candle_time"],
        )
    if t == "order":
        d = u["data"]
        return OrderUpdate(order_id=str(d.get("order_id")), status=d.get("status", ""), data=d)
    if t == "alert":
        return AlertEvent._from_json(u["data"])
    if t == "message":
        return Message._from_json(u["data"])
    if t == "news":
        return NewsItem._from_json(u["data"])
    if t == "trade":
        d = u["data"]
        oid = d.get("order_id")
        return TradeUpdate(
            trade_id=str(d.get("trade_id")), order_id=None if oid is None else str(oid), data=d
        )
    return StatusUpdate(
        stream=u.get("stream", ""), state=u.get("state", ""), reason=u.get("reason")
    )


def _subs(
    quotes: Optional[Iterable[Any]],
    indicators: Optional[Iterable[Any]],
    bars: Optional[Iterable[Any]],
) -> tuple[
    Optional[list[str]], Optional[list[tuple[str, str, str]]], Optional[list[tuple[str, str]]]
]:
    """Normalise the arguments: instruments may be given as Instrument objects; indicators as
    (symbol, timeframe, id) and bars as (symbol, timeframe)."""

    def sym(x: Any) -> str:
        return str(getattr(x, "tradingsymbol", None) or x)

    q = None if quotes is None else [sym(x) for x in quotes]
    ind = None
    if indicators is not None:
        ind = []
        for item in indicators:
            s, tf, i = item
            ind.append((sym(s), str(tf), str(i)))
    b = None
    if bars is not None:
        b = []
        for item in bars:
            s, tf = item
            b.append((sym(s), str(tf)))
    return q, ind, b


class _Callbacks:
    def __init__(self) -> None:
        self._by_kind: dict[str, list[Callable[[Update], Any]]] = {}
        self._lock = threading.Lock()

    def on(self, kind: str, callback: Callable[[Update], Any]) -> None:
        if kind != "*" and kind not in _KINDS:
            raise ValueError(f"kind must be one of {', '.join(_KINDS)} or '*', got {kind!r}")
        if not callable(callback):
            raise TypeError("callback must be callable")
        with self._lock:
            self._by_kind.setdefault(kind, []).append(callback)

    def off(self, kind: str, callback: Optional[Callable[[Update], Any]] = None) -> None:
        with self._lock:
            if callback is None:
                self._by_kind.pop(kind, None)
            else:
                self._by_kind[kind] = [c for c in self._by_kind.get(kind, []) if c != callback]

    def targets(self, kind: str) -> list[Callable[[Update], Any]]:
        with self._lock:
            return [*self._by_kind.get(kind, []), *self._by_kind.get("*", [])]


class Stream:
    """A live stream (sync): iterate it, call :meth:`next`, or register callbacks with
    :meth:`on` and :meth:`start` them on a background thread. Also a context manager."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._callbacks = _Callbacks()
        self._thread: Optional[threading.Thread] = None
        self.errors: list[BaseException] = []

    def subscribe(
        self,
        quotes: Optional[Iterable[Any]] = None,
        indicators: Optional[Iterable[Any]] = None,
        bars: Optional[Iterable[Any]] = None,
        orders: bool = False,
        alerts: bool = False,
        messages: bool = False,
        news: bool = False,
    ) -> Stream:
        """Add subscriptions. Returns once the server accepted the bar and indicator ones; an
        unknown symbol, timeframe or indicator raises (APIError / ValueError). ``alerts``:
        the user's alert events (:class:`AlertEvent`); ``messages``: the user's messages
        (:class:`Message`)."""
        q, ind, b = _subs(quotes, indicators, bars)
        self._native.subscribe(
            quotes=q,
            indicators=ind,
            bars=b,
            orders=orders,
            alerts=alerts,
            messages=messages,
            news=news,
        )
        return self

    def next(self, timeout: Optional[float] = None) -> Optional[Update]:
        """The next update, waiting at most ``timeout`` seconds (None: until one comes);
        None on timeout. Raises StopIteration once closed."""
        u = self._native.next(timeout)
        return None if u is None else _typed(u)

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Update:
        u = self._native.next(None)
        if u is None:  # pragma: no cover - next(None) only returns on an update or a close
            raise StopIteration
        return _typed(u)

    def on(self, kind: str, callback: Callable[[Update], Any]) -> Stream:
        """Call ``callback(update)`` for updates of ``kind`` (quote, bar, indicator, order,
        trade, alert, message, news, status, or '*' for all) — from :meth:`start`'s thread or :meth:`run`."""
        self._callbacks.on(kind, callback)
        return self

    def off(self, kind: str, callback: Optional[Callable[[Update], Any]] = None) -> Stream:
        self._callbacks.off(kind, callback)
        return self

    def _dispatch(self, u: Update) -> None:
        for cb in self._callbacks.targets(u.type):
            try:
                cb(u)
            except Exception as e:  # a callback's error must not stop the stream
                self.errors.append(e)

    def run(self, duration: Optional[float] = None) -> None:
        """Deliver updates to the callbacks in this thread for ``duration`` seconds (None:
        until closed)."""
        import time

        end = None if duration is None else time.monotonic() + duration
        while not self._native.closed:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return
            try:
                u = self.next(timeout=0.5 if left is None else min(0.5, left))
            except StopIteration:
                return
            if u is not None:
                self._dispatch(u)

    def start(self) -> Stream:
        """Deliver updates to the callbacks on a background (daemon) thread."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self.run, name="stocksblitz-stream", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._native.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    @property
    def closed(self) -> bool:
        return bool(self._native.closed)

    @property
    def stats(self) -> dict[str, int]:
        """connects, reconnects, dead (found by the heartbeat), gap_fills, gap_filled_updates,
        quotes_coalesced, delivered."""
        return dict(self._native.stats())

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Stream {'closed' if self.closed else 'open'}>"


class AsyncStream:
    """A live stream for asyncio: ``async for update in stream``, ``await stream.next()``,
    ``async with``. Waiting never blocks the event loop."""

    def __init__(self, native: Any, pending: Optional[dict[str, Any]] = None) -> None:
        self._native = native
        self._pending = pending
        self._callbacks = _Callbacks()
        self.errors: list[BaseException] = []

    async def _ensure(self) -> None:
        if self._pending:
            p, self._pending = self._pending, None
            await self.subscribe(**p)

    async def subscribe(
        self,
        quotes: Optional[Iterable[Any]] = None,
        indicators: Optional[Iterable[Any]] = None,
        bars: Optional[Iterable[Any]] = None,
        orders: bool = False,
        alerts: bool = False,
        messages: bool = False,
        news: bool = False,
    ) -> AsyncStream:
        q, ind, b = _subs(quotes, indicators, bars)
        await self._native.subscribe_async(
            quotes=q,
            indicators=ind,
            bars=b,
            orders=orders,
            alerts=alerts,
            messages=messages,
            news=news,
        )
        return self

    async def next(self) -> Optional[Update]:
        """The next update (None once the stream is closed)."""
        await self._ensure()
        u = await self._native.next_async()
        return None if u is None else _typed(u)

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> Update:
        u = await self.next()
        if u is None:
            raise StopAsyncIteration
        return u

    def on(self, kind: str, callback: Callable[[Update], Any]) -> AsyncStream:
        """Call ``callback(update)`` (a function or a coroutine function) from :meth:`run`."""
        self._callbacks.on(kind, callback)
        return self

    async def run(self, duration: Optional[float] = None) -> None:
        """Deliver updates to the callbacks for ``duration`` seconds (None: until closed)."""
        import asyncio
        import inspect

        async def loop() -> None:
            async for u in self:
                for cb in self._callbacks.targets(u.type):
                    try:
                        r = cb(u)
                        if inspect.isawaitable(r):
                            await r
                    except Exception as e:
                        self.errors.append(e)

        if duration is None:
            await loop()
        else:
            try:
                await asyncio.wait_for(loop(), duration)
            except asyncio.TimeoutError:
                pass

    def close(self) -> None:
        self._native.close()

    @property
    def closed(self) -> bool:
        return bool(self._native.closed)

    @property
    def stats(self) -> dict[str, int]:
        return dict(self._native.stats())

    async def __aenter__(self) -> AsyncStream:
        await self._ensure()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<AsyncStream {'closed' if self.closed else 'open'}>"


def _live_stream(native_stream: Any, feed: str, kind: str, on_item: Callable[[Any], Any]) -> Stream:
    """A started :class:`Stream` subscribed to one per-user feed (``alerts``, ``messages`` or
    ``news``) handing its ``kind`` updates to ``on_item`` on a background thread; returns once
    the feed's connection is live (TimeoutError after 15 s, the stream closed)."""
    live = threading.Event()

    def on_status(u: Any) -> None:
        if getattr(u, "stream", None) == feed and getattr(u, "state", None) == "live":
            live.set()

    s = Stream(native_stream)
    s.on(kind, on_item).on("status", on_status)
    s.subscribe(**{feed: True})
    s.start()
    if not live.wait(timeout=15):
        s.close()
        from .exceptions import TimeoutError as SbTimeout

        raise SbTimeout(f"the {feed} stream did not connect within 15 s")
    return s
