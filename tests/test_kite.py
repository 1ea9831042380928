"""A Kite Connect script paper-trades against stocksblitz by changing one URL: the real
pykiteconnect client (`kiteconnect` from PyPI) against a real server, every answer checked
against our own native routes (the same engine) or worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from conftest import IST, ServerProcess, http_call, new_user

kiteconnect = pytest.importorskip("kiteconnect")
from kiteconnect import KiteConnect, exceptions  # noqa: E402

ARGS = [
    "--demo-clock",
    "--tick-interval-ms",
    "500",
    "--bar-grace-ms",
    "0",
    "--backfill-days",
    "1",
]


def kite_for(srv: ServerProcess, email: str, scopes: tuple[str, ...] = ("read", "trade")):
    jwt, key = new_user(srv, email, scopes, name="Kite Trader")
    # The one change a Kite script makes: root. access_token is our API key.
    kite = KiteConnect(api_key="stocksblitz", access_token=key, root=srv.url + "/kite")
    return kite, jwt


def native(srv: ServerProcess, jwt: str, path: str) -> Any:
    status, _, body = http_call(srv.url + path, token=jwt)
    assert status == 200, body
    return body["data"]


def primary(srv: ServerProcess, jwt: str) -> str:
    return str(native(srv, jwt, "/accounts")[0]["account_id"])


def chain_row(srv: ServerProcess) -> dict[str, Any]:
    _, _, chain = http_call(srv.url + "/fo/option-chain?underlying=NIFTY")
    rows = chain["strikes"]
    return dict(min(rows, key=lambda r: abs(r["strike"] - chain["spot"])))


def nifty_future(srv: ServerProcess) -> str:
    _, _, inst = http_call(srv.url + "/instruments?underlying=NIFTY&kind=future&limit=5")
    futs = sorted(inst["instruments"], key=lambda i: i["expiry"])
    return str(futs[0]["tradingsymbol"])


def tick_below(price: float, fraction: float) -> float:
    """A price on the 0.05 grid about `fraction` below `price`."""
    return round(round(price * (1 - fraction) / 0.05) * 0.05, 2)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("kite") / "data", ARGS)
    s.wait_healthy()
    s.wait_backfilled()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def test_orders_trades_positions_and_history_through_pykiteconnect(srv: ServerProcess) -> None:
    kite, jwt = kite_for(srv, "kite1@example.com")
    acc = primary(srv, jwt)
    call = chain_row(srv)["call"]
    sym = call["tradingsymbol"]

    # MARKET, NRML: fills at once (the simulator has no book: at the LTP).
    oid = kite.place_order(
        variety=kite.VARIETY_REGULAR,
        exchange=kite.EXCHANGE_NFO,
        tradingsymbol=sym,
        transaction_type=kite.TRANSACTION_TYPE_BUY,
        quantity=65,
        product=kite.PRODUCT_NRML,
        order_type=kite.ORDER_TYPE_MARKET,
        tag="kitetest",
    )
    ours = native(srv, jwt, f"/accounts/{acc}/orders/{oid}")
    assert ours["status"] == "COMPLETE"
    book = {o["order_id"]: o for o in kite.orders()}
    o = book[oid]
    assert o["status"] == "COMPLETE" and o["tradingsymbol"] == sym
    assert o["filled_quantity"] == 65 and o["pending_quantity"] == 0
    assert o["average_price"] == pytest.approx(ours["average_price"])
    assert o["product"] == "NRML" and o["variety"] == "regular" and o["tag"] == "kitetest"
    assert isinstance(o["order_timestamp"], dt.datetime)  # pykiteconnect parsed Kite's format
    hist = kite.order_history(oid)
    assert hist[-1]["status"] == "COMPLETE"
    assert [h["order_id"] for h in hist] == [oid] * len(hist)

    trades = [t for t in kite.trades() if t["order_id"] == oid]
    assert len(trades) == 1 and trades[0]["quantity"] == 65
    assert trades[0]["average_price"] == pytest.approx(ours["average_price"])
    assert kite.order_trades(oid) == trades

    positions = kite.positions()
    net = {p["tradingsymbol"]: p for p in positions["net"]}
    mine = native(srv, jwt, f"/accounts/{acc}/positions")
    assert net[sym]["quantity"] == 65 == mine[0]["quantity"]
    assert net[sym]["average_price"] == pytest.approx(mine[0]["average_price"])
    day = {p["tradingsymbol"]: p for p in positions["day"]}
    assert day[sym]["quantity"] == 65 and day[sym]["buy_quantity"] == 65

    # LIMIT well below the market rests OPEN; modify changes its price; cancel ends it.
    limit = tick_below(call["ltp"], 0.5)
    lid = kite.place_order(
        variety="regular",
        exchange="NFO",
        tradingsymbol=sym,
        transaction_type="BUY",
        quantity=65,
        product="MIS",
        order_type="LIMIT",
        price=limit,
    )
    assert kite.order_history(lid)[-1]["status"] == "OPEN"
    lower = tick_below(limit, 0.1)
    assert kite.modify_order(variety="regular", order_id=lid, price=lower) == lid
    h = kite.order_history(lid)
    assert [x["price"] for x in h][:1] == [limit] and h[-1]["price"] == lower
    assert kite.cancel_order(variety="regular", order_id=lid) == lid
    assert kite.order_history(lid)[-1]["status"] == "CANCELLED"

    # SL and SL-M wait for their trigger (a BUY stop above the market, a SELL stop below).
    ltp = kite.ltp(f"NFO:{sym}")[f"NFO:{sym}"]["last_price"]
    trig = round(round(ltp * 1.5 / 0.05) * 0.05, 2)
    sl = kite.place_order(
        variety="regular",
        exchange="NFO",
        tradingsymbol=sym,
        transaction_type="BUY",
        quantity=65,
        product="NRML",
        order_type="SL",
        trigger_price=trig,
        price=round(trig + 1, 2),
    )
    slm = kite.place_order(
        variety="regular",
        exchange="NFO",
        tradingsymbol=sym,
        transaction_type="SELL",
        quantity=65,
        product="NRML",
        order_type="SL-M",
        trigger_price=tick_below(ltp, 0.5),
    )
    statuses = {o["order_id"]: o["status"] for o in kite.orders()}
    assert statuses[sl] == statuses[slm] == "TRIGGER PENDING"
    for x in (sl, slm):
        kite.cancel_order(variety="regular", order_id=x)
    assert {o["order_id"]: o["status"] for o in kite.orders()}[sl] == "CANCELLED"

    # Refusals are OrderExceptions naming the rule, with Kite's HTTP code.
    with pytest.raises(exceptions.OrderException) as e:
        kite.place_order(
            variety="regular",
            exchange="NFO",
            tradingsymbol=sym,
            transaction_type="BUY",
            quantity=50,
            product="NRML",
            order_type="MARKET",
        )
    assert "lot size 65" in str(e.value) and e.value.code == 400
    with pytest.raises(exceptions.OrderException, match="tick"):
        kite.place_order(
            variety="regular",
            exchange="NFO",
            tradingsymbol=sym,
            transaction_type="BUY",
            quantity=65,
            product="NRML",
            order_type="LIMIT",
            price=limit + 0.01,
        )
    with pytest.raises(exceptions.OrderException):
        kite.cancel_order(variety="regular", order_id=oid)  # already complete
    with pytest.raises(exceptions.InputException, match="order_type"):
        kite.place_order(
            variety="regular",
            exchange="NFO",
            tradingsymbol=sym,
            transaction_type="BUY",
            quantity=65,
            product="NRML",
            order_type="STOP",
        )


def test_margins_basket_and_contract_note_match_our_books(srv: ServerProcess) -> None:
    kite, jwt = kite_for(srv, "kite2@example.com")
    acc = primary(srv, jwt)
    row = chain_row(srv)
    ce, pe = row["call"]["tradingsymbol"], row["put"]["tradingsymbol"]
    fut = nifty_future(srv)

    m = kite.margins()
    funds = native(srv, jwt, f"/accounts/{acc}/funds")
    assert m["equity"]["enabled"] is True and m["commodity"]["enabled"] is False
    assert m["equity"]["net"] == funds["net"] == 1_000_000.0
    assert kite.margins("equity")["net"] == funds["net"]

    # A future's margin is SPAN + exposure; placing the order blocks that much.
    order = {
        "exchange": "NFO",
        "tradingsymbol": fut,
        "transaction_type": "BUY",
        "variety": "regular",
        "product": "NRML",
        "order_type": "MARKET",
        "quantity": 65,
        "price": 0,
        "trigger_price": 0,
    }
    [om] = kite.order_margins([order])
    assert om["tradingsymbol"] == fut and om["type"] == "equity"
    assert om["span"] > 0 and om["exposure"] > 0
    assert om["total"] == pytest.approx(om["span"] + om["exposure"], abs=0.01)
    assert om["charges"]["total"] > 0
    kite.place_order(
        variety="regular",
        exchange="NFO",
        tradingsymbol=fut,
        transaction_type="BUY",
        quantity=65,
        product="NRML",
        order_type="MARKET",
    )
    used = kite.margins()["equity"]["utilised"]
    # The future's price moves between the two reads (a tick every 0.5 s): within 1 %.
    assert used["span"] + used["exposure"] == pytest.approx(om["total"], rel=0.01)

    # A short straddle: the basket as one portfolio needs less than its legs alone.
    legs = [
        {**order, "tradingsymbol": s, "transaction_type": "SELL", "product": "NRML"}
        for s in (ce, pe)
    ]
    basket = kite.basket_order_margins(legs, consider_positions=False)
    alone = [kite.basket_order_margins([leg], consider_positions=False)["final"] for leg in legs]
    assert basket["initial"]["total"] == pytest.approx(sum(a["total"] for a in alone), rel=0.01)
    assert 0 < basket["final"]["total"] < basket["initial"]["total"]
    assert len(basket["orders"]) == 2
    compact = kite.basket_order_margins(legs, consider_positions=False, mode="compact")
    assert compact["orders"] == [] and compact["final"]["total"] > 0

    # The virtual contract note of a filled order charges what our books charged.
    oid = kite.place_order(
        variety="regular",
        exchange="NFO",
        tradingsymbol=ce,
        transaction_type="BUY",
        quantity=65,
        product="NRML",
        order_type="MARKET",
    )
    filled = native(srv, jwt, f"/accounts/{acc}/orders/{oid}")
    [note] = kite.get_virtual_contract_note(
        [
            {
                "order_id": oid,
                "exchange": "NFO",
                "tradingsymbol": ce,
                "transaction_type": "BUY",
                "variety": "regular",
                "product": "NRML",
                "order_type": "MARKET",
                "quantity": 65,
                "average_price": filled["average_price"],
            }
        ]
    )
    assert note["charges"]["total"] == pytest.approx(filled["charges"], abs=0.001)
    assert note["charges"]["transaction_tax_type"] == "stt"
    parts = note["charges"]
    assert parts["total"] == pytest.approx(
        parts["brokerage"]
        + parts["transaction_tax"]
        + parts["exchange_turnover_charge"]
        + parts["sebi_turnover_charge"]
        + parts["stamp_duty"]
        + parts["gst"]["total"],
        abs=0.011,
    )
    assert parts["brokerage"] == 20.0  # ₹20 per executed order
    assert kite.holdings() == []


def test_market_data_instruments_and_history(srv: ServerProcess) -> None:
    kite, _ = kite_for(srv, "kite3@example.com", ("read",))
    fut = nifty_future(srv)
    call = chain_row(srv)["call"]
    nfo = {i["tradingsymbol"]: i for i in kite.instruments("NFO")}
    opt = nfo[call["tradingsymbol"]]
    assert opt["lot_size"] == 65 and opt["tick_size"] == 0.05
    assert opt["instrument_type"] == "CE" and opt["segment"] == "NFO-OPT"
    assert opt["strike"] == call["strike"] and opt["name"] == "NIFTY"
    assert isinstance(opt["expiry"], dt.date) and opt["expiry"].isoformat() == call["expiry"]
    assert nfo[fut]["instrument_type"] == "FUT"
    every = kite.instruments()
    assert any(i["tradingsymbol"] == "NIFTY 50" and i["segment"] == "INDICES" for i in every)
    with pytest.raises(exceptions.InputException):
        kite.instruments("XYZ")

    key = f"NFO:{fut}"
    q = kite.quote(key, "NFO:NOSUCH26DECFUT")
    assert list(q) == [key]  # unknown instruments are left out, as Kite does
    _, _, ours = http_call(srv.url + f"/quote?symbol={fut}")
    assert q[key]["instrument_token"] == nfo[fut]["instrument_token"]
    assert q[key]["last_price"] == pytest.approx(ours["ltp"], rel=0.02)
    assert isinstance(q[key]["timestamp"], dt.datetime)
    assert q[key]["ohlc"]["high"] >= q[key]["ohlc"]["low"] > 0
    ltp = kite.ltp([key, "NSE:NIFTY 50"])
    assert set(ltp) == {key, "NSE:NIFTY 50"} and ltp[key]["last_price"] > 0
    o = kite.ohlc(key)[key]
    assert o["instrument_token"] == nfo[fut]["instrument_token"] and o["ohlc"]["open"] > 0

    # Candles: the same bars as our own /candles route for the same window (the back-filled
    # session's last 40 five-minute bars, whatever the hour now).
    _, _, recent = http_call(srv.url + f"/candles?symbol={fut}&timeframe=5m&limit=40")
    first, last = recent["candles"][0]["time"], recent["candles"][-2]["time"]
    start = dt.datetime.fromtimestamp(first, IST).replace(tzinfo=None)
    end = dt.datetime.fromtimestamp(last, IST).replace(tzinfo=None)
    bars = kite.historical_data(nfo[fut]["instrument_token"], start, end, "5minute", oi=True)
    assert len(bars) == 39
    theirs = [
        (int(b["date"].timestamp()), b["open"], b["high"], b["low"], b["close"], b["volume"])
        for b in bars
    ]
    ours_c = [
        (c["time"], c["open"], c["high"], c["low"], c["close"], c["volume"])
        for c in recent["candles"][:-1]
    ]
    assert theirs == ours_c
    assert bars[0]["date"].utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert "oi" in bars[0]
    day = kite.historical_data(nfo[fut]["instrument_token"], start.date(), end.date(), "day")
    assert day and all(b["high"] >= b["low"] for b in day)
    with pytest.raises(exceptions.InputException, match="interval"):
        kite.historical_data(nfo[fut]["instrument_token"], start, end, "7minute")

    # A read-only key may look, not trade: PermissionException.
    with pytest.raises(exceptions.PermissionException):
        kite.place_order(
            variety="regular",
            exchange="NFO",
            tradingsymbol=fut,
            transaction_type="BUY",
            quantity=65,
            product="NRML",
            order_type="MARKET",
        )


def test_profile_errors_and_ownership(srv: ServerProcess) -> None:
    kite, _ = kite_for(srv, "kite4@example.com")
    p = kite.profile()
    assert p["email"] == "kite4@example.com" and p["user_name"] == "Kite Trader"
    assert "NFO" in p["exchanges"]
    # A bad credential is Kite's 403 TokenException.
    bad = KiteConnect(api_key="x", access_token="sb_live_not_a_key", root=srv.url + "/kite")
    with pytest.raises(exceptions.TokenException) as e:
        bad.orders()
    assert e.value.code == 403
    # Another user's order is not found (and not cancellable).
    fut = nifty_future(srv)
    oid = kite.place_order(
        variety="regular",
        exchange="NFO",
        tradingsymbol=fut,
        transaction_type="BUY",
        quantity=65,
        product="MIS",
        order_type="LIMIT",
        price=100.0,
    )
    other, _ = kite_for(srv, "kite5@example.com")
    with pytest.raises(exceptions.OrderException):
        other.order_history(oid)
    with pytest.raises(exceptions.OrderException):
        other.cancel_order(variety="regular", order_id=oid)
    assert oid not in {o["order_id"] for o in other.orders()}
    assert kite.order_history(oid)[-1]["status"] == "OPEN"
    # A root with or without /kite: pykiteconnect drops root's path, X-Kite-Version routes.
    bare = KiteConnect(api_key="x", access_token=kite.access_token, root=srv.url)
    assert bare.profile()["email"] == "kite4@example.com"


def test_idempotency_key_and_form_bodies_over_raw_http(srv: ServerProcess) -> None:
    _, key = new_user(srv, "kite6@example.com")
    fut = nifty_future(srv)
    body = (
        f"exchange=NFO&tradingsymbol={fut}&transaction_type=BUY&quantity=65"
        "&product=NRML&order_type=MARKET"
    ).encode()

    def post(idem: str | None) -> tuple[int, Any]:
        req = urllib.request.Request(srv.url + "/kite/orders/regular", data=body, method="POST")
        req.add_header("Authorization", f"token x:{key}")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        if idem:
            req.add_header("Idempotency-Key", idem)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    s1, a = post("retry-abc")
    s2, b = post("retry-abc")
    s3, c = post(None)
    assert s1 == s2 == s3 == 200, (a, b, c)
    assert a == b, "a retry with the key answers the first placement"
    assert c["data"]["order_id"] != a["data"]["order_id"]
    kite = KiteConnect(api_key="x", access_token=key, root=srv.url + "/kite")
    mine = [o for o in kite.orders() if o["tradingsymbol"] == fut]
    assert len(mine) == 2, "the retried placement was placed once"
    pos = {p["tradingsymbol"]: p for p in kite.positions()["net"]}
    assert pos[fut]["quantity"] == 130
    # A Kite-shaped 404 for an unknown Kite path.
    status, _, err = http_call(srv.url + "/kite/nope", token=key)
    assert status == 404 and err["status"] == "error" and err["error_type"]
