"""Alerts the server evaluates (the old SDK's ``client.alerts``), sync and async.

The server watches the market: a price alert is evaluated on every quote of its symbol, an
indicator alert on every bar close of its timeframe; both survive restarts and fire once across
replicas. What fires arrives on the stream (``client.stream(alerts=True)``), at the callbacks
registered with :meth:`Alerts.on` once :meth:`Alerts.start_monitoring` runs, and at the alert's
webhook when it has one.

Conditions are one comparison, ``<value> <operator> <value>``:

- operators ``>``, ``>=``, ``<``, ``<=``, ``crosses_above``, ``crosses_below``, ``crosses``;
- price alerts read the quote: ``ltp``, ``bid``, ``ask``, ``open``, ``high``, ``low``,
  ``prev_close``, ``change``, ``change_pct``, ``volume``, ``oi``, ``oi_change``;
- indicator alerts read indicator ids (``RSI_14``, ``MACD_12_26_9.histogram``) and the closed
  bar's ``open``, ``high``, ``low``, ``close``, ``volume``.

A comparison fires when it holds (a repeating one again only after it stopped holding and the
cool-down passed); a crossing fires when the sides change order (a new price alert starts from
the current quote, an indicator alert from the last closed bar). A malformed condition raises
:class:`~stocksblitz.APIError` (400) naming the token and its column.

    alerts = client.alerts
    alerts.on(AlertType.PRICE, lambda e: print(e.message))
    alerts.start_monitoring()
    rule = alerts.create_price_alert("NIFTY 50", "ltp crosses_above 26000", priority=AlertPriority.HIGH)
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING, Any, Callable, Optional, Union
from urllib.parse import quote as _q

from .enums import AlertPriority, AlertType
from .streams import AlertEvent, AsyncStream, Stream, _live_stream

if TYPE_CHECKING:
    from .aio import AsyncTradingClient
    from .client import TradingClient

__all__ = ["AlertEvent", "AlertRule", "Alerts", "AsyncAlerts"]

_OPERATORS = (">", "<", "crosses")

Callback = Callable[[AlertEvent], Any]


class AlertRule(dict):  # type: ignore[type-arg]
    """An alert as the server keeps it (a dict of the server's fields: ``alert_id``,
    ``alert_type``, ``symbol``, ``timeframe``, ``condition``, ``status``, ``fire_count``, …),
    with attribute access."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def _symbol(s: Any) -> str:
    return str(getattr(s, "tradingsymbol", None) or s)


def _indicator_condition(indicator: Any, condition: str) -> str:
    """``("RSI_14", "> 70")`` → ``"RSI_14 > 70"``; a full condition is kept as it is."""
    c = condition.strip()
    if indicator and c.lower().startswith(_OPERATORS):
        return f"{indicator} {c}"
    return c


def _alert_body(
    alert_type: str,
    symbol: Any,
    condition: str,
    timeframe: Any,
    message: str,
    priority: Any,
    repeat: bool,
    cooldown: Optional[float],
    webhook_url: Optional[str],
    webhook_secret: Optional[str],
    expires_at: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alert_type": alert_type,
        "symbol": _symbol(symbol),
        "condition": condition,
        "message": message,
        "priority": str(_value(priority)),
        "repeat": bool(repeat),
    }
    if timeframe is not None:
        body["timeframe"] = str(_value(timeframe))
    if cooldown is not None:
        body["cooldown_secs"] = float(cooldown)
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    if webhook_secret is not None:
        body["webhook_secret"] = webhook_secret
    if expires_at is not None:
        ts = getattr(expires_at, "timestamp", None)
        body["expires_at"] = int(ts() * 1000) if callable(ts) else int(expires_at)
    return body


def _events_params(
    alert_type: Any, priority: Any, symbol: Any, unacknowledged_only: bool, limit: int
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": int(limit)}
    if alert_type is not None:
        params["alert_type"] = str(_value(alert_type))
    if priority is not None:
        params["priority"] = str(_value(priority))
    if symbol is not None:
        params["symbol"] = _symbol(symbol)
    if unacknowledged_only:
        params["acknowledged"] = "false"
    return params


class _Handlers:
    def __init__(self) -> None:
        self._by_type: dict[str, list[Callback]] = {}
        self._lock = threading.Lock()
        self.errors: list[BaseException] = []

    def on(self, alert_type: Union[AlertType, str, None], callback: Callback) -> None:
        if not callable(callback):
            raise TypeError("callback must be callable")
        key = "*" if alert_type in (None, "*") else str(_value(alert_type))
        if key != "*" and key not in {t.value for t in AlertType}:
            raise ValueError(
                f"alert_type must be one of {', '.join(t.value for t in AlertType)} or '*', "
                f"got {alert_type!r}"
            )
        with self._lock:
            self._by_type.setdefault(key, []).append(callback)

    def off(self, alert_type: Union[AlertType, str, None], callback: Optional[Callback]) -> None:
        key = "*" if alert_type in (None, "*") else str(_value(alert_type))
        with self._lock:
            if callback is None:
                self._by_type.pop(key, None)
            else:
                self._by_type[key] = [c for c in self._by_type.get(key, []) if c != callback]

    def dispatch(self, e: AlertEvent) -> None:
        with self._lock:
            targets = [*self._by_type.get(e.alert_type, []), *self._by_type.get("*", [])]
        for cb in targets:
            try:
                cb(e)
            except Exception as err:  # a callback's error must not stop the monitoring
                self.errors.append(err)


class Alerts:
    """``client.alerts``: create alerts the server evaluates, read and acknowledge what they
    raised, and receive them live."""

    def __init__(self, client: TradingClient) -> None:
        self._client = client
        self._handlers = _Handlers()
        self._stream: Optional[Stream] = None
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        text = None if body is None else json.dumps(body)
        return self._client._api._native.request(method, path, text)["data"]

    # ---- alerts the server evaluates ------------------------------------------------------

    def create_price_alert(
        self,
        symbol: Any,
        condition: str,
        message: str = "",
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        repeat: bool = False,
        cooldown: Optional[float] = None,
        webhook_url: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        expires_at: Any = None,
    ) -> str:
        """An alert on every quote of ``symbol`` (``"ltp > 26000"``,
        ``"ltp crosses_below 25500"``, ``"change_pct >= 1.5"``); returns its id. ``repeat``:
        fire again after the condition stopped holding and ``cooldown`` seconds (default 60)
        passed. With ``webhook_url`` each event is also POSTed there, signed with
        ``webhook_secret`` (generated and readable once as ``last_webhook_secret`` when not
        given)."""
        body = _alert_body(
            "price", symbol, condition, None, message, priority, repeat, cooldown,
            webhook_url, webhook_secret, expires_at,
        )  # fmt: skip
        rule = self._call("POST", "/alerts", body)
        self.last_webhook_secret: Optional[str] = rule.get("webhook_secret")
        return str(rule["alert_id"])

    def create_indicator_alert(
        self,
        symbol: Any,
        timeframe: Any,
        indicator: Optional[str],
        condition: str,
        message: str = "",
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        repeat: bool = False,
        cooldown: Optional[float] = None,
        webhook_url: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        expires_at: Any = None,
    ) -> str:
        """An alert evaluated on every ``timeframe`` bar close of ``symbol``:
        ``condition`` either complete (``"RSI_14 > 70"``,
        ``"MACD_12_26_9.histogram crosses_above 0"``, ``"close crosses_above EMA_20"``) or the
        rest after ``indicator`` (``indicator="RSI_14", condition="> 70"``). Returns its id."""
        body = _alert_body(
            "indicator", symbol, _indicator_condition(indicator, condition), timeframe,
            message, priority, repeat, cooldown, webhook_url, webhook_secret, expires_at,
        )  # fmt: skip
        rule = self._call("POST", "/alerts", body)
        self.last_webhook_secret = rule.get("webhook_secret")
        return str(rule["alert_id"])

    def get_rule(self, rule_id: str) -> AlertRule:
        """The alert ``rule_id`` as the server keeps it (status, fire count, …)."""
        return AlertRule(self._call("GET", f"/alerts/{_q(str(rule_id))}"))

    def get_rules(self, status: Optional[str] = None, symbol: Any = None) -> list[AlertRule]:
        """Your alerts, newest first (``status``: active, triggered, paused, cancelled,
        expired)."""
        params: dict[str, Any] = {}
        if status is not None:
            params["status"] = str(_value(status))
        if symbol is not None:
            params["symbol"] = _symbol(symbol)
        rows = self._client._api._native.get("/alerts", params or None)["data"]
        return [AlertRule(r) for r in rows]

    def pause_alert(self, rule_id: str) -> AlertRule:
        return AlertRule(self._call("PATCH", f"/alerts/{_q(str(rule_id))}", {"status": "paused"}))

    def resume_alert(self, rule_id: str) -> AlertRule:
        return AlertRule(self._call("PATCH", f"/alerts/{_q(str(rule_id))}", {"status": "active"}))

    def cancel_alert(self, rule_id: str) -> AlertRule:
        """Stop evaluating the alert (kept, with its events, as ``cancelled``)."""
        return AlertRule(self._call("DELETE", f"/alerts/{_q(str(rule_id))}"))

    delete_alert = cancel_alert

    # ---- events -----------------------------------------------------------------------------

    def raise_alert(
        self,
        alert_type: Union[AlertType, str] = AlertType.CUSTOM,
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        symbol: Any = "",
        message: str = "",
        data: Optional[dict[str, Any]] = None,
    ) -> AlertEvent:
        """Raise an event yourself: stored on the server and delivered to your streams and
        callbacks (in every process of yours) like a fired alert."""
        body = {
            "alert_type": str(_value(alert_type)),
            "priority": str(_value(priority)),
            "symbol": _symbol(symbol),
            "message": message,
            "data": data or {},
        }
        return AlertEvent._from_json(self._call("POST", "/alerts/events", body))

    def get_alert(self, alert_id: str) -> Optional[AlertEvent]:
        """The event ``alert_id`` (an :class:`AlertEvent`'s id), None when you have none such."""
        from .exceptions import APIError

        try:
            return AlertEvent._from_json(self._call("GET", f"/alerts/events/{_q(str(alert_id))}"))
        except APIError as e:
            if e.status_code in (400, 404):
                return None
            raise

    def get_alerts(
        self,
        alert_type: Union[AlertType, str, None] = None,
        priority: Union[AlertPriority, str, None] = None,
        symbol: Any = None,
        unacknowledged_only: bool = False,
        limit: int = 100,
    ) -> list[AlertEvent]:
        """Your events, newest first."""
        params = _events_params(alert_type, priority, symbol, unacknowledged_only, limit)
        rows = self._client._api._native.get("/alerts/events", params)["data"]
        return [AlertEvent._from_json(r) for r in rows]

    def acknowledge(self, alert_id: str) -> bool:
        """Mark the event acknowledged; False when you have no such event."""
        from .exceptions import APIError

        try:
            self._call("POST", f"/alerts/events/{_q(str(alert_id))}/acknowledge")
        except APIError as e:
            if e.status_code == 404:
                return False
            raise
        return True

    def clear_alerts(self, acknowledged_only: bool = False) -> int:
        """Delete your events (the alerts stay); returns how many."""
        path = "/alerts/events" + ("?acknowledged_only=true" if acknowledged_only else "")
        return int(self._call("DELETE", path)["deleted"])

    # ---- live delivery ------------------------------------------------------------------------

    def on(self, alert_type: Union[AlertType, str, None], callback: Callback) -> Alerts:
        """Call ``callback(event)`` for events of ``alert_type`` (None or '*': all), on the
        monitoring thread (:meth:`start_monitoring`)."""
        self._handlers.on(alert_type, callback)
        return self

    def off(
        self, alert_type: Union[AlertType, str, None], callback: Optional[Callback] = None
    ) -> Alerts:
        self._handlers.off(alert_type, callback)
        return self

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions the callbacks raised (they never stop the monitoring)."""
        return self._handlers.errors

    @property
    def monitoring(self) -> bool:
        return self._stream is not None and not self._stream.closed

    def start_monitoring(self) -> None:
        """Receive events on a background thread and hand them to the callbacks (returns once
        the stream is connected; events from then on are delivered, reconnects included)."""
        with self._lock:
            if self.monitoring:
                return
            native = self._client._api._native.stream()
            self._stream = _live_stream(native, "alerts", "alert", self._dispatch)

    def _dispatch(self, u: Any) -> None:
        if isinstance(u, AlertEvent):
            self._handlers.dispatch(u)

    def stop_monitoring(self) -> None:
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None

    def __repr__(self) -> str:
        return f"<Alerts monitoring={self.monitoring}>"


class AsyncAlerts:
    """``aclient.alerts``: :class:`Alerts` with awaitables; callbacks run on the event loop
    (coroutine functions are awaited)."""

    def __init__(self, client: AsyncTradingClient) -> None:
        self._client = client
        self._handlers = _Handlers()
        self._stream: Optional[AsyncStream] = None
        self._task: Optional[asyncio.Task[None]] = None

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        text = None if body is None else json.dumps(body)
        return (await self._client._native.request_async(method, path, text))["data"]

    async def create_price_alert(
        self,
        symbol: Any,
        condition: str,
        message: str = "",
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        repeat: bool = False,
        cooldown: Optional[float] = None,
        webhook_url: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        expires_at: Any = None,
    ) -> str:
        body = _alert_body(
            "price", symbol, condition, None, message, priority, repeat, cooldown,
            webhook_url, webhook_secret, expires_at,
        )  # fmt: skip
        rule = await self._call("POST", "/alerts", body)
        self.last_webhook_secret: Optional[str] = rule.get("webhook_secret")
        return str(rule["alert_id"])

    async def create_indicator_alert(
        self,
        symbol: Any,
        timeframe: Any,
        indicator: Optional[str],
        condition: str,
        message: str = "",
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        repeat: bool = False,
        cooldown: Optional[float] = None,
        webhook_url: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        expires_at: Any = None,
    ) -> str:
        body = _alert_body(
            "indicator", symbol, _indicator_condition(indicator, condition), timeframe,
            message, priority, repeat, cooldown, webhook_url, webhook_secret, expires_at,
        )  # fmt: skip
        rule = await self._call("POST", "/alerts", body)
        self.last_webhook_secret = rule.get("webhook_secret")
        return str(rule["alert_id"])

    async def get_rule(self, rule_id: str) -> AlertRule:
        return AlertRule(await self._call("GET", f"/alerts/{_q(str(rule_id))}"))

    async def get_rules(self) -> list[AlertRule]:
        return [AlertRule(r) for r in await self._call("GET", "/alerts")]

    async def cancel_alert(self, rule_id: str) -> AlertRule:
        return AlertRule(await self._call("DELETE", f"/alerts/{_q(str(rule_id))}"))

    async def raise_alert(
        self,
        alert_type: Union[AlertType, str] = AlertType.CUSTOM,
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        symbol: Any = "",
        message: str = "",
        data: Optional[dict[str, Any]] = None,
    ) -> AlertEvent:
        body = {
            "alert_type": str(_value(alert_type)),
            "priority": str(_value(priority)),
            "symbol": _symbol(symbol),
            "message": message,
            "data": data or {},
        }
        return AlertEvent._from_json(await self._call("POST", "/alerts/events", body))

    async def get_alerts(
        self,
        alert_type: Union[AlertType, str, None] = None,
        priority: Union[AlertPriority, str, None] = None,
        symbol: Any = None,
        unacknowledged_only: bool = False,
        limit: int = 100,
    ) -> list[AlertEvent]:
        params = _events_params(alert_type, priority, symbol, unacknowledged_only, limit)
        rows = (await self._client._native.get_async("/alerts/events", params))["data"]
        return [AlertEvent._from_json(r) for r in rows]

    async def acknowledge(self, alert_id: str) -> bool:
        from .exceptions import APIError

        try:
            await self._call("POST", f"/alerts/events/{_q(str(alert_id))}/acknowledge")
        except APIError as e:
            if e.status_code == 404:
                return False
            raise
        return True

    async def clear_alerts(self, acknowledged_only: bool = False) -> int:
        path = "/alerts/events" + ("?acknowledged_only=true" if acknowledged_only else "")
        return int((await self._call("DELETE", path))["deleted"])

    def on(self, alert_type: Union[AlertType, str, None], callback: Callback) -> AsyncAlerts:
        self._handlers.on(alert_type, callback)
        return self

    def off(
        self, alert_type: Union[AlertType, str, None], callback: Optional[Callback] = None
    ) -> AsyncAlerts:
        self._handlers.off(alert_type, callback)
        return self

    @property
    def monitoring(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start_monitoring(self) -> None:
        """Receive events in a task on the running loop and hand them to the callbacks
        (returns once the stream is connected)."""
        if self.monitoring:
            return
        s = self._client.stream()
        await s.subscribe(alerts=True)
        self._stream = s
        live = asyncio.Event()

        async def pump() -> None:
            async for u in s:
                if getattr(u, "type", None) == "status" and getattr(u, "stream", "") == "alerts":
                    if getattr(u, "state", "") == "live":
                        live.set()
                    continue
                if isinstance(u, AlertEvent):
                    with self._handlers._lock:
                        targets = [
                            *self._handlers._by_type.get(u.alert_type, []),
                            *self._handlers._by_type.get("*", []),
                        ]
                    for cb in targets:
                        try:
                            r = cb(u)
                            if asyncio.iscoroutine(r):
                                await r
                        except Exception as err:
                            self._handlers.errors.append(err)

        self._task = asyncio.get_running_loop().create_task(pump())
        try:
            await asyncio.wait_for(live.wait(), timeout=15)
        except asyncio.TimeoutError:
            await self.stop_monitoring()
            from .exceptions import TimeoutError as SbTimeout

            raise SbTimeout("the alert stream did not connect within 15 s") from None

    async def stop_monitoring(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
