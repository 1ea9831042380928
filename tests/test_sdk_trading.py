"""The SDK's trading half through the real wheel against a real server: ``client.Account()``
buys and sells, positions carry the fill's price, funds fall by premium plus charges,
``Position.close()`` flattens, refusals raise the typed errors with the server's numbers, and
every placement carries an idempotency key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import stocksblitz as sb
from conftest import ServerProcess, http_call, new_user

ARGS = ["--demo-clock", "--tick-interval-ms", "500", "--bar-grace-ms", "0"]


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
    key = new_user(srv, "sdk-trader@example.com")[1]
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
    client = sb.TradingClient(srv.url, api_key=new_user(srv, "sdk-refusals@example.com")[1])
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
    key = new_user(srv, "sdk-keys@example.com")[1]
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


def test_strategy_context_manager_own_book_and_metrics(srv: ServerProcess) -> None:
    client = sb.TradingClient(srv.url, api_key=new_user(srv, "sdk-strategy@example.com")[1])
    sym = atm_call(srv)["tradingsymbol"]
    account = client.Account()
    account.buy(sym, 65, product="NRML")  # the account's own lot, not the strategy's
    with client.Strategy(
        strategy_name="sdk-momentum", strategy_type=sb.StrategyType.MOMENTUM, config={"n": 3}
    ) as s:
        assert s.status == sb.StrategyStatus.ACTIVE == "active"
        assert s.strategy_type == "momentum" and s.config == {"n": 3}
        o1 = s.buy(sym, 65, product="NRML")
        o2 = s.buy(sym, 65, product="NRML")
        assert o1.is_complete and o1.tag == s.tag
        assert [p.quantity for p in s.positions] == [130]
        assert [p.quantity for p in account.positions] == [195]
        s.positions[0].close()  # through the strategy: tagged
        assert [p.quantity for p in s.positions] == [0]
        m = s.metrics
        assert isinstance(m, sb.StrategyMetrics) and m.total_trades == 3
        assert m.realized_pnl == pytest.approx(
            (s.orders[-1].average_price - (o1.average_price + o2.average_price) / 2) * 130,
            abs=0.02,
        )
        assert set(m.to_dict()) == set(sb.StrategyMetrics.FIELDS)
        snaps = s.get_snapshots(limit=10)
        assert snaps and snaps[0]["snapshot_time"].tzinfo is not None
        s.pause()
        with pytest.raises(sb.APIError) as e:
            s.buy(sym, 65)
        assert e.value.status_code == 409
        s.resume()
    assert s.status == "stopped"
    again = client.Strategy(strategy_name="sdk-momentum")
    assert again.strategy_id == s.strategy_id and len(again.orders) == 3
    assert [p.quantity for p in account.positions] == [65]


def test_old_enum_names_and_values(srv: ServerProcess) -> None:
    client = sb.TradingClient(srv.url, api_key=new_user(srv, "sdk-enums@example.com")[1])
    assert sb.Timeframe.MINUTE_5 == "5min" and sb.Timeframe.HOUR_1 == "1hour"
    assert sb.Timeframe.normalize("5min") is sb.Timeframe.FIVE_MINUTES
    assert sb.Timeframe.normalize(sb.Timeframe.DAY_1) is sb.Timeframe.ONE_DAY
    with pytest.raises(ValueError):
        sb.Timeframe.normalize("7min")
    nifty = client.Instrument("NIFTY 50")
    assert nifty[sb.Timeframe.MINUTE_5].timeframe == nifty["5m"].timeframe
    assert sb.DataState.NOT_SUBSCRIBED == "not_subscribed" and sb.Exchange.MCX == "MCX"
    assert sb.OrderStatus.TRIGGER_PENDING == "TRIGGER PENDING" and sb.Validity.IOC == "IOC"
    assert sb.PositionType.OVERNIGHT == "overnight"
    for name in ("AlertType", "AlertStatus", "MessageType", "NewsCategory", "NewsSentiment"):
        assert issubclass(getattr(sb, name), str)


def test_registry_methods_old_scripts_call(srv: ServerProcess, tmp_path) -> None:
    client = sb.TradingClient(
        srv.url, api_key=new_user(srv, "sdk-registry@example.com")[1], cache_dir=str(tmp_path)
    )
    reg = client.indicators
    items = reg.fetch_indicators(force_refresh=True)
    cache = tmp_path / "indicator_registry.json"
    assert cache.exists() and len(items) > 20
    names = {d["name"] for d in items}
    assert {"rsi", "sma", "macd"} <= {n.lower() for n in names}
    cats = reg.get_categories()
    assert cats == sorted(set(cats)) and all(reg.list_indicators(c) for c in cats)
    assert sum(len(reg.list_indicators(c)) for c in cats) == len(items)
    assert reg.list_indicators(include_custom=False) == reg.list_indicators()
    params = reg.get_parameter_info("RSI")
    assert params[0]["name"] == "length" and params[0]["default"] == 14
    reg.clear_cache()
    assert not cache.exists()
    assert reg.fetch_indicators() == items and cache.exists()
    assert reg.validate_indicator("RSI", {"length": 14}) == (True, None)
    with pytest.raises(sb.IndicatorValidationError) as e:
        reg.validate_indicator("RSI", {"length": -1})
    assert e.value.indicator == "RSI" and isinstance(e.value, ValueError)
    # The old README's pattern catches a bad symbol; the old keyword binds the client.
    with pytest.raises(sb.InstrumentNotFoundError):
        client.Instrument("NIFTY25XYZ99CE")
    inst = sb.Instrument("NIFTY 50", api_client=client)
    assert inst.ltp > 0


def test_instrument_filter_matches_the_chain(srv: ServerProcess) -> None:
    key = new_user(srv, "sdk-filter@example.com")[1]
    client = sb.TradingClient(srv.url, api_key=key)
    _, _, exps = http_call(srv.url + "/fo/expiries?underlying=NIFTY", token=key)
    weekly = exps["weekly"][0]
    _, _, chain = http_call(
        srv.url + f"/fo/option-chain?underlying=NIFTY&expiry={weekly}", token=key
    )
    spot = chain["spot"]
    puts = [dict(s["put"], strike=s["strike"]) for s in chain["strikes"] if s["put"]]

    f = client.InstrumentFilter("NSE@NIFTY@Nw@Put")
    assert f.pattern == "NSE@NIFTY@Nw@Put"
    got = f.find(delta_min=-0.5).top(3, by="oi")
    # The same selection worked out from the chain here (OI ties broken by chain order).
    want = sorted(
        [p for p in puts if p["delta"] is not None and p["delta"] >= -0.5],
        key=lambda p: -(p["oi"] or 0),
    )[:3]
    assert [i.tradingsymbol for i in got] == [p["tradingsymbol"] for p in want]
    assert all(isinstance(i, sb.ChainInstrument) and i.right == "PE" for i in got)
    # Quotes come from the chain request: no request per instrument.
    before = client._api._native.stats()["requests"]
    ltps = {i.tradingsymbol: i.ltp for i in f}
    assert client._api._native.stats()["requests"] == before
    # The simulator ticks between the test's chain request and the filter's own: each price is
    # the instrument's at some moment of the day, so within the day's range as read after both.
    _, _, later = http_call(
        srv.url + f"/fo/option-chain?underlying=NIFTY&expiry={weekly}", token=key
    )
    day = {s["put"]["tradingsymbol"]: s["put"] for s in later["strikes"] if s["put"]}
    assert set(ltps) == {p["tradingsymbol"] for p in puts} == set(day)
    for sym, ltp in ltps.items():
        assert day[sym]["low"] <= ltp <= day[sym]["high"], (sym, ltp, day[sym])

    atm = f.atm()
    assert (
        atm is not None and atm.strike == min(puts, key=lambda p: abs(p["strike"] - spot))["strike"]
    )
    below = sorted((p["strike"] for p in puts if p["strike"] < spot), reverse=True)
    assert f.otm(1).strike == below[0] and f.otm(2).strike == below[1]
    above = sorted(p["strike"] for p in puts if p["strike"] > spot)
    assert f.itm(1).strike == above[0]
    cheap = f.where(lambda i: i.ltp < 50).where(lambda i: i.strike < spot)
    assert all(i.ltp < 50 and i.strike < spot for i in cheap)
    ordered = f.order_by("strike").limit(5)
    assert [i.strike for i in ordered] == sorted(p["strike"] for p in puts)[:5]

    calls = client.InstrumentFilter("NSE@NIFTY@Nm@Call")
    assert calls.to_list() and all(i.right == "CE" for i in calls)
    assert all(i.expiry.isoformat() == exps["monthly"][0] for i in calls)
    every = client.InstrumentFilter("NSE@NIFTY@*@Call")
    quoted = set()
    for e in set(exps["weekly"]) | set(exps["monthly"]):
        _, _, c = http_call(srv.url + f"/fo/option-chain?underlying=NIFTY&expiry={e}", token=key)
        if any(s["call"] for s in c.get("strikes", [])):
            quoted.add(e)
    assert {i.expiry.isoformat() for i in every} == quoted and len(quoted) >= 2
    d = dt.date.fromisoformat(weekly)
    dated = client.InstrumentFilter(f"NSE@NIFTY@{d.strftime('%d-%b-%Y')}@Put")
    assert {i.tradingsymbol for i in dated} == {p["tradingsymbol"] for p in puts}
    for bad in ("NIFTY@Nw@Put", "NSE@NIFTY@Nx@Put", "NSE@NIFTY@Nw@Straddle"):
        with pytest.raises(sb.InvalidSymbolError):
            client.InstrumentFilter(bad).to_list()
    with pytest.raises(TypeError, match="criterion"):
        f.find(colour_min=1)


def test_lot_and_tick_sizes_come_from_the_contract_specs() -> None:
    # Offline: the dated table (NIFTY 75 before 2025-12-30, 65 after; SENSEX 20).
    assert sb.Instrument("NIFTY25NOVFUT").lot_size == 75
    assert sb.Instrument("NIFTY26JANFUT").lot_size == 65
    fut = sb.Instrument("NIFTY26JANFUT")
    assert fut.tick_size == 0.05 and fut.freeze_qty is not None and fut.freeze_qty > 65
    assert sb.Instrument("SENSEX26JANFUT").lot_size == 20
    eq = sb.Instrument("RELIANCE")
    assert eq.lot_size == 1 and eq.tick_size == 0.01 and eq.freeze_qty is None
    assert sb.Instrument("NIFTY 50").lot_size is None
