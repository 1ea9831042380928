"""Paper trading through a real server (native routes): a market order fills at the simulator's
own price (no book: at the LTP, said so), positions and funds add up from the trade and the
charges, rule violations name the rule, scopes and ownership hold, and an acknowledged order
survives kill -9."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import ServerProcess, http_call

ARGS = ["--demo-clock", "--tick-interval-ms", "500", "--bar-grace-ms", "0"]


def login(srv: ServerProcess, email: str) -> str:
    password = "Trading-Password-123!"
    http_call(
        srv.url + "/v1/auth/register", "POST", {"email": email, "password": password}, auth=False
    )
    status, _, body = http_call(
        srv.url + "/v1/auth/login", "POST", {"email": email, "password": password}, auth=False
    )
    assert status == 200, body
    return str(body["access_token"])


def call(srv: ServerProcess, token: str, method: str, path: str, body: Any = None) -> Any:
    return http_call(srv.url + path, method, body, token=token)


def atm_call(srv: ServerProcess) -> dict[str, Any]:
    _, _, chain = http_call(srv.url + "/fo/option-chain?underlying=NIFTY")
    rows = chain["strikes"]
    row = min(rows, key=lambda r: abs(r["strike"] - chain["spot"]))
    return dict(row["call"])


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("trading") / "data", ARGS)
    s.wait_healthy()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def test_a_market_order_fills_and_the_books_add_up(srv: ServerProcess) -> None:
    token = login(srv, "trader1@example.com")
    status, _, accounts = call(srv, token, "GET", "/accounts")
    assert status == 200 and accounts["status"] == "success"
    primary = accounts["data"][0]
    assert primary["name"] == "primary" and primary["opening_balance"] == 1_000_000.0
    acc = primary["account_id"]
    opt = atm_call(srv)
    _, _, before = http_call(srv.url + f"/quote?symbol={opt['tradingsymbol']}")
    status, _, placed = call(
        srv,
        token,
        "POST",
        f"/accounts/{acc}/orders",
        {
            "tradingsymbol": opt["tradingsymbol"],
            "transaction_type": "BUY",
            "quantity": 65,
            "order_type": "MARKET",
            "product": "NRML",
        },
    )
    assert status == 200, placed
    oid = placed["data"]["order_id"]
    _, _, order = call(srv, token, "GET", f"/accounts/{acc}/orders/{oid}")
    o = order["data"]
    assert o["status"] == "COMPLETE", o
    assert o["filled_quantity"] == 65 and o["pending_quantity"] == 0
    # The simulator quotes a book: the buy takes the offer (not the last price).
    assert "last traded price" not in (o["status_message"] or "")
    _, _, trades = call(srv, token, "GET", f"/accounts/{acc}/trades")
    t = trades["data"][0]
    assert t["basis"] == "touch" and t["quantity"] == 65
    # At the ask of the moment: the ask seen just before, moved by at most the market's move
    # in the round trip (a few ticks on an at-the-money option).
    assert abs(t["average_price"] - before["ask"]) <= max(0.5, 0.01 * before["ask"]), (t, before)
    assert round(t["average_price"] / 0.05, 6) == round(t["average_price"] / 0.05)
    assert t["average_price"] == pytest.approx(o["average_price"])
    _, _, pos = call(srv, token, "GET", f"/accounts/{acc}/positions")
    p = pos["data"][0]
    assert p["tradingsymbol"] == opt["tradingsymbol"] and p["quantity"] == 65
    assert p["average_price"] == pytest.approx(t["average_price"])
    # Cash = opening - premium paid - the order's charges (a long option needs no margin).
    _, _, funds = call(srv, token, "GET", f"/accounts/{acc}/funds")
    f = funds["data"]
    premium = 65 * t["average_price"]
    assert f["available_cash"] == pytest.approx(1_000_000 - premium - o["charges"], abs=0.005)
    assert f["utilised"]["span"] == 0 and f["utilised"]["exposure"] == 0
    assert o["charges"] > 20  # ₹20 brokerage plus taxes


def test_rules_scopes_and_ownership(srv: ServerProcess) -> None:
    token = login(srv, "trader2@example.com")
    _, _, accounts = call(srv, token, "GET", "/accounts")
    acc = accounts["data"][0]["account_id"]
    opt = atm_call(srv)
    order = {
        "tradingsymbol": opt["tradingsymbol"],
        "transaction_type": "BUY",
        "quantity": 50,
        "order_type": "MARKET",
        "product": "NRML",
    }
    status, _, err = call(srv, token, "POST", f"/accounts/{acc}/orders", order)
    assert status == 400 and err["code"] == "order_invalid", err
    assert err["detail"] == "quantity 50 is not a multiple of the lot size 65"
    _, _, orders = call(srv, token, "GET", f"/accounts/{acc}/orders")
    assert orders["data"][-1]["status"] == "REJECTED"
    status, _, err = call(
        srv, token, "POST", f"/accounts/{acc}/orders", {**order, "order_type": "STOP"}
    )
    assert status == 400 and "order_type" in err["detail"]
    # A read-only API key may look, not trade.
    status, _, _ = http_call(srv.url + f"/accounts/{acc}/orders", token=srv.api_key())
    assert status == 404  # the test key's user is another user
    # Another user's account is not found, whatever they try.
    other = login(srv, "trader3@example.com")
    for method, path in [("GET", f"/accounts/{acc}"), ("GET", f"/accounts/{acc}/positions")]:
        status, _, err = call(srv, other, method, path)
        assert status == 404 and err["code"] == "account_not_found"
    status, _, _ = call(srv, other, "POST", f"/accounts/{acc}/orders", {**order, "quantity": 65})
    assert status == 404
    status, _, err = call(srv, token, "GET", "/accounts/abc")
    assert status == 400 and "account_id" in err["detail"]
    status, _, made = call(
        srv, token, "POST", "/accounts", {"name": "scalp", "opening_balance": 50000}
    )
    assert status == 201 and made["data"]["opening_balance"] == 50000.0
    status, _, err = call(srv, token, "POST", "/accounts", {"name": "scalp"})
    assert status == 409


def test_read_only_keys_cannot_trade(srv: ServerProcess) -> None:
    key = srv.api_key()
    status, _, accounts = http_call(srv.url + "/accounts", token=key)
    assert status == 200
    acc = accounts["data"][0]["account_id"]
    status, _, err = http_call(
        srv.url + f"/accounts/{acc}/orders",
        "POST",
        {"tradingsymbol": "NIFTY 50", "transaction_type": "BUY", "quantity": 1},
        token=key,
    )
    assert status == 403 and err["code"] == "insufficient_scope"


def test_an_acknowledged_order_survives_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = ServerProcess(data, ARGS)
    srv.wait_healthy()
    srv.wait_quotes("NIFTY")
    token = login(srv, "durable@example.com")
    _, _, accounts = call(srv, token, "GET", "/accounts")
    acc = accounts["data"][0]["account_id"]
    opt = atm_call(srv)
    status, _, placed = call(
        srv,
        token,
        "POST",
        f"/accounts/{acc}/orders",
        {
            "tradingsymbol": opt["tradingsymbol"],
            "transaction_type": "BUY",
            "quantity": 65,
            "order_type": "LIMIT",
            "price": 0.05,
            "product": "NRML",
        },
    )
    assert status == 200, placed
    oid = placed["data"]["order_id"]
    srv.stop(signal.SIGKILL)
    again = ServerProcess(data, ARGS, port=srv.port)
    try:
        again.wait_healthy()
        token = login(again, "durable@example.com")
        # The shard's lease of the killed process lapses within its 10 s lifetime.
        for _ in range(60):
            status, _, order = call(again, token, "GET", f"/accounts/{acc}/orders/{oid}")
            if status == 200:
                break
            assert status == 503, order
            time.sleep(0.5)
        assert status == 200 and order["data"]["status"] == "OPEN", order
        status, _, _ = call(again, token, "DELETE", f"/accounts/{acc}/orders/{oid}")
        assert status == 200
        _, _, order = call(again, token, "GET", f"/accounts/{acc}/orders/{oid}")
        assert order["data"]["status"] == "CANCELLED"
    finally:
        again.stop()


def test_a_clean_restart_hands_the_accounts_over_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = ServerProcess(data, ARGS)
    srv.wait_healthy()
    srv.wait_quotes("NIFTY")
    token = login(srv, "clean@example.com")
    _, _, accounts = call(srv, token, "GET", "/accounts")
    acc = accounts["data"][0]["account_id"]
    assert srv.stop() == 0  # SIGTERM: leases released on the way out
    again = ServerProcess(data, ARGS, port=srv.port)
    try:
        again.wait_healthy()
        token = login(again, "clean@example.com")
        status, _, funds = call(again, token, "GET", f"/accounts/{acc}/funds")
        assert status == 200, funds
        assert funds["data"]["available_cash"] == 1_000_000.0
    finally:
        again.stop()


def test_position_history_follows_the_fills(srv: ServerProcess) -> None:
    token = login(srv, "history@example.com")
    _, _, accounts = call(srv, token, "GET", "/accounts")
    acc = accounts["data"][0]["account_id"]
    sym = atm_call(srv)["tradingsymbol"]
    prices = []
    for side in ("BUY", "BUY", "SELL"):
        status, _, placed = call(
            srv,
            token,
            "POST",
            f"/accounts/{acc}/orders",
            {
                "tradingsymbol": sym,
                "transaction_type": side,
                "quantity": 65,
                "order_type": "MARKET",
                "product": "NRML",
            },
        )
        assert status == 200, placed
        _, _, o = call(srv, token, "GET", f"/accounts/{acc}/orders/{placed['data']['order_id']}")
        prices.append(o["data"]["average_price"])
    _, _, hist = call(srv, token, "GET", f"/accounts/{acc}/positions/history?tradingsymbol={sym}")
    rows = hist["data"]
    assert [r["quantity"] for r in rows] == [65, 130, 65, 65]  # three fills, then now
    assert rows[0]["average_price"] == pytest.approx(prices[0])
    assert rows[1]["average_price"] == pytest.approx((prices[0] + prices[1]) / 2, abs=0.01)
    # The sell realises against the average cost; the position keeps that cost.
    assert rows[2]["realized_pnl"] == pytest.approx(
        (prices[2] - (prices[0] + prices[1]) / 2) * 65, abs=0.05
    )
    assert rows[2]["average_price"] == pytest.approx(rows[1]["average_price"], abs=0.01)
    assert all(a["snapshot_time"] <= b["snapshot_time"] for a, b in zip(rows, rows[1:]))
    _, _, last2 = call(
        srv, token, "GET", f"/accounts/{acc}/positions/history?tradingsymbol={sym}&lookback=2"
    )
    assert [r["quantity"] for r in last2["data"]] == [65, 65]
    status, _, err = call(srv, token, "GET", f"/accounts/{acc}/positions/history?product=XYZ")
    assert status == 400 and "product" in err["detail"]


def test_refusals_name_the_rule_over_raw_http(srv: ServerProcess) -> None:
    token = login(srv, "refusals@example.com")
    _, _, accounts = call(srv, token, "GET", "/accounts")
    acc = accounts["data"][0]["account_id"]
    _, _, inst = http_call(srv.url + "/instruments?underlying=NIFTY&kind=future&limit=5")
    fut = sorted(inst["instruments"], key=lambda i: i["expiry"])[0]["tradingsymbol"]
    opt = atm_call(srv)

    def place(**kw: Any) -> tuple[int, Any]:
        body = {
            "tradingsymbol": fut,
            "transaction_type": "BUY",
            "quantity": 65,
            "order_type": "MARKET",
            "product": "NRML",
            **kw,
        }
        status, _, out = call(srv, token, "POST", f"/accounts/{acc}/orders", body)
        return status, out

    # Margin: twenty lots of the future need more than ₹10 lakh; the message carries both
    # figures, and "available" is the account's free margin.
    _, _, funds = call(srv, token, "GET", f"/accounts/{acc}/funds")
    status, err = place(quantity=65 * 20)
    assert status == 400 and err["code"] == "insufficient_funds", err
    assert "Required margin is" in err["detail"]
    available = float(err["detail"].split("available margin is ")[1].rstrip(".").replace(",", ""))
    assert available == pytest.approx(funds["data"]["net"])
    # A stop-loss BUY must trigger above the market.
    low = round(round(opt["ltp"] * 0.5 / 0.05) * 0.05, 2)
    status, err = place(
        tradingsymbol=opt["tradingsymbol"], order_type="SL-M", trigger_price=max(low, 0.05)
    )
    assert status == 400 and "must be above the last traded price" in err["detail"], err
    # An expired contract is refused naming its expiry.
    status, err = place(tradingsymbol="NIFTY25JANFUT")
    assert status in (400, 404) and "expired" in err["detail"], err
    # A filled order cannot be cancelled; another user cannot see or cancel it.
    status, placed = place(tradingsymbol=opt["tradingsymbol"])
    assert status == 200, placed
    oid = placed["data"]["order_id"]
    status, _, err = call(srv, token, "DELETE", f"/accounts/{acc}/orders/{oid}")
    assert status == 400 and "can no longer be changed" in err["detail"], err
    other = login(srv, "refusals-other@example.com")
    for method in ("GET", "DELETE"):
        status, _, err = call(srv, other, method, f"/accounts/{acc}/orders/{oid}")
        assert status == 404, err
    # A whole number written as a float (Python's `lots * 65.0`) is a quantity; a fraction is not.
    status, placed = place(tradingsymbol=opt["tradingsymbol"], quantity=65.0)
    assert status == 200, placed
    status, err = place(tradingsymbol=opt["tradingsymbol"], quantity=65.5)
    assert status == 422 and "expected a whole number, got 65.5" in err["detail"], err
    # Bad input is a 4xx naming the field, never a 500.
    for bad in ({"quantity": -65}, {"price": 1e30, "order_type": "LIMIT"}, {"product": "XX"}):
        status, err = place(**bad)
        assert 400 <= status < 500, (bad, err)
