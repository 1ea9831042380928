"""Strategies on paper accounts through a real server: a strategy's orders carry its tag, its
book is its own fills (not the account's net position), its lifecycle is enforced, snapshots
are recorded while it is active, and the metrics add up from its trades."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import ServerProcess, http_call, new_user, wait_for

ARGS = [
    "--demo-clock",
    "--tick-interval-ms",
    "500",
    "--bar-grace-ms",
    "0",
    "--strategy-snapshot-secs",
    "1",
]


def call(srv: ServerProcess, tok: str, method: str, path: str, body: Any = None) -> Any:
    status, _, out = http_call(srv.url + path, method, body, token=tok)
    return status, out


def ok(srv: ServerProcess, tok: str, method: str, path: str, body: Any = None) -> Any:
    status, out = call(srv, tok, method, path, body)
    assert status in (200, 201), out
    return out["data"]


def order(sym: str, side: str = "BUY") -> dict[str, Any]:
    return {
        "tradingsymbol": sym,
        "transaction_type": side,
        "quantity": 65,
        "order_type": "MARKET",
        "product": "NRML",
    }


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("strategies") / "data", ARGS)
    s.wait_healthy()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def test_a_strategy_has_its_own_book_lifecycle_and_metrics(srv: ServerProcess) -> None:
    tok = new_user(srv, "strategist@example.com")[0]
    _, _, chain = http_call(srv.url + "/fo/option-chain?underlying=NIFTY")
    row = min(chain["strikes"], key=lambda r: abs(r["strike"] - chain["spot"]))
    sym = row["call"]["tradingsymbol"]

    s = ok(
        srv,
        tok,
        "POST",
        "/strategies",
        {"strategy_name": "momentum", "strategy_type": "momentum", "config": {"lookback": 20}},
    )
    sid = s["strategy_id"]
    assert s["status"] == "created" and s["config"] == {"lookback": 20}
    assert s["tag"] == f"STRAT{sid}"
    status, err = call(srv, tok, "POST", "/strategies", {"strategy_name": "momentum"})
    assert status == 409, err
    assert [x["strategy_id"] for x in ok(srv, tok, "GET", "/strategies?name=momentum")] == [sid]

    # Not active yet: no orders through it.
    status, err = call(srv, tok, "POST", f"/strategies/{sid}/orders", order(sym))
    assert status == 409 and err["code"] == "strategy_not_active", err
    assert ok(srv, tok, "POST", f"/strategies/{sid}/start")["status"] == "active"
    status, err = call(srv, tok, "POST", f"/strategies/{sid}/resume")
    assert status == 409 and err["code"] == "invalid_transition", err

    # Two buys through the strategy, one sell; and a buy on the account directly.
    acc = s["account_id"]
    ids = [ok(srv, tok, "POST", f"/strategies/{sid}/orders", order(sym))["order_id"] for _ in "ab"]
    ids.append(ok(srv, tok, "POST", f"/strategies/{sid}/orders", order(sym, "SELL"))["order_id"])
    ok(srv, tok, "POST", f"/accounts/{acc}/orders", order(sym))
    mine = ok(srv, tok, "GET", f"/strategies/{sid}/orders")
    assert [o["order_id"] for o in mine] == ids and all(o["tag"] == s["tag"] for o in mine)
    # The account holds 2 lots (its own and the strategy's); the strategy only its 1 lot.
    acc_pos = ok(srv, tok, "GET", f"/accounts/{acc}/positions")
    assert [p["quantity"] for p in acc_pos] == [130]
    st_pos = ok(srv, tok, "GET", f"/strategies/{sid}/positions")
    assert [p["quantity"] for p in st_pos] == [65]

    # Metrics from its fills, worked out here from the order book.
    fills = {o["order_id"]: o for o in mine}
    buys = [fills[i]["average_price"] for i in ids[:2]]
    sell = fills[ids[2]]["average_price"]
    realised = (sell - sum(buys) / 2) * 65  # average cost of the two buys
    charges = sum(fills[i]["charges"] for i in ids)
    m = ok(srv, tok, "GET", f"/strategies/{sid}/metrics")
    assert m["total_trades"] == 3 and m["open_positions"] == 1 and m["total_quantity"] == 65
    assert m["realized_pnl"] == pytest.approx(realised, abs=0.01)
    assert m["charges"] == pytest.approx(charges, abs=0.01)
    assert m["winning_trades"] + m["losing_trades"] == (1 if realised != 0 else 0)
    assert m["capital_deployed"] == pytest.approx(sum(buys) / 2 * 65, abs=0.01)
    assert m["total_pnl"] == pytest.approx(
        m["realized_pnl"] + m["unrealized_pnl"] - m["charges"], abs=0.02
    )
    assert m["margin_used"] == 0  # a long option needs no margin beyond its premium
    assert m["max_drawdown"] >= 0 and m["roi"] is not None

    # Snapshots while active (every second here), none while paused.
    wait_for(
        lambda: len(ok(srv, tok, "GET", f"/strategies/{sid}/snapshots?limit=1000")) >= 3,
        what="snapshots",
    )
    ok(srv, tok, "POST", f"/strategies/{sid}/pause")
    n = len(ok(srv, tok, "GET", f"/strategies/{sid}/snapshots?limit=1000"))
    time.sleep(2.5)
    assert len(ok(srv, tok, "GET", f"/strategies/{sid}/snapshots?limit=1000")) <= n + 1
    snaps = ok(srv, tok, "GET", f"/strategies/{sid}/snapshots?limit=2")
    assert len(snaps) == 2 and snaps[0]["snapshot_time"] < snaps[1]["snapshot_time"]
    assert snaps[-1]["open_positions"] == 1 and snaps[-1]["total_quantity"] == 65
    ok(srv, tok, "POST", f"/strategies/{sid}/stop")

    # Another user sees none of it.
    other = new_user(srv, "other-strategist@example.com")[0]
    assert ok(srv, other, "GET", "/strategies") == []
    for path in ("", "/metrics", "/orders", "/positions", "/snapshots"):
        status, _ = call(srv, other, "GET", f"/strategies/{sid}{path}")
        assert status == 404, path
