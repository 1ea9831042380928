"""The WebSockets through a real server with the simulator on the demo clock: indicator updates
on bar close (checked against TA-Lib over /candles) and per tick, ping/pong, error codes for bad
messages, 1008 on failed authentication, and the monitor stream's quotes."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import ServerProcess, http_get

talib = pytest.importorskip("talib")
ws_client = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import ConnectionClosed  # noqa: E402


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(
        tmp_path_factory.mktemp("ws") / "data",
        [
            "--demo-clock",
            "--tick-interval-ms",
            "200",
            "--bar-grace-ms",
            "0",
            "--backfill-days",
            "1",
        ],
    )
    s.wait_healthy()
    s.wait_backfilled()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def ws_url(srv: ServerProcess, path: str, **params: Any) -> str:
    return (
        srv.url.replace("http://", "ws://")
        + path
        + ("?" + urllib.parse.urlencode(params) if params else "")
    )


def recv(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))


def recv_until(ws: Any, pred, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "timed out waiting for a message"
        msg = recv(ws, left)
        if pred(msg):
            return msg


def test_indicator_stream_updates_on_bar_close_and_per_tick(srv: ServerProcess) -> None:
    with ws_client.connect(ws_url(srv, "/indicators/stream", token=srv.api_key())) as ws:
        assert recv(ws) == {"type": "success", "action": "auth"}
        ws.send(json.dumps({"action": "ping"}))
        assert recv(ws)["type"] == "pong"
        assert "stocksblitz_websockets_open 1" in http_get(srv.url + "/metrics")[2]
        ws.send(
            json.dumps(
                {
                    "action": "subscribe",
                    "symbol": "NIFTY 50",
                    "timeframe": "1m",
                    "indicators": ["SMA_3", "RSI_5"],
                }
            )
        )
        ok = recv(ws)
        assert ok["type"] == "success" and ok["indicators"] == ["SMA_3", "RSI_5"], ok
        # The next bar close (at most a minute away on the demo clock) brings one update per id.
        first = recv_until(ws, lambda m: m.get("type") == "indicator_update", timeout=80)
        second = recv(ws)
        assert {first["indicator_id"], second["indicator_id"]} == {"SMA_3", "RSI_5"}
        assert first["candle_time"] == second["candle_time"] and first["complete"] is True
        t = first["candle_time"]
        _, _, candles = http_get(
            srv.url
            + "/candles?"
            + urllib.parse.urlencode(
                {"symbol": "NIFTY 50", "timeframe": "1m", "to": t, "limit": 500}
            )
        )
        closes = np.array([c["close"] for c in candles["candles"]], dtype=float)
        assert candles["candles"][-1]["time"] == t
        by_id = {m["indicator_id"]: m["value"] for m in (first, second)}
        assert by_id["SMA_3"] == pytest.approx(talib.SMA(closes, 3)[-1], rel=1e-9)
        rsi = talib.RSI(closes, 5)[-1]
        assert (by_id["RSI_5"] is None and np.isnan(rsi)) or by_id["RSI_5"] == pytest.approx(
            rsi, rel=1e-9
        )

        # Tick mode: updates while the bar forms.
        ws.send(
            json.dumps(
                {
                    "action": "subscribe",
                    "symbol": "NIFTY 50",
                    "timeframe": "5m",
                    "indicators": ["EMA_3"],
                    "mode": "tick",
                }
            )
        )
        assert recv_until(ws, lambda m: m.get("type") == "success", 5)["mode"] == "tick"
        ticks = [recv_until(ws, lambda m: m.get("timeframe") == "5m", 5) for _ in range(2)]
        assert all(m["indicator_id"] == "EMA_3" and isinstance(m["value"], float) for m in ticks)

        # Bad messages are answered with error codes; the connection stays usable.
        for raw, code in [
            ("not json", "invalid_json"),
            (json.dumps({"action": "dance"}), "unknown_action"),
            (json.dumps({"symbol": "NIFTY"}), "missing_action"),
            (
                json.dumps(
                    {
                        "action": "subscribe",
                        "symbol": "NIFTY",
                        "timeframe": "1m",
                        "indicators": ["RSX"],
                    }
                ),
                "invalid_parameter",
            ),
            (
                json.dumps(
                    {
                        "action": "subscribe",
                        "symbol": "NIFTY",
                        "timeframe": "7m",
                        "indicators": ["RSI"],
                    }
                ),
                "invalid_parameter",
            ),
        ]:
            ws.send(raw)
            err = recv_until(ws, lambda m: m.get("type") == "error", 5)
            assert err["error_code"] == code, (raw, err)
        ws.send(json.dumps({"action": "unsubscribe", "symbol": "NIFTY 50", "timeframe": "5m"}))
        done = recv_until(ws, lambda m: m.get("type") == "success", 5)
        assert done["action"] == "unsubscribe" and done["indicators"] == ["EMA_3"]
        ws.send(json.dumps({"action": "ping"}))
        assert recv_until(ws, lambda m: m.get("type") == "pong", 5)


def closed_with(url: str, first: str | None = None, headers: dict[str, str] | None = None) -> int:
    with ws_client.connect(url, additional_headers=headers) as ws:
        if first is not None:
            ws.send(first)
        with pytest.raises(ConnectionClosed) as e:
            for _ in range(10):
                ws.recv(timeout=15)
    assert e.value.rcvd is not None
    return e.value.rcvd.code


def test_stream_authentication_failures_close_with_1008(srv: ServerProcess) -> None:
    assert closed_with(ws_url(srv, "/indicators/stream", token="sb_00000000_" + "x" * 43)) == 1008
    assert closed_with(ws_url(srv, "/indicators/stream", token="not-a-token")) == 1008
    assert closed_with(ws_url(srv, "/indicators/stream"), json.dumps({"action": "ping"})) == 1008
    monitor = ws_url(srv, "/monitor/stream", underlying="NIFTY")
    assert closed_with(monitor, json.dumps({"action": "ping"})) == 1008
    assert closed_with(monitor, json.dumps({"action": "auth", "token": "not-a-token"})) == 1008
    # Authentication by first message works on every stream (what a browser does: it cannot
    # set headers, and a token in the URL ends up in logs).
    for path in ("/indicators/stream", "/monitor/stream?underlying=NIFTY", "/orders/stream"):
        with ws_client.connect(srv.url.replace("http://", "ws://") + path) as ws:
            ws.send(json.dumps({"action": "auth", "token": srv.api_key()}))
            assert recv(ws) == {"type": "success", "action": "auth"}, path
            if path.startswith("/monitor"):
                assert recv(ws)["channel"].startswith("ticker:nifty:")


def test_tick_mode_with_bars_sends_the_forming_bar_and_each_close(tmp_path: Path) -> None:
    """What a chart needs: the forming bar on every change (complete: false, same time until it
    closes), then the closed bar (complete: true) — equal to /candles afterwards. (A demo clock
    at speed 20 closes a minute bar every 3 s.)"""
    srv = ServerProcess(
        tmp_path / "data",
        ["--demo-clock", "--demo-speed", "20", "--tick-interval-ms", "100", "--bar-grace-ms", "0"],
    )
    try:
        srv.wait_healthy()
        srv.wait_quotes("NIFTY")
        forming_bar_then_close(srv)
    finally:
        srv.stop()


def forming_bar_then_close(srv: ServerProcess) -> None:
    with ws_client.connect(ws_url(srv, "/indicators/stream", token=srv.api_key())) as ws:
        assert recv(ws)["type"] == "success"
        ws.send(
            json.dumps(
                {
                    "action": "subscribe",
                    "symbol": "NIFTY 50",
                    "timeframe": "1m",
                    "mode": "tick",
                    "bars": True,
                    "indicators": [],
                }
            )
        )
        ok = recv(ws)
        assert ok["type"] == "success" and ok["mode"] == "tick" and ok["bars"] is True
        forming = recv_until(ws, lambda m: m.get("type") == "bar", 10)
        assert forming["complete"] is False and forming["closed_at"] is None
        assert ok["last_closed"] is None or forming["time"] > ok["last_closed"]
        closed = recv_until(ws, lambda m: m.get("type") == "bar" and m["complete"], 30)
        assert closed["time"] >= forming["time"] and closed["closed_at"] is not None
        after = recv_until(ws, lambda m: m.get("type") == "bar", 10)
        assert after["time"] > closed["time"] and after["complete"] is False
    candles = http_get(
        srv.url
        + f"/candles?symbol=NIFTY%2050&timeframe=1m&from={closed['time']}&to={closed['time']}"
    )[2]["candles"]
    stored = next(c for c in candles if c["time"] == closed["time"])
    for k in ("open", "high", "low", "close"):
        assert stored[k] == closed[k], (k, stored, closed)


def test_monitor_stream_sends_the_underlyings_quotes(srv: ServerProcess) -> None:
    with ws_client.connect(
        ws_url(srv, "/monitor/stream", underlying="NIFTY 50", token=srv.api_key())
    ) as ws:
        seen: dict[str, dict[str, Any]] = {}
        channels = {"ticker:nifty:options", "ticker:nifty:underlying"}
        deadline = time.monotonic() + 10
        # A poll's batch lists the changed quotes in no particular order: wait for both kinds.
        while time.monotonic() < deadline and not channels <= set(seen):
            m = recv(ws)
            seen[m["channel"]] = m["payload"]
        assert set(seen) == channels
        assert seen["ticker:nifty:underlying"]["tradingsymbol"] == "NIFTY 50"
        opt = seen["ticker:nifty:options"]
        assert opt["tradingsymbol"].startswith("NIFTY") and opt["ltp"] == opt["price"]
        ws.send(json.dumps({"action": "ping"}))
        assert recv_until(ws, lambda m: m.get("type") == "pong", 5)


def test_streams_take_the_credential_headers_the_http_routes_take(srv: ServerProcess) -> None:
    """One parser for HTTP and WebSockets: `bearer` in any case and `X-API-Key` work on an
    upgrade as they do on a request."""
    key = srv.api_key()
    for headers in (
        {"Authorization": f"Bearer {key}"},
        {"Authorization": f"bearer {key}"},
        {"Authorization": f"BEARER  {key}"},
        {"X-API-Key": key},
    ):
        for path in ("/indicators/stream", "/orders/stream"):
            with ws_client.connect(ws_url(srv, path), additional_headers=headers) as ws:
                assert recv(ws) == {"type": "success", "action": "auth"}, (path, headers)
        with ws_client.connect(
            ws_url(srv, "/monitor/stream", underlying="NIFTY"), additional_headers=headers
        ) as ws:
            assert recv(ws)["channel"].startswith("ticker:nifty:"), headers
        req = urllib.request.Request(srv.url + "/quote?symbol=NIFTY%2050", headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200, headers
    wrong = {"Authorization": "bearer sb_00000000_" + "x" * 43}
    assert closed_with(ws_url(srv, "/indicators/stream"), headers=wrong) == 1008
