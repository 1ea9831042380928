"""Reminders on the exchange calendar (the old SDK's ``client.calendar``), kept and fired by
the server.

A reminder fires on the exchange clock (the demo clock when the server runs one): once at an
instant, daily or weekly at an IST time, at every session open or close (trading days only:
weekends and NSE holidays are skipped), or on every expiry day of an underlying before the
close. A firing arrives like an alert — an :class:`~stocksblitz.AlertEvent` of type
``reminder`` — at the callbacks given to :meth:`Calendar.on_reminder` (or
``client.alerts.on(AlertType.REMINDER, ...)``) and on ``client.stream(alerts=True)``.

    cal = client.calendar
    cal.on_reminder(lambda e: print(e.message))
    cal.set_recurring_reminder("square off MIS", ReminderFrequency.MARKET_CLOSE, offset_minutes=15)
    cal.set_recurring_reminder("roll NIFTY", "before_expiry", underlying="NIFTY", offset_minutes=60)
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Union
from urllib.parse import quote as _q

from .enums import AlertPriority, AlertType, EventStatus, ReminderFrequency
from .streams import AlertEvent
from .timeframe import IST

if TYPE_CHECKING:
    from .client import TradingClient

__all__ = ["AsyncCalendar", "Calendar", "Reminder"]


def _dt_ms(ms: Optional[int]) -> Optional[_dt.datetime]:
    return None if ms is None else _dt.datetime.fromtimestamp(ms / 1000, IST)


@dataclass(frozen=True)
class Reminder:
    """A reminder as the server keeps it (the old SDK's ``Reminder``)."""

    reminder_id: str
    message: str
    frequency: str
    status: str
    enabled: bool
    next_time: Optional[_dt.datetime]
    priority: str
    data: dict[str, Any]
    at: Optional[_dt.datetime] = None
    time: Optional[str] = None
    weekday: Optional[str] = None
    offset_minutes: int = 0
    underlying: Optional[str] = None
    fire_count: int = 0
    last_fired: Optional[_dt.datetime] = None

    @property
    def event_status(self) -> EventStatus:
        if self.status == "scheduled" and not self.enabled:
            return EventStatus.DISABLED
        return EventStatus(self.status)

    @classmethod
    def _from_json(cls, d: dict[str, Any]) -> Reminder:
        return cls(
            reminder_id=str(d["reminder_id"]),
            message=str(d.get("message", "")),
            frequency=str(d.get("frequency", "")),
            status=str(d.get("status", "")),
            enabled=bool(d.get("enabled", False)),
            next_time=_dt_ms(d.get("next_at")),
            priority=str(d.get("priority", "")),
            data=dict(d.get("data") or {}),
            at=_dt_ms(d.get("at")),
            time=d.get("time"),
            weekday=d.get("weekday"),
            offset_minutes=int(d.get("offset_minutes") or 0),
            underlying=d.get("underlying"),
            fire_count=int(d.get("fire_count") or 0),
            last_fired=_dt_ms(d.get("last_fired_at")),
        )


def _epoch_ms(at: Any) -> int:
    """A datetime (naive = IST), ``"YYYY-MM-DD HH:MM[:SS]"`` (IST), or epoch seconds / ms."""
    if isinstance(at, _dt.datetime):
        aware = at if at.tzinfo is not None else at.replace(tzinfo=IST)
        return int(aware.timestamp() * 1000)
    if isinstance(at, str):
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                return _epoch_ms(_dt.datetime.strptime(at.strip(), fmt))
            except ValueError:
                continue
        raise ValueError(f"at: expected YYYY-MM-DD HH:MM[:SS] (IST), got {at!r}")
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return int(at * 1000) if at < 10**11 else int(at)
    raise TypeError(f"at: a datetime, an IST time string or epoch seconds, got {type(at).__name__}")


def _time(t: Any) -> Optional[str]:
    if t is None:
        return None
    if isinstance(t, _dt.time):
        return f"{t.hour:02d}:{t.minute:02d}"
    return str(t)


class Calendar:
    """``client.calendar``: reminders on the exchange calendar."""

    def __init__(self, client: TradingClient) -> None:
        self._client = client

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        text = None if body is None else json.dumps(body)
        return self._client._api._native.request(method, path, text)["data"]

    def set_reminder(
        self,
        message: str,
        at: Any,
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        data: Optional[dict[str, Any]] = None,
    ) -> Reminder:
        """A one-off reminder at ``at`` (a datetime — naive means IST —, an IST
        ``"YYYY-MM-DD HH:MM"`` or epoch seconds) on the exchange clock."""
        body = {
            "message": message,
            "frequency": "once",
            "at": _epoch_ms(at),
            "priority": str(getattr(priority, "value", priority)),
            "data": data or {},
        }
        return Reminder._from_json(self._call("POST", "/reminders", body))

    def set_recurring_reminder(
        self,
        message: str,
        frequency: Union[ReminderFrequency, str],
        time: Any = None,
        weekday: Optional[str] = None,
        offset_minutes: int = 0,
        underlying: Optional[str] = None,
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        data: Optional[dict[str, Any]] = None,
    ) -> Reminder:
        """``daily`` / ``weekly`` at ``time`` (``"HH:MM"`` IST; weekly on ``weekday``),
        ``market_open`` / ``market_close`` (``offset_minutes`` before; negative: after), or
        ``before_expiry`` of ``underlying`` (``offset_minutes`` before that day's close)."""
        body: dict[str, Any] = {
            "message": message,
            "frequency": str(getattr(frequency, "value", frequency)),
            "offset_minutes": int(offset_minutes),
            "priority": str(getattr(priority, "value", priority)),
            "data": data or {},
        }
        if time is not None:
            body["time"] = _time(time)
        if weekday is not None:
            body["weekday"] = weekday
        if underlying is not None:
            body["underlying"] = underlying
        return Reminder._from_json(self._call("POST", "/reminders", body))

    def get_reminder(self, reminder_id: str) -> Optional[Reminder]:
        from .exceptions import APIError

        try:
            return Reminder._from_json(self._call("GET", f"/reminders/{_q(str(reminder_id))}"))
        except APIError as e:
            if e.status_code == 404:
                return None
            raise

    def get_reminders(self, include_finished: bool = False) -> list[Reminder]:
        """Your reminders, soonest first (``include_finished``: completed and cancelled too)."""
        rows = [Reminder._from_json(r) for r in self._call("GET", "/reminders")]
        return [r for r in rows if include_finished or r.status == "scheduled"]

    def get_upcoming(self, hours: float = 24) -> list[tuple[_dt.datetime, Reminder]]:
        """Every occurrence of your enabled reminders in the next ``hours`` (exchange clock),
        soonest first, with its reminder."""
        by_id = {r.reminder_id: r for r in self.get_reminders()}
        rows = self._client._api._native.get(
            "/reminders/upcoming", {"hours": max(1, round(hours))}
        )["data"]
        out = []
        for u in rows:
            r = by_id.get(str(u["reminder_id"]))
            when = _dt_ms(u["at"])
            if r is not None and when is not None:
                out.append((when, r))
        return out

    def _patch(self, reminder_id: str, enabled: bool) -> Reminder:
        path = f"/reminders/{_q(str(reminder_id))}"
        return Reminder._from_json(self._call("PATCH", path, {"enabled": enabled}))

    def enable_reminder(self, reminder_id: str) -> Reminder:
        """Enable again (it moves on to its next occurrence after now)."""
        return self._patch(reminder_id, True)

    def disable_reminder(self, reminder_id: str) -> Reminder:
        return self._patch(reminder_id, False)

    def cancel_reminder(self, reminder_id: str) -> bool:
        """Cancel; False when you have no such reminder or it is finished already."""
        from .exceptions import APIError

        try:
            r = self._call("DELETE", f"/reminders/{_q(str(reminder_id))}")
        except APIError as e:
            if e.status_code in (404, 409):
                return False
            raise
        return r.get("status") == "cancelled"

    def on_reminder(self, callback: Callable[[AlertEvent], Any]) -> Calendar:
        """Call ``callback(event)`` for every reminder that fires (starts the alerts'
        monitoring thread when it is not running)."""
        alerts = self._client.alerts
        alerts.on(AlertType.REMINDER, callback)
        if not alerts.monitoring:
            alerts.start_monitoring()
        return self

    def off_reminder(self, callback: Optional[Callable[[AlertEvent], Any]] = None) -> Calendar:
        self._client.alerts.off(AlertType.REMINDER, callback)
        return self

    def __repr__(self) -> str:
        return "<Calendar>"


class AsyncCalendar:
    """``aclient.calendar``: :class:`Calendar` with awaitables (reminders fire as alert events:
    ``aclient.alerts.on(AlertType.REMINDER, cb)`` and ``await aclient.alerts.start_monitoring()``)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        text = None if body is None else json.dumps(body)
        return (await self._client._native.request_async(method, path, text))["data"]

    async def set_reminder(
        self,
        message: str,
        at: Any,
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        data: Optional[dict[str, Any]] = None,
    ) -> Reminder:
        body = {
            "message": message,
            "frequency": "once",
            "at": _epoch_ms(at),
            "priority": str(getattr(priority, "value", priority)),
            "data": data or {},
        }
        return Reminder._from_json(await self._call("POST", "/reminders", body))

    async def set_recurring_reminder(
        self,
        message: str,
        frequency: Union[ReminderFrequency, str],
        time: Any = None,
        weekday: Optional[str] = None,
        offset_minutes: int = 0,
        underlying: Optional[str] = None,
        priority: Union[AlertPriority, str] = AlertPriority.MEDIUM,
        data: Optional[dict[str, Any]] = None,
    ) -> Reminder:
        body: dict[str, Any] = {
            "message": message,
            "frequency": str(getattr(frequency, "value", frequency)),
            "offset_minutes": int(offset_minutes),
            "priority": str(getattr(priority, "value", priority)),
            "data": data or {},
        }
        if time is not None:
            body["time"] = _time(time)
        if weekday is not None:
            body["weekday"] = weekday
        if underlying is not None:
            body["underlying"] = underlying
        return Reminder._from_json(await self._call("POST", "/reminders", body))

    async def get_reminders(self, include_finished: bool = False) -> list[Reminder]:
        rows = [Reminder._from_json(r) for r in await self._call("GET", "/reminders")]
        return [r for r in rows if include_finished or r.status == "scheduled"]

    async def cancel_reminder(self, reminder_id: str) -> bool:
        from .exceptions import APIError

        try:
            r = await self._call("DELETE", f"/reminders/{_q(str(reminder_id))}")
        except APIError as e:
            if e.status_code in (404, 409):
                return False
            raise
        return r.get("status") == "cancelled"
