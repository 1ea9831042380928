"""Alerts evaluated by the server (issue 19): real server processes fed exact legacy ticks
through Redis (so the test knows every price), the simulator on the demo clock for indicator
alerts (checked against TA-Lib over /candles), a restart, a webhook receiver, two users."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import http.server
import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import talib

import stocksblitz as sb
from conftest import ServerProcess, http_call, new_user, wait_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _redis_addr() -> tuple[str, int]:
    rest = REDIS_URL.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    return host or "127.0.0.1", int(port or 6379)


class Feed:
    """Publishes legacy index ticks (`ticker:<x>:options` shape) with exact prices."""

    def __init__(self, prefix: str) -> None:
        self.channel = f"{prefix}:options".encode()
        self.sock = socket.create_connection(_redis_addr())
        self.file = self.sock.makefile("rb")

    def tick(self, price: float, symbol: str = "NIFTY 50") -> None:
        body = json.dumps(
            {
                "symbol": symbol,
                "token": 256265,
                "tradingsymbol": symbol,
                "segment": "INDICES",
                "exchange": "NSE",
                "strike": 0.0,
                "expiry": None,
                "type": "EQ",
                "lot_size": 0,
                "tick_size": 0.05,
                "price": price,
                "volume": 0,
                "oi": 0,
                "iv": 0.0,
                "delta": 0.0,
                "gamma": 0.0,
                "theta": 0.0,
                "vega": 0.0,
                "ts": int(time.time()),
                "is_mock": False,
            }
        ).encode()
        parts = [b"PUBLISH", self.channel, body]
        msg = b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        self.sock.sendall(msg)
        line = self.file.readline()
        assert line.startswith(b":"), line

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def fed_server(data: Path, prefix: str, extra: list[str] | None = None) -> ServerProcess:
    srv = ServerProcess(
        data,
        ["--source", "redis", "--redis-pattern", f"{prefix}:*", "--demo-clock", *(extra or [])],
        env={"REDIS_URL": REDIS_URL},
    )
    srv.wait_healthy()
    wait_for(
        lambda: http_call(srv.url + "/health", auth=False)[2]["ingest"]["connected"],
        what="redis connected",
    )
    return srv


def post(srv: ServerProcess, key: str, path: str, body: Any) -> tuple[int, Any]:
    status, _, out = http_call(srv.url + path, "POST", body, token=key)
    return status, out


def events(srv: ServerProcess, key: str, **params: Any) -> list[dict[str, Any]]:
    q = "&".join(f"{k}={v}" for k, v in params.items())
    status, _, body = http_call(srv.url + "/alerts/events?" + q, token=key)
    assert status == 200, body
    return list(body["data"])


def wait_quote(srv: ServerProcess, key: str, price: float) -> None:
    wait_for(
        lambda: http_call(srv.url + "/quote?symbol=NIFTY%2050", token=key)[2].get("ltp") == price,
        what=f"quote {price}",
    )


@pytest.fixture
def fed(tmp_path: Path):
    prefix = f"alerts-{uuid.uuid4().hex[:8]}"
    srv = fed_server(tmp_path / "data", prefix)
    feed = Feed(prefix)
    yield srv, feed, prefix
    feed.close()
    srv.stop()


def test_price_alerts_fire_on_the_crossing_tick_exactly_once(fed) -> None:
    srv, feed, _ = fed
    key = new_user(srv, "alerts-price@example.com")[1]
    other_key = new_user(srv, "alerts-other@example.com")[1]
    feed.tick(25000.0)
    wait_quote(srv, key, 25000.0)
    client = sb.TradingClient(srv.url, api_key=key)
    other = sb.TradingClient(srv.url, api_key=other_key)
    seen: list[sb.AlertEvent] = []
    other_seen: list[sb.AlertEvent] = []
    client.alerts.on(sb.AlertType.PRICE, seen.append)
    other.alerts.on(None, other_seen.append)
    client.alerts.start_monitoring()
    other.alerts.start_monitoring()
    try:
        once = client.alerts.create_price_alert(
            "NIFTY 50", "ltp crosses_above 25010", message="breakout", priority="high"
        )
        again = client.alerts.create_price_alert("NIFTY 50", "ltp > 25020", repeat=True, cooldown=0)
        prices = [25005.0, 25009.95, 25010.0, 25010.05, 25030.0, 25040.0, 25000.0, 25025.0]
        for p in prices:
            feed.tick(p)
        wait_quote(srv, key, 25025.0)
        wait_for(lambda: len(seen) >= 3, what="three firings")
        time.sleep(0.5)  # anything more would arrive by now
        by_rule: dict[str, list[float]] = {}
        for e in seen:
            by_rule.setdefault(str(e.rule_id), []).append(float(e.value or 0))
        # 25010.00 is not above 25010: the crossing is the next tick.
        assert by_rule[once] == [25010.05], by_rule
        # One firing per excursion above 25020: 25030 (25040 is the same one), then 25025.
        assert by_rule[again] == [25030.0, 25025.0], by_rule
        first = next(e for e in seen if e.rule_id == once)
        assert first.message == "breakout" and first.priority == "high"
        assert first.symbol == "NIFTY 50" and first.alert_type == "price"
        assert first.condition == "ltp crosses_above 25010"
        assert client.alerts.get_rule(once)["status"] == "triggered"
        rule = client.alerts.get_rule(again)
        assert (rule["status"], rule["fire_count"]) == ("active", 2)
        # The stored events are the delivered ones; the other user saw none of them.
        stored = client.alerts.get_alerts(alert_type=sb.AlertType.PRICE)
        assert sorted(e.alert_id for e in stored) == sorted(e.alert_id for e in seen)
        assert other_seen == [] and other.alerts.get_alerts() == []
        status, _, body = http_call(srv.url + f"/alerts/{once}", token=other_key)
        assert status == 404, body
        assert client.alerts.get_alert(first.alert_id) == first
        assert other.alerts.get_alert(first.alert_id) is None, "another user's event"
        # Acknowledge and clear keep their old meaning.
        assert client.alerts.acknowledge(first.alert_id) is True
        assert other.alerts.acknowledge(first.alert_id) is False
        assert [e.alert_id for e in client.alerts.get_alerts(unacknowledged_only=True)] == [
            e.alert_id for e in stored if e.alert_id != first.alert_id
        ]
        assert client.alerts.clear_alerts(acknowledged_only=True) == 1
        assert client.alerts.clear_alerts() == 2 and client.alerts.get_alerts() == []
        assert client.alerts.errors == []
    finally:
        client.alerts.stop_monitoring()
        other.alerts.stop_monitoring()


def test_a_malformed_condition_is_a_400_pointing_at_the_token(fed) -> None:
    srv, _, _ = fed
    key = new_user(srv, "alerts-bad@example.com")[1]
    base = {"alert_type": "price", "symbol": "NIFTY 50"}
    for condition, token, column in [
        ("ltpp > 26000", "ltpp", 1),
        ("ltp >> 26000", ">", 6),
        ("ltp > 26,000", ",", 9),
        ("ltp above 26000", "above", 5),
    ]:
        status, body = post(srv, key, "/alerts", {**base, "condition": condition})
        assert status == 400, body
        assert body["code"] == "invalid_condition"
        assert f"column {column}" in body["detail"] and f'"{token}"' in body["detail"], body
    status, body = post(
        srv,
        key,
        "/alerts",
        {**base, "alert_type": "indicator", "timeframe": "5m", "condition": "RSX_14 > 70"},
    )
    assert status == 400 and "RSI" in body["detail"], body
    status, body = post(
        srv, key, "/alerts", {**base, "alert_type": "indicator", "condition": "RSI_14 > 70"}
    )
    assert status == 400 and body["code"] == "invalid_parameter" and "timeframe" in body["detail"]
    status, body = post(
        srv, key, "/alerts", {**base, "symbol": "NIFTY25XYZ99CE", "condition": "ltp > 1"}
    )
    assert status == 400 and "symbol" in body["detail"], body
    client = sb.TradingClient(srv.url, api_key=key)
    with pytest.raises(sb.APIError) as err:
        client.alerts.create_price_alert("NIFTY 50", "ltp => 5")
    assert err.value.status_code == 400 and "column 5" in str(err.value)
    assert http_call(srv.url + "/alerts", token=key)[2]["data"] == [], "nothing was created"


def test_an_alert_survives_a_restart_and_fires_after_it(tmp_path: Path) -> None:
    prefix = f"alerts-{uuid.uuid4().hex[:8]}"
    srv = fed_server(tmp_path / "data", prefix)
    feed = Feed(prefix)
    try:
        key = new_user(srv, "alerts-restart@example.com")[1]
        feed.tick(25000.0)
        wait_quote(srv, key, 25000.0)
        status, body = post(
            srv,
            key,
            "/alerts",
            {"alert_type": "price", "symbol": "NIFTY 50", "condition": "ltp crosses_below 24990"},
        )
        assert status == 201, body
        rule = body["data"]["alert_id"]
        feed.tick(24995.0)
        wait_quote(srv, key, 24995.0)
        srv.stop()
        srv = fed_server(tmp_path / "data", prefix)
        assert events(srv, key) == []
        # The first tick after the restart only records where the price stands.
        for p in (24995.0, 24985.5, 24980.0):
            feed.tick(p)
        got = wait_for(lambda: events(srv, key), what="the alert after the restart")
        assert [(e["alert_id"], e["data"]["left"]["value"]) for e in got] == [(rule, 24985.5)]
    finally:
        feed.close()
        srv.stop()


class Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if Hook.fail_first > 0:
            Hook.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        Hook.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_webhook_receives_a_signed_payload_after_a_retry(fed) -> None:
    srv, feed, _ = fed
    key = new_user(srv, "alerts-hook@example.com")[1]
    Hook.received = []
    Hook.fail_first = 1  # the first delivery is refused with a 503: retried
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        feed.tick(25000.0)
        wait_quote(srv, key, 25000.0)
        secret = "whsec-" + uuid.uuid4().hex
        status, body = post(
            srv,
            key,
            "/alerts",
            {
                "alert_type": "price",
                "symbol": "NIFTY 50",
                "condition": "ltp crosses_above 25001",
                "webhook_url": f"http://127.0.0.1:{hook.server_address[1]}/hook?x=1",
                "webhook_secret": secret,
            },
        )
        assert status == 201 and body["data"]["webhook_secret"] == secret, body
        rule = body["data"]["alert_id"]
        listed = http_call(srv.url + f"/alerts/{rule}", token=key)[2]["data"]
        assert "webhook_secret" not in listed, "the secret is shown once"
        feed.tick(25002.0)
        wait_for(lambda: Hook.received, timeout=20, what="the webhook")
        headers, raw = Hook.received[0]
        ts = headers["x-stocksblitz-timestamp"]
        want = hmac.new(secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
        assert headers["x-stocksblitz-signature"] == f"sha256={want}"
        assert abs(int(ts) - time.time()) < 60
        payload = json.loads(raw)
        stored = events(srv, key)
        assert payload["event_id"] == headers["x-stocksblitz-event"] == stored[0]["event_id"]
        assert payload["alert_id"] == rule and payload["data"]["left"]["value"] == 25002.0
        # A generated secret when none is given, shown once.
        status, body = post(
            srv,
            key,
            "/alerts",
            {
                "alert_type": "price",
                "symbol": "NIFTY 50",
                "condition": "ltp > 1",
                "webhook_url": "http://127.0.0.1:9/unused",
            },
        )
        assert status == 201 and len(body["data"]["webhook_secret"]) == 64, body
        for bad in ("ftp://example.com/x", "not a url", "http://"):
            status, body = post(
                srv,
                key,
                "/alerts",
                {
                    "alert_type": "price",
                    "symbol": "NIFTY 50",
                    "condition": "ltp > 1",
                    "webhook_url": bad,
                },
            )
            assert status == 400 and "webhook_url" in body["detail"], (bad, body)
        metrics = http_call(srv.url + "/metrics", auth=False)[2]
        assert "stocksblitz_alert_webhooks_delivered_total 1" in metrics
    finally:
        hook.shutdown()


def test_async_monitoring_gets_events_raised_by_another_process_of_the_user(fed) -> None:
    srv, _, _ = fed
    key = new_user(srv, "alerts-async@example.com")[1]
    sync_client = sb.TradingClient(srv.url, api_key=key)

    async def main() -> list[sb.AlertEvent]:
        got: list[sb.AlertEvent] = []
        done = asyncio.Event()

        async def on_event(e: sb.AlertEvent) -> None:
            got.append(e)
            if len(got) == 2:
                done.set()

        async with sb.AsyncTradingClient(srv.url, api_key=key) as client:
            client.alerts.on(sb.AlertType.CUSTOM, on_event)
            client.alerts.on("order", on_event)
            await client.alerts.start_monitoring()
            await asyncio.to_thread(
                sync_client.alerts.raise_alert,
                sb.AlertType.CUSTOM,
                sb.AlertPriority.CRITICAL,
                "NIFTY 50",
                "hedge now",
                {"delta": -120},
            )
            await asyncio.to_thread(sync_client.alerts.raise_alert, "order", "low", "", "filled")
            await asyncio.wait_for(done.wait(), 15)
            listed = await client.alerts.get_alerts(priority="critical")
            assert [e.message for e in listed] == ["hedge now"]
            await client.alerts.stop_monitoring()
        return got

    got = asyncio.run(main())
    assert [(e.alert_type, e.priority, e.message) for e in got] == [
        ("custom", "critical", "hedge now"),
        ("order", "low", "filled"),
    ]
    assert got[0].data == {"delta": -120} and got[0].rule_id is None
    assert got[0].timestamp.utcoffset() is not None


def test_indicator_alert_fires_on_the_bar_closes_talib_says(tmp_path: Path) -> None:
    srv = ServerProcess(
        tmp_path / "data",
        [
            "--demo-clock",
            "--demo-speed",
            "90",
            "--tick-interval-ms",
            "100",
            "--bar-grace-ms",
            "0",
            "--backfill-days",
            "2",
        ],
    )
    try:
        srv.wait_healthy()
        srv.wait_quotes("NIFTY")
        # The history first: an indicator over a half-written history is another indicator.
        srv.wait_backfilled(timeout=90)
        key = new_user(srv, "alerts-rsi@example.com")[1]
        client = sb.TradingClient(srv.url, api_key=key)

        def candles() -> tuple[np.ndarray, np.ndarray]:
            status, _, body = http_call(
                srv.url + "/candles?symbol=NIFTY%2050&timeframe=1m&limit=2000", token=key
            )
            assert status == 200, body
            rows = [r for r in body["candles"] if r["complete"]]
            return (
                np.array([int(r["time"]) for r in rows]),
                np.array([float(r["close"]) for r in rows]),
            )

        # A level the RSI of this market keeps crossing: the median of its recent values.
        level = round(float(np.median(talib.RSI(candles()[1], 14)[-60:])), 2)
        rule = client.alerts.create_indicator_alert(
            "NIFTY 50", "1m", "RSI_14", f"crosses {level}", repeat=True, cooldown=0
        )
        rule2 = client.alerts.create_indicator_alert(
            "NIFTY 50", "1m", None, "close > EMA_5", repeat=False
        )
        got = wait_for(
            lambda: (lambda e: e if len(e) >= 3 else None)(
                events(srv, key, alert_id=rule, limit=100)
            ),
            timeout=150,
            what=f"three crossings of RSI {level}",
        )
        times, closes = candles()
        rsi = talib.RSI(closes, 14)
        at = {int(t): i for i, t in enumerate(times)}
        fired = sorted(int(e["data"]["bar_time"]) for e in got)
        for e in got:
            i = at[int(e["data"]["bar_time"])]
            assert abs(e["data"]["left"]["value"] - rsi[i]) <= 1e-9 * abs(rsi[i]), (e, rsi[i])
            assert (rsi[i - 1] - level) * (rsi[i] - level) <= 0 and rsi[i] != level
        # Every crossing between the first and the last firing fired: none missed.
        lo, hi = at[fired[0]], at[fired[-1]]
        crossings = [
            int(times[i])
            for i in range(lo, hi + 1)
            if (rsi[i - 1] <= level < rsi[i]) or (rsi[i - 1] >= level > rsi[i])
        ]
        assert crossings == fired
        # The one-shot comparison fired once, on a bar whose close is above EMA(5).
        ema = talib.EMA(closes, 5)
        one = events(srv, key, alert_id=rule2)
        assert len(one) == 1
        i = at[int(one[0]["data"]["bar_time"])]
        assert closes[i] > ema[i] and abs(one[0]["data"]["right"]["value"] - ema[i]) < 1e-6 * ema[i]
        assert client.alerts.get_rule(rule2)["status"] == "triggered"
    finally:
        srv.stop()


def test_two_replicas_fire_an_alert_once_and_deliver_it_on_either(tmp_path: Path) -> None:
    psycopg = pytest.importorskip("psycopg")
    from conftest import pg_url

    schema = f"t_alerts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg_url() else "?"
    env = {
        "DATABASE_URL": f"{pg_url()}{sep}options=-csearch_path%3D{schema}",
        "REDIS_URL": REDIS_URL,
        "STOCKSBLITZ_KEK": base64.b64encode(os.urandom(32)).decode(),
    }
    feed_prefix = f"alerts-{uuid.uuid4().hex[:8]}"
    args = [
        "--source", "redis", "--redis-pattern", f"{feed_prefix}:*", "--demo-clock",
        "--redis-prefix", f"sbtest{uuid.uuid4().hex[:8]}", "--registration", "open",
    ]  # fmt: skip
    a = ServerProcess(tmp_path / "a", args, env=env)
    b = None
    feed = Feed(feed_prefix)
    client_b = None
    try:
        # One after the other: the first start of a database creates its first user.
        a.wait_healthy()
        b = ServerProcess(tmp_path / "b", args, env=env)
        b.wait_healthy()
        key = new_user(a, "alerts-replicas@example.com")[1]
        feed.tick(25000.0)
        wait_quote(a, key, 25000.0)
        wait_quote(b, key, 25000.0)
        status, body = post(
            a,
            key,
            "/alerts",
            {
                "alert_type": "price",
                "symbol": "NIFTY 50",
                "condition": "ltp crosses 25010",
                "repeat": True,
                "cooldown_secs": 0,
            },
        )
        assert status == 201, body
        rule = body["data"]["alert_id"]

        def gauge(srv: ServerProcess, name: str) -> float:
            text = http_call(srv.url + "/metrics", auth=False)[2]
            return next(float(x.split()[1]) for x in text.splitlines() if x.startswith(name + " "))

        # B learns of the alert made on A (it evaluates the same ticks).
        wait_for(lambda: gauge(b, "stocksblitz_alerts_price") == 1, what="B loads the alert")
        client_b = sb.TradingClient(b.url, api_key=key)
        got: list[sb.AlertEvent] = []
        client_b.alerts.on(None, got.append)
        client_b.alerts.start_monitoring()
        for p in (25000.0, 25011.0, 25009.0, 25012.0):
            feed.tick(p)
        wait_for(lambda: len(got) >= 3, what="three crossings on B's stream")
        time.sleep(1.0)
        stored = events(a, key, alert_id=rule)
        assert len(stored) == 3 and len(got) == 3, (stored, got)
        # Each firing is recorded by whichever replica claims it first, and reaches B's stream
        # either from B itself or over the bus from A: arrival order is not firing order. The
        # firing number is (both replicas count the same ticks), and it orders them.
        by_firing = sorted(got, key=lambda e: e.fire_no or 0)
        assert [e.fire_no for e in by_firing] == [1, 2, 3], [e.fire_no for e in got]
        assert [e.data["left"]["value"] for e in by_firing] == [25011.0, 25009.0, 25012.0]
        assert sorted(e.alert_id for e in got) == sorted(e["event_id"] for e in stored)
        # Both replicas found each firing; each was recorded (and delivered) by one of them.
        found = gauge(a, "stocksblitz_alerts_fired_total") + gauge(
            b, "stocksblitz_alerts_fired_total"
        )
        lost = gauge(a, "stocksblitz_alerts_claimed_elsewhere_total") + gauge(
            b, "stocksblitz_alerts_claimed_elsewhere_total"
        )
        assert (found, lost) == (6, 3), (found, lost)
    finally:
        if client_b is not None:
            client_b.alerts.stop_monitoring()
        feed.close()
        for s in (a, b):
            if s is not None and s.proc.poll() is None:
                s.stop()
        with psycopg.connect(pg_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_the_old_services_names_import() -> None:
    from stocksblitz import (  # noqa: F401  (what old services scripts import)
        AlertEvent,
        AlertPriority,
        AlertType,
        EventStatus,
        Message,
        MessageType,
        NewsCategory,
        NewsItem,
        NewsSentiment,
        Reminder,
        ReminderFrequency,
    )

    assert AlertType.PRICE == "price" and AlertPriority.CRITICAL == "critical"
    assert MessageType.JSON == "json" and ReminderFrequency.MARKET_OPEN == "market_open"
    assert NewsSentiment.NEGATIVE == "negative" and EventStatus.SCHEDULED == "scheduled"
    for service in ("alerts", "messaging", "calendar", "news"):
        assert hasattr(sb.TradingClient, service), service
