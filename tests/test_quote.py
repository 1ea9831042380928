"""`/quote` through a real server fed by the simulator: an instrument's own quote (never the
index's), expired contracts, bad symbols, limits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import stocksblitz as sb
from conftest import IST, ServerProcess, http_get, wait_for


def test_quotes_are_the_instruments_own(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", ["--demo-clock", "--tick-interval-ms", "100"])
    srv.wait_healthy()
    try:
        snap = wait_for(
            lambda: (
                (s := http_get(srv.url + "/monitor/snapshot?underlying=BANKNIFTY")[2])
                and s["underlying"]
                and s
            ),
            what="quotes",
        )
        status, _, idx = http_get(srv.url + "/quote?symbol=BANKNIFTY")
        assert status == 200 and idx["tradingsymbol"] == "NIFTY BANK" and idx["kind"] == "index"
        assert idx["state"] == "valid" and idx["ltp"] > 10_000
        fut = next(iter(snap["futures"]))
        status, _, fq = http_get(srv.url + f"/quote?symbol={fut}")
        assert status == 200 and fq["kind"] == "future" and fq["ltp"] != idx["ltp"]
        opt = next(iter(snap["options"]))
        _, _, oq = http_get(srv.url + f"/quote?symbol={opt}")
        assert oq["tradingsymbol"] == opt and oq["ltp"] < idx["ltp"] / 10
        assert oq["greeks"] is not None and oq["greeks"]["delta"] is not None
        _, _, many = http_get(srv.url + f"/quote?symbols=NIFTY%2050,{fut},{opt}")
        assert [q["tradingsymbol"] for q in many["quotes"]] == ["NIFTY 50", fut, opt]
        # A valid symbol with no ticks: no_data, not an error.
        nxt = sb.next_expiries("NIFTY", 3, "monthly", dt.datetime.now(IST).date())[2]
        far = f"NIFTY{nxt.year % 100:02d}{nxt.strftime('%b').upper()}FUT"
        status, _, nd = http_get(srv.url + f"/quote?symbol={far}")
        assert status == 200 and nd["state"] == "no_data" and nd["ltp"] is None
        status, _, err = http_get(srv.url + "/quote?symbol=NIFTY25NOVFUT")
        assert status == 404 and err["code"] == "contract_expired" and "2025-11-25" in err["detail"]
        status, _, err = http_get(srv.url + "/quote?symbol=NIFTY25XYZFUT")
        assert status == 400 and err["detail"].startswith("symbol:")
        status, _, err = http_get(srv.url + "/quote?symbols=" + ",".join(["NIFTY"] * 51))
        assert status == 400 and "at most 50" in err["detail"]
        status, _, err = http_get(srv.url + "/quote")
        assert status == 400 and err["code"] == "invalid_parameter"
    finally:
        srv.stop()
