"""The Python SDK over the network, through the real wheel against real server processes with
the simulator on the demo clock: the old deployment note's script runs unchanged, answers are
right (an option's own price, TA-Lib's RSI over the SDK's own candles), sessions refresh and
survive a rejected token, errors are the documented exceptions, threads share one client."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import stocksblitz as sb
from conftest import ServerProcess, free_port, http_call, http_get

talib = pytest.importorskip("talib")

PASSWORD = "TestSDK123!@#$"
SIM = ["--demo-clock", "--tick-interval-ms", "3000", "--bar-grace-ms", "0", "--backfill-days", "1"]


def start(data: Path, args: list[str], port: int | None = None) -> ServerProcess:
    s = ServerProcess(data, args, port=port)
    s.wait_healthy()
    s.wait_backfilled()
    s.wait_quotes("BANKNIFTY")
    return s


def register(url: str, email: str) -> None:
    status, _, body = http_call(
        url + "/v1/auth/register", "POST", {"email": email, "password": PASSWORD}, auth=False
    )
    assert status in (201, 409), body


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    ident = free_port()
    s = start(
        tmp_path_factory.mktemp("sdk") / "data", [*SIM, "--identity-addr", f"127.0.0.1:{ident}"]
    )
    s.identity_url = f"http://127.0.0.1:{ident}"  # type: ignore[attr-defined]
    yield s
    s.stop()


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


OLD_SCRIPT = """
from stocksblitz import TradingClient

client = TradingClient.from_credentials(
    api_url="http://localhost:8081",
    user_service_url="http://localhost:8001",
    username="test_sdk@example.com",
    password="TestSDK123!@#$",
)
futures = client.Instrument("{future}")
print(f"Futures LTP: {{futures.ltp}}")
nifty = client.Instrument("NIFTY 50")
tf = nifty['5m']
print(f"RSI: {{tf.rsi[14]}}")
print(f"SMA: {{tf.sma[20]}}")
print(f"EMA: {{tf.ema[12]}}")
"""


def test_the_old_deployment_script_runs_unchanged(tmp_path: Path) -> None:
    if not (port_free(8081) and port_free(8001)):
        pytest.skip("ports 8081/8001 are taken on this machine")
    s = start(tmp_path / "data", [*SIM, "--identity-addr", "127.0.0.1:8001"], port=8081)
    try:
        register(s.url, "test_sdk@example.com")
        _, _, listing = http_get(s.url + "/instruments?underlying=NIFTY&kind=future")
        future = listing["instruments"][0]["tradingsymbol"]
        out = subprocess.run(
            [sys.executable, "-c", OLD_SCRIPT.format(future=future)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        lines = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines())
        assert set(lines) == {"Futures LTP", "RSI", "SMA", "EMA"}
        for k, v in lines.items():
            assert float(v) > 0, (k, v)
        # The same with an API key client.
        key = s.api_key()
        client = sb.TradingClient(api_url="http://localhost:8081", api_key=key)
        assert client.Instrument(future).ltp > 0
        assert client.Instrument("NIFTY 50")["5m"].rsi[14] > 0
        assert repr(client) == "<TradingClient api_url='http://localhost:8081' auth='API Key'>"
    finally:
        s.stop()


def test_right_answers_with_an_api_key(srv: ServerProcess) -> None:
    client = sb.TradingClient(api_url=srv.url, api_key=srv.api_key())
    snap = http_get(srv.url + "/monitor/snapshot?underlying=BANKNIFTY")[2]
    opt_symbol = sorted(snap["options"])[len(snap["options"]) // 2]
    opt = client.Instrument(opt_symbol)
    bank = client.Instrument("BANKNIFTY")
    for _ in range(20):
        client.clear_cache()
        before = http_get(srv.url + "/monitor/snapshot?underlying=BANKNIFTY")[2]
        opt_ltp, bank_ltp = opt.ltp, bank.ltp
        after = http_get(srv.url + "/monitor/snapshot?underlying=BANKNIFTY")[2]
        if before["options"][opt_symbol]["ts"] == after["options"][opt_symbol]["ts"] and (
            before["underlying"]["ts"] == after["underlying"]["ts"]
        ):
            break
    # An option's price is its own, never the index's; BANKNIFTY is BANKNIFTY's.
    assert opt_ltp == before["options"][opt_symbol]["ltp"]
    assert opt_ltp != bank_ltp
    assert bank_ltp == before["underlying"]["ltp"]
    q = opt._fetch_quote()
    assert q["_state"] in ("valid", "stale") and q["_data_age"] >= 0
    assert q["_timestamp"].utcoffset().total_seconds() == 19800
    assert set(q["greeks"]) >= {"delta", "gamma", "theta", "vega", "iv", "_state"}

    # tf.rsi[14] equals TA-Lib over the SDK's own candles; tf[1] is the previous candle.
    tf = client.Instrument("NIFTY 50")["5m"]
    for _ in range(20):
        client.clear_cache()
        candles = tf.candles(500, as_frame=False)
        rsi, prev, cur = tf.rsi[14], tf[1].close, tf.close
        client.clear_cache()
        again = tf.candles(500, as_frame=False)
        if [c.close for c in again] == [c.close for c in candles]:
            break
    closes = np.array([c.close for c in candles])
    assert rsi == pytest.approx(talib.RSI(closes, 14)[-1], rel=1e-9)
    assert prev == candles[-2].close and cur == candles[-1].close
    assert tf[1].time < tf[0].time and tf[0].time.utcoffset().total_seconds() == 19800
    macd = tf.macd[12, 26, 9]
    assert set(macd) == {"macd", "signal", "histogram"}
    assert tf.bbands[20, 2]["upper"] > tf.bbands[20, 2]["lower"]
    assert tf.rsi(length=14) == tf.rsi[14] == tf.rsi()
    assert tf[3].rsi[14] != tf.rsi[14]
    # The newest history point is the current value, read while the forming bar stood still
    # (the simulator ticks: a value read a tick apart is another bar's).
    for _ in range(20):
        client.clear_cache()
        hist, now = tf.rsi.history(50), tf.rsi[14]
        client.clear_cache()
        if tf.rsi.history(50).iloc[-1] == hist.iloc[-1]:
            break
    assert len(hist) == 50 and hist.iloc[-1] == pytest.approx(now)
    frame = tf.candles(10)
    assert list(frame.columns)[:4] == ["open", "high", "low", "close"] and len(frame) == 10
    # Mistakes are errors that say what is wrong.
    with pytest.raises(ValueError, match="accepted"):
        client.Instrument("NIFTY 50")["7m"]
    with pytest.raises(AttributeError, match="did you mean 'rsi'"):
        tf.rsx  # noqa: B018
    with pytest.raises(TypeError, match="no parameter 'period'"):
        tf.rsi(period=14)
    with pytest.raises(sb.InstrumentNotFoundError, match="2024-01-25"):
        client.Instrument("NIFTY24JANFUT").ltp  # noqa: B018
    with pytest.raises(sb.DataUnavailableError):
        client.Instrument("RELIANCE").ltp  # noqa: B018
    # Registry, @ specs, compatibility attributes.
    assert client.indicators.get_default_params("bb") == {"length": 20, "std": 2.0}
    assert (
        client.indicators.validate_indicator("RSI", {"length": 0}, raise_on_error=False)[0] is False
    )
    with pytest.raises(sb.IndicatorValidationError, match="length"):
        client.indicators.validate_indicator("RSI", {"length": 0})
    atm = client.Instrument("NSE@NIFTY@Nw@Call@ATM")
    assert atm.ltp > 0
    assert client._api._access_token == client._api._token == srv.api_key()
    assert client._api.get("/fo/expiries", {"underlying": "NIFTY"})["underlying"] == "NIFTY"


def test_session_refreshes_survives_a_rejected_token_and_ends_at_logout(tmp_path: Path) -> None:
    ident = free_port()
    s = start(
        tmp_path / "data",
        [*SIM, "--identity-addr", f"127.0.0.1:{ident}", "--access-token-ttl-secs", "5"],
    )
    try:
        register(s.url, "session@example.com")
        client = sb.TradingClient.from_credentials(
            api_url=s.url,
            user_service_url=f"http://127.0.0.1:{ident}",
            username="session@example.com",
            password=PASSWORD,
        )
        nifty = client.Instrument("NIFTY 50")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            client.clear_cache()
            assert nifty.ltp > 0
            time.sleep(0.5)
        stats = client._api._native.stats()
        assert stats["logins"] == 1 and stats["refreshes"] >= 5, stats
        # A token the server rejects: refreshed once and the request retried.
        client._api._access_token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"
        client.clear_cache()
        assert nifty.ltp > 0
        assert client._api._native.stats()["refreshes"] == stats["refreshes"] + 1
        client.logout()
        with pytest.raises(sb.AuthenticationError):
            nifty.ltp  # noqa: B018
        # Repeated failed logins: RateLimitError carrying retry_after.
        bad = sb.TradingClient(api_url=s.url, user_service_url=f"http://127.0.0.1:{ident}")
        errors = []
        for _ in range(8):
            try:
                bad.login("session@example.com", "wrong-password-123")
            except sb.RateLimitError as e:
                errors.append(e)
                break
            except sb.AuthenticationError:
                pass
        assert errors and errors[0].retry_after and errors[0].retry_after > 0
    finally:
        s.stop()


class _TextErrorHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"Internal Server Error: upstream exploded")

    def log_message(self, *args: Any) -> None:
        pass


def test_errors_are_the_documented_exceptions() -> None:
    # Nobody listening: APIError quickly (bounded retries), not a hang.
    dead = sb.TradingClient(api_url=f"http://127.0.0.1:{free_port()}", api_key="sb_00000000_x")
    t = time.monotonic()
    with pytest.raises(sb.APIError, match=r"cannot reach .*[Rr]efused"):
        dead.Instrument("NIFTY 50").ltp  # noqa: B018
    assert time.monotonic() - t < 3
    # A server that accepts and never answers: TimeoutError after the timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        slow = sb.TradingClient(api_url=f"http://127.0.0.1:{port}", api_key="k", timeout=1.0)
        t = time.monotonic()
        with pytest.raises(sb.TimeoutError):
            slow.Instrument("NIFTY 50").ltp  # noqa: B018
        assert time.monotonic() - t < 3
    # A non-JSON error body: APIError with the status and a snippet, never a JSONDecodeError.
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TextErrorHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        c = sb.TradingClient(api_url=f"http://127.0.0.1:{httpd.server_port}", api_key="k")
        with pytest.raises(sb.APIError) as e:
            c.Instrument("NIFTY 50").ltp  # noqa: B018
        assert e.value.status_code == 500 and "upstream exploded" in str(e.value)
    finally:
        httpd.shutdown()
    with pytest.raises(ValueError, match="api_key"):
        sb.TradingClient(api_url="http://localhost:8081")


def test_threads_share_one_client(srv: ServerProcess) -> None:
    register(srv.url, "threads@example.com")
    client = sb.TradingClient.from_credentials(
        api_url=srv.url,
        user_service_url=srv.identity_url,  # type: ignore[attr-defined]
        username="threads@example.com",
        password=PASSWORD,
    )
    errors: list[BaseException] = []
    calls = [0] * 8
    stop = time.monotonic() + 10

    def work(i: int) -> None:
        inst = client.Instrument(["NIFTY 50", "BANKNIFTY", "NIFTY FIN SERVICE", "SENSEX"][i % 4])
        try:
            while time.monotonic() < stop:
                if i % 2:
                    assert inst.ltp > 0
                else:
                    assert inst["1m"].sma[5] > 0
                calls[i] += 1
                if calls[i] % 50 == 0:
                    client.clear_cache()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert all(c > 10 for c in calls), calls
    assert client._api._native.stats()["logins"] == 1
