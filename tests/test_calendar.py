"""Reminders on the exchange calendar (issue 19), on a real server's demo clock: a reminder for
the market open fires at the next session open the demo clock reaches, a one-off fires once,
"before expiry" follows the expiry calendar; the expected instants are worked out here from the
NSE holiday list, independently of the server."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import stocksblitz as sb
from conftest import IST, ServerProcess, http_call, new_user, wait_for

ADMIN = {"email": "cal-admin@example.com", "password": "Calendar-Admin-Password-1!"}
ENV = {"STOCKSBLITZ_ADMIN_EMAIL": ADMIN["email"], "STOCKSBLITZ_ADMIN_PASSWORD": ADMIN["password"]}
HOLIDAYS = {
    dt.date.fromisoformat(row["date"])
    for row in csv.DictReader(
        line
        for line in (Path(__file__).parent / "data" / "nse-holidays.csv").read_text().splitlines()
        if not line.startswith("#")
    )
}


def trading_days_after(day: dt.date, n: int) -> list[dt.date]:
    out = []
    while len(out) < n:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in HOLIDAYS:
            out.append(day)
    return out


def at_ist(day: dt.date, hh: int, mm: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=IST)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("cal") / "data", ["--demo-clock"], env=ENV)
    s.wait_healthy()
    yield s
    s.stop()


def admin_token(srv: ServerProcess) -> str:
    status, _, body = http_call(srv.url + "/v1/auth/login", "POST", ADMIN, auth=False)
    assert status == 200, body
    return str(body["access_token"])


def clock(srv: ServerProcess) -> dict[str, Any]:
    status, _, body = http_call(srv.url + "/clock", token=admin_token(srv))
    assert status == 200, body
    return dict(body)


def test_a_market_open_reminder_fires_at_the_next_open_of_the_demo_clock(
    srv: ServerProcess,
) -> None:
    key = new_user(srv, "cal-open@example.com")[1]
    client = sb.TradingClient(srv.url, api_key=key)
    cal = client.calendar
    fired: list[sb.AlertEvent] = []
    cal.on_reminder(fired.append)
    try:
        today = dt.date.fromisoformat(clock(srv)["ist"][:10])
        nxt, after = trading_days_after(today, 2)
        r = cal.set_recurring_reminder(
            "the market is open", sb.ReminderFrequency.MARKET_OPEN, data={"plan": "gap check"}
        )
        assert r.next_time == at_ist(nxt, 9, 15), (r, nxt)
        assert r.event_status is sb.EventStatus.SCHEDULED and r.fire_count == 0
        upcoming = cal.get_upcoming(hours=24 * 7)
        assert [w for w, x in upcoming if x.reminder_id == r.reminder_id][:2] == [
            at_ist(nxt, 9, 15),
            at_ist(after, 9, 15),
        ]
        assert fired == [], "nothing before the open"
        # The end of today's session: the demo clock moves on to the next open.
        status, _, moved = http_call(
            srv.url + "/admin/clock",
            "POST",
            {"to": f"{today} 15:30:00"},
            token=admin_token(srv),
        )
        assert status == 200 and moved["ist"].startswith(f"{nxt} 09:15"), moved
        wait_for(lambda: fired, what="the reminder at the open")
        e = fired[0]
        assert e.alert_type == "reminder" and e.message == "the market is open"
        assert e.data["due_at"] == int(at_ist(nxt, 9, 15).timestamp() * 1000)
        assert e.data["data"] == {"plan": "gap check"}
        again = cal.get_reminder(r.reminder_id)
        assert again is not None and again.fire_count == 1
        assert again.next_time == at_ist(after, 9, 15)
        assert len(fired) == 1
        # It is an alert event too: listed, acknowledged like one.
        listed = client.alerts.get_alerts(alert_type=sb.AlertType.REMINDER)
        assert [x.alert_id for x in listed] == [e.alert_id]
        assert cal.cancel_reminder(r.reminder_id) is True
        assert cal.cancel_reminder(r.reminder_id) is False
        assert cal.get_reminders() == []
        assert [x.status for x in cal.get_reminders(include_finished=True)] == ["cancelled"]
    finally:
        client.alerts.stop_monitoring()


def test_one_off_disable_enable_and_before_expiry(srv: ServerProcess) -> None:
    key = new_user(srv, "cal-once@example.com")[1]
    other_key = new_user(srv, "cal-other@example.com")[1]
    cal = sb.TradingClient(srv.url, api_key=key).calendar
    now = dt.datetime.fromisoformat(clock(srv)["ist"].replace(" ", "T")).replace(tzinfo=IST)
    soon = now + dt.timedelta(minutes=2)
    once = cal.set_reminder("check the hedge", soon.replace(tzinfo=None), priority="high")
    assert once.next_time is not None
    assert abs((once.next_time - soon).total_seconds()) < 1
    # Disabled reminders do not fire; enabled again they move on (a one-off past its time is
    # then finished — it would never fire again — so test disable on a recurring one).
    daily = cal.set_recurring_reminder("journal", "daily", time="18:00")
    off = cal.disable_reminder(daily.reminder_id)
    assert off.event_status is sb.EventStatus.DISABLED
    assert cal.enable_reminder(daily.reminder_id).event_status is sb.EventStatus.SCHEDULED
    # Before expiry: the next weekly NIFTY expiry (the symbols calendar), 60 minutes before
    # its close.
    today = now.date()
    expiry = sb.next_expiries("NIFTY", 1, "weekly", start=today + dt.timedelta(days=1))[0]
    exp = cal.set_recurring_reminder(
        "roll the weekly", sb.ReminderFrequency.BEFORE_EXPIRY, underlying="NIFTY", offset_minutes=60
    )
    expiry_today = sb.next_expiries("NIFTY", 1, "weekly", start=today)[0] == today
    first = today if expiry_today and now < at_ist(today, 14, 30) else expiry
    assert exp.next_time == at_ist(first, 14, 30), (exp, first)
    weekly = cal.set_recurring_reminder("review", "weekly", time="20:15", weekday="Saturday")
    assert weekly.next_time is not None and weekly.next_time.weekday() == 5
    assert weekly.next_time.strftime("%H:%M") == "20:15"
    # Another user sees none of it.
    status, _, body = http_call(srv.url + f"/reminders/{once.reminder_id}", token=other_key)
    assert status == 404, body
    assert http_call(srv.url + "/reminders", token=other_key)[2]["data"] == []
    # Bad input names the field.
    for body, needle in [
        ({"message": "x", "frequency": "daily", "time": "25:00"}, "time"),
        ({"message": "x", "frequency": "weekly", "time": "10:00"}, "weekday"),
        ({"message": "x", "frequency": "hourly"}, "frequency"),
        ({"message": "x", "at": 1}, "at"),
        ({"message": "", "frequency": "market_open"}, "message"),
        ({"message": "x", "frequency": "market_open", "offset_minutes": 99999}, "offset"),
        ({"message": "x", "frequency": "before_expiry", "underlying": "N!FTY"}, "underlying"),
    ]:
        status, _, out = http_call(srv.url + "/reminders", "POST", body, token=key)
        assert status == 400 and needle in out["detail"], (body, out)
    # The one-off fires once when the clock passes it, then it is completed.
    status, _, _ = http_call(
        srv.url + "/admin/clock", "POST", {"advance_minutes": 3}, token=admin_token(srv)
    )
    assert status == 200

    def done() -> Any:
        r = cal.get_reminder(once.reminder_id)
        return r if r is not None and r.status == "completed" else None

    finished = wait_for(done, what="the one-off reminder")
    assert finished.fire_count == 1 and finished.next_time is None
    alerts = sb.TradingClient(srv.url, api_key=key).alerts
    events = wait_for(lambda: alerts.get_alerts(alert_type="reminder"), what="its event")
    assert [e.message for e in events] == ["check the hedge"]
    assert events[0].priority == "high"


def test_async_reminders(srv: ServerProcess) -> None:
    import asyncio

    key = new_user(srv, "cal-async@example.com")[1]

    async def main() -> None:
        async with sb.AsyncTradingClient(srv.url, api_key=key) as client:
            r = await client.calendar.set_recurring_reminder(
                "close soon", "market_close", None, None, 5
            )
            assert r.next_time is not None and r.next_time.strftime("%H:%M") == "15:25"
            assert [x.reminder_id for x in await client.calendar.get_reminders()] == [r.reminder_id]
            assert await client.calendar.cancel_reminder(r.reminder_id) is True
            assert await client.calendar.get_reminders() == []

    asyncio.run(main())
