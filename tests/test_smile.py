"""Greeks for every option and the SVI smile: offline (`stocksblitz.options`) against the SVI
formula written out here, and through a real server against the simulator's own smile."""

from __future__ import annotations

import math
import urllib.parse
from typing import Any

import pytest

from conftest import ServerProcess, http_get
from stocksblitz import TradingClient, options


def svi_w(k: float, a: float, b: float, rho: float, m: float, sigma: float) -> float:
    return a + b * (rho * (k - m) + math.sqrt((k - m) ** 2 + sigma**2))


def test_fit_smile_recovers_a_known_svi_smile() -> None:
    truth = {"a": 0.0008, "b": 0.02, "rho": -0.4, "m": 0.01, "sigma": 0.05}
    f, t = 26_000.0, 28 / 365
    strikes = [f + 200 * i for i in range(-15, 16)]
    ivs = [math.sqrt(svi_w(math.log(k / f), **truth) / t) for k in strikes]
    smile = options.fit_smile(strikes, ivs, forward=f, years=t)
    assert smile.rmse < 5e-4
    for k, v in zip(strikes, ivs):
        assert smile.iv(k) == pytest.approx(v, abs=2e-3)
    assert smile.butterfly_ok(strikes)
    assert set(smile.params) == {"a", "b", "rho", "m", "sigma"}
    assert smile.forward == f and smile.years == t
    assert "Smile(" in repr(smile)


def test_fit_smile_refuses_bad_input_clearly() -> None:
    with pytest.raises(ValueError, match="at least 5 strikes"):
        options.fit_smile([100, 110], [0.2, 0.2], forward=100, years=0.1)
    with pytest.raises(ValueError, match="differ in length"):
        options.fit_smile([100, 110], [0.2], forward=100, years=0.1)
    with pytest.raises(ValueError, match="forward"):
        options.fit_smile([100] * 5, [0.2] * 5, forward=0, years=0.1)
    smile = options.fit_smile([90, 95, 100, 105, 110], [0.2] * 5, forward=100, years=0.1)
    with pytest.raises(ValueError, match="strike"):
        smile.iv(-1)


def test_options_module_prices_and_solves() -> None:
    p = options.price(24_600, 24_500, 7 / 365, 0.15, "CE")
    g = options.greeks(p, 24_600, 24_500, 7 / 365, "CE")
    assert g is not None and g["iv"] == pytest.approx(0.15, abs=1e-9)
    assert options.greeks(50.0, 24_600, 24_500, 7 / 365, "CE") is None  # below intrinsic


SIM_ARGS = [
    "--demo-clock",
    "--backfill-days",
    "1",
    "--tick-interval-ms",
    "1000",
    "--bar-grace-ms",
    "0",
]
SOURCES = {"mid:parity", "mid:future", "mid:spot", "ltp:parity", "ltp:future", "ltp:spot"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("smile") / "data", SIM_ARGS)
    s.wait_healthy()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def get(srv: ServerProcess, path: str, **params: Any) -> tuple[int, Any]:
    status, _, body = http_get(srv.url + path + "?" + urllib.parse.urlencode(params))
    return status, body


def simulator_smile(base: float, forward: float, strike: float) -> float:
    """The smile the simulator prices with (server/src/ingest/simulator.rs)."""
    m = math.log(strike / forward)
    return base + 1.5 * m * m - 0.1 * m


@pytest.mark.parametrize("underlying,base", [("NIFTY", 0.13), ("BANKNIFTY", 0.15)])
def test_every_option_has_greeks_and_the_smile_is_the_simulator_s(
    srv: ServerProcess, underlying: str, base: float
) -> None:
    status, smile = get(srv, "/fo/iv-smile", underlying=underlying)
    assert status == 200, smile
    assert smile["fit"] is not None, smile["fit_error"]
    assert smile["fit"]["rmse"] < 0.005
    assert len(smile["points"]) == 21 and all(p["iv"] is not None for p in smile["points"])
    assert {p["source"] for p in smile["points"]} <= SOURCES | {"smile"}
    f, t = smile["forward"], smile["years"]
    fit = smile["fit"]["params"]

    def fitted(strike: float) -> float:
        return math.sqrt(svi_w(math.log(strike / f), **fit) / t)

    # The chain of the same expiry: every option has a delta and says where its IV came from.
    _, chain = get(srv, "/fo/option-chain", underlying=underlying, expiry=smile["expiry"])
    checked = 0
    for row in chain["strikes"]:
        for side in ("call", "put"):
            o = row[side]
            assert o is not None and o["delta"] is not None, (row["strike"], side, o)
            assert o["iv_source"] in SOURCES | {"intrinsic"}, o
            if o["iv_source"] == "intrinsic":
                assert o["iv"] is None and abs(o["delta"]) in (0.0, 1.0)
                # … and the smile stands in for its IV, said so by its own field.
                assert 0.01 < o["smile_iv"] < 1.0, o
            else:
                assert "smile_iv" not in o
            if o["iv_source"] != "intrinsic" and o["vega"] >= 0.05:
                # Where a 0.05 price tick cannot move the IV by more than half a vol point.
                truth = simulator_smile(base, f, row["strike"])
                assert o["iv"] == pytest.approx(truth, abs=0.005), (row["strike"], side)
                assert fitted(row["strike"]) == pytest.approx(truth, abs=0.005), row["strike"]
                checked += 1
    assert checked >= 5


def test_the_sdk_reads_the_same_smile(srv: ServerProcess) -> None:
    client = TradingClient(api_url=srv.url, api_key=srv.api_key())
    s = client.iv_smile("NIFTY")
    assert s["underlying"] == "NIFTY" and s["fit"] is not None
    _, direct = get(srv, "/fo/iv-smile", underlying="NIFTY", expiry=s["expiry"])
    assert [p["strike"] for p in s["points"]] == [p["strike"] for p in direct["points"]]
    # An option's greeks through the SDK say where their IV came from.
    _, chain = get(srv, "/fo/option-chain", underlying="NIFTY", expiry=s["expiry"])
    for row in chain["strikes"][::5]:
        inst = client.Instrument(row["call"]["tradingsymbol"])
        assert inst.iv_source in SOURCES | {"intrinsic"}
        assert inst.delta is not None


def test_smile_errors_name_the_parameter(srv: ServerProcess) -> None:
    status, err = get(srv, "/fo/iv-smile")
    assert status == 400 and "underlying" in err["detail"]
    status, err = get(srv, "/fo/iv-smile", underlying="NIFTY", expiry="2026-13-01")
    assert status == 400 and "expiry" in err["detail"]
    status, body = get(srv, "/fo/iv-smile", underlying="NIFTY", expiry="2020-01-30")
    assert status == 200 and body["points"] == [] and body["fit"] is None and body["fit_error"]
