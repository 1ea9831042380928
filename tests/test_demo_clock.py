"""The demo exchange clock: under `--demo-clock` paper trading runs on a virtual exchange day
(09:15-15:30 IST, then the next trading day), so the 15:20 square-off, the MIS cut-off and an
expiry happen at any hour; `POST /admin/clock` moves it on and a test sees them in seconds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from conftest import ServerProcess, http_call, new_user, wait_for

ADMIN = {"email": "clock-admin@example.com", "password": "Clock-Admin-Password-1!"}
ENV = {"STOCKSBLITZ_ADMIN_EMAIL": ADMIN["email"], "STOCKSBLITZ_ADMIN_PASSWORD": ADMIN["password"]}


def login(srv: ServerProcess, email: str, password: str) -> str:
    status, _, body = http_call(
        srv.url + "/v1/auth/login", "POST", {"email": email, "password": password}, auth=False
    )
    assert status == 200, body
    return str(body["access_token"])


def get(srv: ServerProcess, tok: str, path: str) -> Any:
    status, _, body = http_call(srv.url + path, token=tok)
    assert status == 200, body
    return body["data"] if isinstance(body, dict) and "data" in body else body


def advance(srv: ServerProcess, tok: str, to: str) -> dict[str, Any]:
    status, _, body = http_call(srv.url + "/admin/clock", "POST", {"to": to}, token=tok)
    assert status == 200, body
    return dict(body)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(
        tmp_path_factory.mktemp("clock") / "data",
        ["--demo-clock", "--tick-interval-ms", "300", "--bar-grace-ms", "0"],
        env=ENV,
    )
    s.wait_healthy()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def test_square_off_cut_off_and_expiry_on_the_demo_clock(
    srv: ServerProcess, tmp_path: Path
) -> None:
    admin = login(srv, ADMIN["email"], ADMIN["password"])
    tok = new_user(srv, "clock-trader@example.com")[0]
    clock = get(srv, tok, "/clock")
    assert clock["kind"] == "demo"
    day, hhmm = clock["ist"].split(" ")
    assert "09:15:00" <= hhmm < "15:20:00", clock  # a fresh demo clock starts at the open

    # Moving the clock is an admin's job.
    status, _, err = http_call(srv.url + "/admin/clock", "POST", {"advance_minutes": 5}, token=tok)
    assert status == 403, err

    # An expiry after the demo day (today's own expiry would be behind us at 15:21).
    _, _, exps = http_call(srv.url + "/fo/expiries?underlying=NIFTY")
    expiry = min(e for e in exps["weekly"] + exps["monthly"] if e > day)
    _, _, chain = http_call(srv.url + f"/fo/option-chain?underlying=NIFTY&expiry={expiry}")
    row = min(
        (r for r in chain["strikes"] if r["call"]), key=lambda r: abs(r["strike"] - chain["spot"])
    )
    sym, strike = row["call"]["tradingsymbol"], row["strike"]
    acc = get(srv, tok, "/accounts")[0]["account_id"]
    for product in ("MIS", "NRML"):
        status, _, r = http_call(
            srv.url + f"/accounts/{acc}/orders",
            "POST",
            {
                "tradingsymbol": sym,
                "transaction_type": "BUY",
                "quantity": 65,
                "order_type": "MARKET",
                "product": product,
            },
            token=tok,
        )
        assert status == 200, r

    def positions() -> dict[str, int]:
        return {p["product"]: p["quantity"] for p in get(srv, tok, f"/accounts/{acc}/positions")}

    assert positions() == {"MIS": 65, "NRML": 65}

    # 15:21 on the demo day: the MIS position was squared off at 15:20 by a system order.
    moved = advance(srv, admin, f"{day} 15:21:00")
    assert moved["ist"].startswith(f"{day} 15:21"), moved
    wait_for(lambda: positions().get("MIS") == 0, what="the MIS square-off")
    assert positions()["NRML"] == 65
    orders = get(srv, tok, f"/accounts/{acc}/orders")
    sq = [o for o in orders if o["tag"] == "SQUAREOFF"]
    assert len(sq) == 1 and sq[0]["transaction_type"] == "SELL" and sq[0]["status"] == "COMPLETE"
    # … and new MIS orders are refused after the cut-off, naming it.
    status, _, err = http_call(
        srv.url + f"/accounts/{acc}/orders",
        "POST",
        {
            "tradingsymbol": sym,
            "transaction_type": "BUY",
            "quantity": 65,
            "order_type": "MARKET",
            "product": "MIS",
        },
        token=tok,
    )
    assert status == 400 and "15:20" in err["detail"], err

    # The expiry day: quotes in the closing half hour, then 15:30 settles the NRML call at its
    # intrinsic value against the index.
    advance(srv, admin, f"{expiry} 15:10:00")
    time.sleep(1.5)  # a few index quotes stamped in the closing half hour
    _, _, spot_q = http_call(srv.url + "/quote?symbol=NIFTY%2050")
    spot = spot_q["ltp"]
    # 15:30 is the session's end: the clock moves on to the next trading day's open.
    after = advance(srv, admin, f"{expiry} 15:30:00")
    assert after["ist"][11:16] == "09:15" and after["ist"][:10] > expiry, after
    wait_for(lambda: not positions().get("NRML"), what="the expiry settlement")
    trades = get(srv, tok, f"/accounts/{acc}/trades")
    settle = [t for t in trades if t["basis"] == "settlement"]
    assert len(settle) == 1 and settle[0]["transaction_type"] == "SELL", trades
    intrinsic = max(0.0, spot - strike)
    # The index moves a little between our read and the settlement quote.
    assert settle[0]["average_price"] == pytest.approx(intrinsic, abs=spot * 0.003 + 0.05)
    # The clock never runs backwards.
    status, _, err = http_call(
        srv.url + "/admin/clock", "POST", {"to": f"{expiry} 15:00:00"}, token=admin
    )
    assert status == 400 and "forward" in err["detail"], err


def test_calendar_status_on_the_trading_clock(srv: ServerProcess) -> None:
    status, _, now = http_call(srv.url + "/calendar/status", auth=False)
    assert status == 200, now
    tok = new_user(srv, "calendar@example.com")[0]
    clock = get(srv, tok, "/clock")
    assert now["date"] == clock["ist"][:10] and now["calendar"] == "NSE"
    assert now["is_trading_day"] and now["current_session"] == "open"  # the demo day is in session
    assert (now["session_open"], now["session_close"]) == ("09:15", "15:30")
    _, _, holi = http_call(srv.url + "/calendar/status?calendar=BSE&date=2025-03-14", auth=False)
    assert holi["is_holiday"] and holi["holiday_name"] == "Holi" and not holi["is_trading_day"]
    assert holi["current_session"] == "closed" and holi["session_open"] is None
    assert holi["next_trading_day"] == "2025-03-17"  # Friday's holiday, then the weekend
    for bad in ("calendar=XYZ", "date=14-03-2025"):
        status, _, err = http_call(srv.url + f"/calendar/status?{bad}", auth=False)
        assert status == 400 and err["code"] == "invalid_parameter", err
