"""The SDK's trading half through the real wheel against a real server: ``client.Account()``
buys and sells, positions carry the fill's price, funds fall by premium plus charges,
``Position.close()`` flattens, refusals raise the typed errors with the server's numbers, and
every placement carries an idempotency key."""

from __future__ import annotations

from typing import Any

import pytest

import stocksblitz as sb
from conftest import ServerProcess, http_call

ARGS = ["--demo-clock", "--tick-interval-ms", "500", "--bar-grace-ms", "0"]


def new_key(srv: ServerProcess, email: str) -> str:
    password = "Sdk-Trading-Password-1!"
    http_call(
        srv.url + "/v1/auth/register", "POST", {"email": email, "password": password}, auth=False
    )
    _, _, login = http_call(
        srv.url + "/v1/auth/login", "POST", {"email": email, "password": password}, auth=False
    )
    status, _, key = http_call(
        srv.url + "/api-keys",
        "POST",
        {"name": "sdk", "scopes": ["read", "trade"]},
        token=login["access_token"],
    )
    assert status == 201, key
    return str(key["api_key"])


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("sdk-trading") / "data", ARGS)
    s.wait_healthy()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def atm_call(srv: ServerProcess) -> dict[str, Any]:
    _, _, chain = http_call(srv.url + "/fo/option-chain?underlying=NIFTY")
    row = min(chain["strikes"], key=lambda r: abs(r["strike"] - chain["spot"]))
    return dict(row["call"])


def test_account_buy_positions_funds_and_close(srv: ServerProcess) -> None:
    key = new_key(srv, "sdk-trader@example.com")
    client = sb.TradingClient(srv.url, api_key=key)
    account = client.Account()
    assert account.funds.available_margin == 1_000_000.0
    sym = atm_call(srv)["tradingsymbol"]
    inst = client.Instrument(sym)

    order = account.buy(inst, quantity=65, product="NRML")
    assert isinstance(order, sb.Order) and order.is_complete and not order.is_pending
    assert order.filled_quantity == 65 and order.tradingsymbol == sym
    trades = [t for t in account.trades if t["order_id"] == order.order_id]
    assert len(trades) == 1 and trades[0]["average_price"] == order.average_price

    pos = account.position(inst)
    assert pos is not None and pos.quantity == 65 and pos.is_long and not pos.is_short
    assert pos.average_price == pytest.approx(order.average_price)
    assert pos.product == "NRML"
    funds = account.funds
    # Cash falls by the premium and the order's charges, to the paisa.
    assert funds.available_cash == pytest.approx(
        1_000_000 - 65 * order.average_price - order.charges, abs=0.005
    )
    assert [type(p) for p in account.positions] == [sb.Position]
    assert [o.order_id for o in account.orders] == [order.order_id]

    closing = pos.close()
    assert closing is not None and closing.is_complete and closing.transaction_type == "SELL"
    assert account.position(sym).quantity == 0
    hist = account.position(sym).history()
    assert [h.quantity for h in hist] == [65, 0, 0]
    assert isinstance(hist[0], sb.PositionSnapshot)

    # A resting order: modify, cancel, and wait for its final state.
    low = round(round(order.average_price * 0.5 / 0.05) * 0.05, 2)
    resting = account.buy(sym, 65, order_type="LIMIT", price=low, product="MIS")
    assert resting.status == "OPEN" and resting.is_pending
    lower = round(round(low * 0.9 / 0.05) * 0.05, 2)
    assert account.modify_order(resting, price=lower).price == lower
    resting.cancel()
    assert resting.wait(timeout=5).status == "CANCELLED"  # the object reads the server
    with pytest.raises(sb.TimeoutError):
        account.buy(sym, 65, order_type="LIMIT", price=low, product="MIS").wait(timeout=0.2)

    # OrderRequest works too; reset starts again.
    req = sb.OrderRequest(tradingsymbol=sym, transaction_type="BUY", quantity=65, product="NRML")
    assert account.place_order(req).is_complete
    assert account.reset().available_margin == 1_000_000.0
    assert account.positions == []


def test_refusals_raise_typed_errors_with_the_servers_numbers(srv: ServerProcess) -> None:
    client = sb.TradingClient(srv.url, api_key=new_key(srv, "sdk-refusals@example.com"))
    account = client.Account()
    _, _, inst = http_call(srv.url + "/instruments?underlying=NIFTY&kind=future&limit=5")
    fut = sorted(inst["instruments"], key=lambda i: i["expiry"])[0]["tradingsymbol"]
    with pytest.raises(sb.InsufficientFundsError) as e:
        account.buy(fut, 65 * 20, product="NRML")
    assert e.value.required is not None and e.value.required > 1_000_000
    assert e.value.available == pytest.approx(account.funds.available_margin)
    assert e.value.status_code == 400 and isinstance(e.value, sb.APIError)
    with pytest.raises(sb.InvalidOrderError, match="lot size 65") as bad:
        account.buy(fut, 50, product="NRML")
    assert bad.value.code == "order_invalid"
    with pytest.raises(sb.InvalidOrderError, match="expired"):
        account.buy("NIFTY25JANFUT", 65, product="NRML")
    with pytest.raises(TypeError):
        account.buy(fut, 65, colour="blue")
    # The refused orders are in the book as REJECTED, with the rule.
    rejected = [o for o in account.orders if o.status == "REJECTED"]
    assert any("lot size" in (o.status_message or "") for o in rejected)


def test_every_placement_carries_an_idempotency_key(srv: ServerProcess) -> None:
    # Seen from the server: each placement through the SDK is stored with a key of its own.
    key = new_key(srv, "sdk-keys@example.com")
    client = sb.TradingClient(srv.url, api_key=key)
    account = client.Account()
    sym = atm_call(srv)["tradingsymbol"]
    a = account.buy(sym, 65, product="NRML")
    b = account.buy(sym, 65, product="NRML")
    assert a.order_id != b.order_id
    # The same request with an explicit repeated key is answered with the first order.
    native = client._api._native
    body = '{"tradingsymbol": "%s", "transaction_type": "BUY", "quantity": 65, "product": "NRML"}'
    first = native.request("POST", f"/accounts/{account.account_id}/orders", body % sym, "same-1")
    again = native.request("POST", f"/accounts/{account.account_id}/orders", body % sym, "same-1")
    assert first == again
    assert len(account.orders) == 3
