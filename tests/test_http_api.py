"""The HTTP API through a real server with the simulator on the demo clock: indicator values
checked against TA-Lib over the server's own candles, every route's success and main failures,
subscriptions per client that survive a restart, UDF history equal to /candles."""

from __future__ import annotations

import math
import urllib.parse
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from conftest import ServerProcess, http_call, http_get

talib = pytest.importorskip("talib")

SIM_ARGS = [
    "--demo-clock",
    "--backfill-days",
    "2",
    "--tick-interval-ms",
    "2000",
    "--bar-grace-ms",
    "0",
]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("api") / "data", SIM_ARGS)
    s.wait_healthy()
    s.wait_quotes("NIFTY")
    s.wait_backfilled()
    yield s
    s.stop()


def q(params: dict[str, Any]) -> str:
    return urllib.parse.urlencode(params)


def get(srv: ServerProcess, path: str, **params: Any) -> tuple[int, Any]:
    status, _, body = http_get(srv.url + path + ("?" + q(params) if params else ""))
    return status, body


def stable(srv: ServerProcess, candles: dict[str, Any], read: Callable[[], Any]) -> tuple[Any, Any]:
    """(candles, read()) taken while no tick changed the candles in between."""
    for _ in range(50):
        before = get(srv, "/candles", **candles)[1]
        result = read()
        if get(srv, "/candles", **candles)[1] == before:
            return before, result
    raise AssertionError("candles kept changing")


def close_to(a: float | None, b: float, what: str) -> None:
    if math.isnan(b):
        assert a is None, f"{what}: {a} where TA-Lib has no value"
        return
    assert a is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b)), f"{what}: {a} != {b}"


def ohlcv(candles: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    return {
        k: np.array([c[k] for c in candles], dtype=float)
        for k in ("open", "high", "low", "close", "volume")
    }


def test_current_at_offset_history_and_batch_agree_with_talib(srv: ServerProcess) -> None:
    sym, tf = "NIFTY 50", "5m"
    cq = {"symbol": sym, "timeframe": tf, "limit": 5000}
    ids = "RSI_14,rsi_14_100,RSI,SMA_20,MACD_12_26_9,BBANDS_20_2,ATR_14"
    candles, cur = stable(
        srv, cq, lambda: get(srv, "/indicators/current", symbol=sym, timeframe=tf, indicators=ids)
    )
    bars = candles["candles"]
    assert len(bars) > 60, "the back-fill gives two sessions of 5m bars"
    assert [b["time"] for b in bars] == sorted(b["time"] for b in bars)
    assert all(b["complete"] for b in bars[:-1])
    status, cur = cur
    assert status == 200, cur
    assert cur["candle_time"] == bars[-1]["time"]
    assert cur["symbol"] == "NIFTY 50" and cur["timeframe"] == "5m"
    # Ids are echoed as sent, in order; equivalent spellings give the same value.
    assert list(cur["indicators"]) == ids.split(",")
    d = ohlcv(bars)
    rsi = talib.RSI(d["close"], 14)
    for k in ("RSI_14", "rsi_14_100", "RSI"):
        close_to(cur["indicators"][k], rsi[-1], k)
    close_to(cur["indicators"]["SMA_20"], talib.SMA(d["close"], 20)[-1], "SMA_20")
    close_to(cur["indicators"]["ATR_14"], talib.ATR(d["high"], d["low"], d["close"], 14)[-1], "ATR")
    macd, signal, hist = talib.MACD(d["close"], 12, 26, 9)
    m = cur["indicators"]["MACD_12_26_9"]
    assert set(m) == {"macd", "signal", "histogram"}
    close_to(m["macd"], macd[-1], "macd")
    close_to(m["signal"], signal[-1], "signal")
    close_to(m["histogram"], hist[-1], "histogram")
    # Repeated reads between ticks are cache hits (counted in /metrics).
    for _ in range(3):
        get(srv, "/indicators/current", symbol=sym, timeframe=tf, indicators="RSI_14")
    metrics = http_get(srv.url + "/metrics")[2]
    values = {
        line.split()[0]: float(line.split()[-1])
        for line in metrics.splitlines()
        if line and not line.startswith("#")
    }
    assert values["stocksblitz_indicator_cache_hits_total"] > 0, metrics
    assert values["stocksblitz_series_cache_hits_total"] > 0
    assert values["stocksblitz_ticks_total"] > 0 and "stocksblitz_bars_written_total" in values
    assert "# TYPE stocksblitz_bar_buffer_depth gauge" in metrics
    upper, middle, lower = talib.BBANDS(d["close"], 20, 2, 2, 0)
    bb = cur["indicators"]["BBANDS_20_2"]
    close_to(bb["upper"], upper[-1], "upper")
    close_to(bb["middle"], middle[-1], "middle")
    close_to(bb["lower"], lower[-1], "lower")

    # at-offset: several offsets, each the value at that bar.
    for offset in (0, 1, 5, 17):
        candles, (status, at) = stable(
            srv,
            cq,
            lambda o=offset: get(
                srv,
                "/indicators/at-offset",
                symbol=sym,
                timeframe=tf,
                indicators="RSI_14,SMA_20",
                offset=o,
            ),
        )
        assert status == 200, at
        c = ohlcv(candles["candles"])["close"]
        i = len(c) - 1 - offset
        assert at["offset"] == offset and at["candle_time"] == candles["candles"][i]["time"]
        close_to(at["indicators"]["RSI_14"], talib.RSI(c, 14)[i], f"RSI at offset {offset}")
        close_to(at["indicators"]["SMA_20"], talib.SMA(c, 20)[i], f"SMA at offset {offset}")

    # history: `lookback` values oldest first, the last with candles_back 0.
    candles, (status, hist_body) = stable(
        srv,
        cq,
        lambda: get(
            srv, "/indicators/history", symbol=sym, timeframe=tf, indicator="RSI_14", lookback=30
        ),
    )
    assert status == 200, hist_body
    c = ohlcv(candles["candles"])["close"]
    times = [b["time"] for b in candles["candles"]]
    assert hist_body["count"] == 30 and len(hist_body["series"]) == 30
    expected = talib.RSI(c, 14)[-30:]
    for k, (p, e) in enumerate(zip(hist_body["series"], expected)):
        close_to(p["value"], e, f"history {k}")
        assert p["candles_back"] == 29 - k
    assert [p["time"] for p in hist_body["series"]] == times[-30:]
    # Multi-output history entries carry the output names.
    _, mh = get(srv, "/indicators/history", symbol=sym, timeframe=tf, indicator="MACD", lookback=3)
    assert set(mh["series"][-1]) == {"time", "macd", "signal", "histogram", "candles_back"}

    # batch: several timeframes in one call, the same numbers as the single routes.
    one_m = {"symbol": sym, "timeframe": "1m", "limit": 5000}

    def run_batch() -> Any:
        body = {
            "symbol": sym,
            "queries": [
                {"timeframe": "5m", "indicator": "RSI_14", "lookback": 10},
                {"timeframe": "1m", "indicator": "SMA_20", "lookback": 5},
            ],
        }
        return http_call(srv.url + "/indicators/batch", "POST", body)

    for _ in range(20):
        five = get(srv, "/candles", **cq)[1]
        one = get(srv, "/candles", **one_m)[1]
        status, _, batch = run_batch()
        if get(srv, "/candles", **cq)[1] == five and get(srv, "/candles", **one_m)[1] == one:
            break
    assert status == 200, batch
    r5, r1 = batch["results"]
    assert (r5["timeframe"], r5["indicator"], len(r5["series"])) == ("5m", "RSI_14", 10)
    rsi5 = talib.RSI(ohlcv(five["candles"])["close"], 14)[-10:]
    for p, e in zip(r5["series"], rsi5):
        close_to(p["value"], e, "batch RSI")
    sma1 = talib.SMA(ohlcv(one["candles"])["close"], 20)[-5:]
    for p, e in zip(r1["series"], sma1):
        close_to(p["value"], e, "batch SMA")


def test_indicator_errors_name_the_parameter(srv: ServerProcess) -> None:
    base = {"symbol": "NIFTY 50", "timeframe": "5m", "indicators": "RSI_14"}
    cases = [
        ({**base, "symbol": "NIFTY25XYZFUT"}, "symbol"),
        ({**base, "timeframe": "7m"}, "timeframe"),
        ({**base, "indicators": "RSX_14"}, "did you mean RSI"),
        ({**base, "indicators": "RSI_14_100_3"}, "at most 2 parameters"),
        ({**base, "indicators": "RSI_14.5"}, "integer"),
        ({**base, "indicators": ",".join(["SMA"] * 21)}, "at most 20"),
        ({"symbol": "NIFTY 50", "timeframe": "5m"}, "indicators: is required"),
    ]
    for params, needle in cases:
        status, body = get(srv, "/indicators/current", **params)
        assert status == 400, (params, body)
        assert needle in body["detail"] and body["code"], (params, body)
    status, body = get(srv, "/indicators/at-offset", **base, offset=5001)
    assert status == 400 and "offset" in body["detail"]
    status, body = get(srv, "/indicators/at-offset", **base, offset=-1)
    assert status == 400 and "offset" in body["detail"]
    for lb in (0, 5001, "x"):
        status, body = get(
            srv,
            "/indicators/history",
            symbol="NIFTY 50",
            timeframe="5m",
            indicator="RSI",
            lookback=lb,
        )
        assert status == 400, body
    status, body = get(srv, "/indicators/current", **{**base, "symbol": "NIFTY24JANFUT"})
    assert status == 404 and "expired on 2024-01-25" in body["detail"], body
    # A symbol that parses but has no data: null values and a reason, not an error.
    status, body = get(srv, "/indicators/current", **{**base, "symbol": "RELIANCE"})
    assert status == 200 and body["indicators"] == {"RSI_14": None} and body["reason"] == "no_data"
    # Batch: a bad query is named by its index; nothing is computed.
    status, _, body = http_call(
        srv.url + "/indicators/batch",
        "POST",
        {
            "symbol": "NIFTY 50",
            "queries": [
                {"timeframe": "5m", "indicator": "RSI"},
                {"timeframe": "5m", "indicator": "NOPE"},
            ],
        },
    )
    assert status == 400 and "queries[1].indicator" in body["detail"], body
    status, _, body = http_call(
        srv.url + "/indicators/batch",
        "POST",
        {"symbol": "NIFTY 50", "queries": [{"timeframe": "5m", "indicator": "RSI"}] * 101},
    )
    assert status == 400 and "at most 100" in body["detail"]
    status, _, body = http_call(
        srv.url + "/indicators/batch", "POST", {"symbol": "NIFTY 50", "queries": "x"}
    )
    assert status == 422 and body["code"] == "invalid_body"
    # No credential: 401 with the challenge; the registry stays public.
    status, headers, body = http_get(srv.url + "/indicators/current?" + q(base), auth=False)
    assert (
        status == 401
        and body["code"] == "missing"
        and "Bearer" in headers.get("www-authenticate", headers.get("WWW-Authenticate", ""))
    )
    for path in (
        "/quote?symbol=NIFTY",
        "/candles?symbol=NIFTY&timeframe=1m",
        "/monitor/snapshot",
        "/fo/expiries?underlying=NIFTY",
    ):
        assert http_get(srv.url + path, auth=False)[0] == 401, path
    assert http_get(srv.url + "/indicators/list", auth=False)[0] == 200


def test_registry_routes(srv: ServerProcess) -> None:
    status, body = get(srv, "/indicators/list")
    assert status == 200 and body["total"] == len(body["indicators"]) == 37
    rsi = next(i for i in body["indicators"] if i["name"] == "RSI")
    assert rsi["category"] == "momentum"
    assert [(p["name"], p["type"], p["default"]) for p in rsi["parameters"]] == [
        ("length", "integer", 14),
        ("scalar", "float", 100.0),
    ]
    _, mom = get(srv, "/indicators/list", category="momentum")
    assert mom["total"] > 5 and all(i["category"] == "momentum" for i in mom["indicators"])
    _, found = get(srv, "/indicators/list", search="bollinger")
    assert [i["name"] for i in found["indicators"]] == ["BBANDS"]
    status, err = get(srv, "/indicators/list", category="magic")
    assert status == 400 and "category" in err["detail"]
    status, d = get(srv, "/indicators/definition/bb")
    assert status == 200 and d["indicator"]["outputs"] == [
        "upper",
        "middle",
        "lower",
        "bandwidth",
        "percent",
    ]
    status, err = get(srv, "/indicators/definition/RSX")
    assert status == 404 and "did you mean RSI" in err["detail"]


def new_key(srv: ServerProcess, email: str) -> str:
    password = "Another-Pass-123!"
    assert (
        http_call(
            srv.url + "/v1/auth/register",
            "POST",
            {"email": email, "password": password},
            auth=False,
        )[0]
        == 201
    )
    _, _, login = http_call(
        srv.url + "/v1/auth/login", "POST", {"email": email, "password": password}, auth=False
    )
    _, _, key = http_call(
        srv.url + "/api-keys",
        "POST",
        {"name": "k", "scopes": ["read"]},
        token=login["access_token"],
    )
    return key["api_key"]


def test_subscriptions_are_per_client_exact_and_survive_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    s = ServerProcess(data, ["--source", "none"])
    s.wait_healthy()
    a, b = new_key(s, "a@example.com"), new_key(s, "b@example.com")
    sub = {
        "symbol": "NIFTY 50",
        "timeframe": "5m",
        "indicators": ["RSI_14", {"name": "SMA", "params": {"length": 50}}],
    }
    status, _, ra = http_call(s.url + "/indicators/subscribe", "POST", sub, token=a)
    assert status == 200, ra
    assert [
        (x["indicator_id"], x["subscriber_count"], x["status"]) for x in ra["subscriptions"]
    ] == [
        ("RSI_14", 1, "subscribed"),
        ("SMA_50", 1, "subscribed"),
    ]
    # Idempotent per client; another client's subscription counts once more.
    _, _, again = http_call(s.url + "/indicators/subscribe", "POST", sub, token=a)
    assert [x["subscriber_count"] for x in again["subscriptions"]] == [1, 1]
    _, _, rb = http_call(
        s.url + "/indicators/subscribe", "POST", {**sub, "indicators": ["rsi"]}, token=b
    )
    assert rb["client_id"] != ra["client_id"]
    assert rb["subscriptions"][0]["subscriber_count"] == 2
    # All-or-nothing: one bad id and nothing is stored.
    status, _, bad = http_call(
        s.url + "/indicators/subscribe", "POST", {**sub, "indicators": ["EMA_9", "NOPE"]}, token=b
    )
    assert status == 400 and "indicators[1]" in bad["detail"]
    s.stop()

    s = ServerProcess(data, ["--source", "none"])
    s.wait_healthy()
    # After a restart: B unsubscribes its own RSI; A's subscription is still counted.
    unsub = {"symbol": "NIFTY 50", "timeframe": "5m", "indicator_ids": ["RSI_14_100", "EMA_9"]}
    status, _, ub = http_call(s.url + "/indicators/unsubscribe", "POST", unsub, token=b)
    assert status == 200, ub
    assert [
        (x["indicator_id"], x["subscriber_count"], x["status"]) for x in ub["unsubscribed"]
    ] == [
        ("RSI_14_100", 1, "unsubscribed"),
        ("EMA_9", 0, "not_subscribed"),
    ]
    s.stop()


def test_candles_udf_history_and_market_routes(srv: ServerProcess) -> None:
    cq = {"symbol": "NIFTY 50", "timeframe": "15m", "limit": 40}
    candles, (status, udf) = stable(
        srv,
        cq,
        lambda: get(
            srv, "/history", symbol="NIFTY 50", resolution="15", countback=40, to=2_000_000_000
        ),
    )
    assert status == 200 and udf["s"] == "ok", udf
    bars = candles["candles"]
    assert len(bars) == 40
    assert udf["t"] == [b["time"] for b in bars]
    assert udf["c"] == [b["close"] for b in bars] and udf["v"] == [b["volume"] for b in bars]
    assert all(
        b["low"] <= min(b["open"], b["close"]) <= max(b["open"], b["close"]) <= b["high"]
        for b in bars
    )
    # A window in the past: only bars inside it; none at all → no_data.
    t0, t1 = bars[5]["time"], bars[9]["time"]
    _, win = get(srv, "/candles", symbol="NIFTY 50", timeframe="15m", **{"from": t0, "to": t1})
    assert [b["time"] for b in win["candles"]] == [b["time"] for b in bars[5:10]]
    assert all(b["complete"] for b in win["candles"])
    _, none = get(
        srv,
        "/history",
        symbol="NIFTY 50",
        resolution="15",
        to=1_000_000_000,
        **{"from": 999_000_000},
    )
    assert none == {"s": "no_data"}
    for params, needle in [
        ({**cq, "timeframe": "2m"}, "timeframe"),
        ({**cq, "limit": 0}, "limit"),
        ({**cq, "limit": 5001}, "limit"),
        ({**cq, "from": 10, "to": 5}, "from"),
    ]:
        status, err = get(srv, "/candles", **params)
        assert status == 400 and needle in err["detail"], (params, err)
    status, err = get(srv, "/history", symbol="NIFTY 50", resolution="2W", to=1)
    assert status == 400 and "resolution" in err["detail"]
    status, t = get(srv, "/time")
    assert status == 200 and isinstance(t, int)
    _, cfg = get(srv, "/config")
    assert "15" in cfg["supported_resolutions"] and cfg["supports_search"]
    _, found = get(srv, "/search", query="BANK", limit=5)
    assert found and all("BANK" in x["symbol"] for x in found) and len(found) <= 5

    # Expiries, instruments, the option chain and @ specs agree with each other.
    _, exp = get(srv, "/fo/expiries", underlying="NIFTY 50")
    assert exp["underlying"] == "NIFTY" and len(exp["weekly"]) == 4 and len(exp["monthly"]) == 3
    _, fut = get(srv, "/instruments", underlying="NIFTY", kind="future")
    assert fut["total"] == 2 and {i["expiry"] for i in fut["instruments"]} <= set(exp["monthly"])
    _, opts = get(
        srv,
        "/instruments",
        underlying="NIFTY",
        kind="option",
        expiry=exp["weekly"][0],
        right="CE",
        limit=5,
    )
    assert opts["total"] == 21 and len(opts["instruments"]) == 5
    assert all(i["right"] == "CE" and i["expiry"] == exp["weekly"][0] for i in opts["instruments"])
    status, err = get(srv, "/instruments", kind="swap")
    assert status == 400 and "kind" in err["detail"]
    status, chain = get(srv, "/fo/option-chain", underlying="NIFTY", expiry=exp["weekly"][0])
    assert status == 200 and chain["expiry"] == exp["weekly"][0] and len(chain["strikes"]) == 21
    strikes = [r["strike"] for r in chain["strikes"]]
    assert strikes == sorted(strikes)
    call_oi = sum(r["call"]["oi"] or 0 for r in chain["strikes"] if r["call"])
    put_oi = sum(r["put"]["oi"] or 0 for r in chain["strikes"] if r["put"])
    if call_oi:
        assert chain["pcr_oi"] == pytest.approx(put_oi / call_oi)
    assert chain["max_pain"] in strikes
    _, res = get(srv, "/instruments/resolve", spec="NSE@NIFTY@Nw@Call@ATM")
    assert res["kind"] == "option" and res["expiry"] == exp["weekly"][0] and res["right"] == "CE"
    assert abs(res["strike"] - chain["spot"]) <= 50
    status, err = get(srv, "/instruments/resolve", spec="NSE@")
    assert status == 400 and "spec" in err["detail"]
