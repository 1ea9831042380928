"""Symbol parsing through the real wheel: SymbolInfo, parse_symbols, Instrument, errors."""

from __future__ import annotations

import datetime as dt

import pytest

import stocksblitz as sb


def test_old_sdk_failures_are_fixed() -> None:
    assert sb.parse_symbol("BANKNIFTY").underlying == "BANKNIFTY"
    assert sb.parse_symbol("FINNIFTY").underlying == "FINNIFTY"
    weekly = sb.parse_symbol("NIFTY25N0424500PE")
    assert weekly.strike == 24500.0  # the old filter read 424500
    assert weekly.expiry == dt.date(2025, 11, 4)
    assert weekly.is_weekly and weekly.option_type == "PE" and weekly.kind == "option"
    jan = sb.parse_symbol("NIFTY2610624000CE")
    assert (jan.expiry, jan.strike, jan.option_type) == (dt.date(2026, 1, 6), 24000.0, "CE")
    monthly = sb.parse_symbol("NIFTY25NOV24500CE")
    assert (monthly.expiry, monthly.is_weekly) == (dt.date(2025, 11, 25), False)


@pytest.mark.parametrize(
    "symbol, expiry",
    [
        ("NIFTY25AUGFUT", dt.date(2025, 8, 28)),
        ("NIFTY25NOVFUT", dt.date(2025, 11, 25)),
        ("NIFTY26MARFUT", dt.date(2026, 3, 30)),
        ("NIFTY26NOVFUT", dt.date(2026, 11, 23)),
    ],
)
def test_future_expiries(symbol: str, expiry: dt.date) -> None:
    info = sb.parse_symbol(symbol)
    assert info.kind == "future" and info.expiry == expiry and info.exchange == "NFO"
    assert info.tradingsymbol == symbol


def test_symbol_info_fields() -> None:
    idx = sb.parse_symbol("nifty 50")
    assert (idx.kind, idx.exchange, idx.underlying, idx.tradingsymbol) == (
        "index",
        "NSE",
        "NIFTY",
        "NIFTY 50",
    )
    assert idx.expiry is None and idx.strike is None and idx.option_type is None
    eq = sb.parse_symbol("M&M")
    assert (eq.kind, eq.tradingsymbol) == ("equity", "M&M")
    dec = sb.parse_symbol("IDEA26JAN7.5CE")
    assert dec.strike == 7.5 and str(dec) == "IDEA26JAN7.5CE"
    sensex = sb.parse_symbol("SENSEX25D1185000CE")
    assert sensex.exchange == "BFO" and sensex.expiry == dt.date(2025, 12, 11)
    assert sb.parse_symbol("NIFTY25NOVFUT") == sb.parse_symbol(" nifty25novfut ")
    assert hash(sb.parse_symbol("NIFTY25NOVFUT")) == hash(sb.parse_symbol("NIFTY25NOVFUT"))
    assert "NIFTY25N0424500PE" in repr(sb.parse_symbol("NIFTY25N0424500PE"))
    assert sb.parse_symbol("NIFTY25NOVFUT").to_dict()["expiry"] == dt.date(2025, 11, 25)


@pytest.mark.parametrize(
    "bad, message",
    [
        ("", "empty symbol"),
        ("NIFTY25XYZFUT", 'unknown month "XYZ"'),
        ("NIFTY25N3224500CE", "day 32 is not a date"),
        ("NIFTY25NOV24500XE", "expected CE or PE"),
    ],
)
def test_errors_carry_the_parser_message(bad: str, message: str) -> None:
    with pytest.raises(sb.InvalidSymbolError, match=message) as exc:
        sb.parse_symbol(bad)
    assert isinstance(exc.value, ValueError)
    assert isinstance(exc.value, sb.StocksBlitzError)


def test_parse_symbols_batch() -> None:
    out = sb.parse_symbols(["NIFTY25NOVFUT", "RELIANCE", "NIFTY 50"])
    assert [s.kind for s in out] == ["future", "equity", "index"]
    with pytest.raises(sb.InvalidSymbolError, match=r"symbols\[1\]"):
        sb.parse_symbols(["NIFTY", "NIFTY25XYZFUT"])
    tolerant = sb.parse_symbols(["NIFTY", "NIFTY25XYZFUT"], errors="none")
    assert tolerant[0] is not None and tolerant[1] is None
    with pytest.raises(ValueError, match="errors must be"):
        sb.parse_symbols(["NIFTY"], errors="ignore")  # type: ignore[call-overload]


def test_instrument_offline() -> None:
    fut = sb.Instrument("NIFTY25NOVFUT")
    assert fut.tradingsymbol == "NIFTY25NOVFUT"
    assert (fut.kind, fut.underlying, fut.expiry) == ("future", "NIFTY", dt.date(2025, 11, 25))
    assert repr(fut) == "<Instrument NIFTY25NOVFUT>" and str(fut) == "NIFTY25NOVFUT"
    opt = sb.Instrument("NIFTY25N0424500PE")
    assert (opt.strike, opt.option_type, opt.is_weekly) == (24500.0, "PE", True)
    with pytest.raises(sb.InvalidSymbolError, match="unknown month"):
        sb.Instrument("NIFTY25XYZFUT")
    spec = sb.Instrument("NSE@NIFTY@Nw+1@Put@OTM2")
    assert spec.spec == "NSE@NIFTY@Nw+1@Put@OTM2"
    assert spec.underlying == "NIFTY" and spec.tradingsymbol is None
    with pytest.raises(sb.InvalidSymbolError, match="bad expiry"):
        sb.Instrument("NSE@NIFTY@Nq")


def test_trading_client_offline() -> None:
    with pytest.raises(ValueError, match="api_key"):
        sb.TradingClient(api_url="http://localhost:8081")
    client = sb.TradingClient(api_url="http://localhost:8081/", api_key="sb_x_y")
    assert repr(client) == "<TradingClient api_url='http://localhost:8081' auth='API Key'>"
    inst = client.Instrument("BANKNIFTY")
    assert inst.underlying == "BANKNIFTY" and inst.tradingsymbol == "NIFTY BANK"
    jwt = sb.TradingClient(
        api_url="http://localhost:8081", user_service_url="http://localhost:8001"
    )
    assert "auth='JWT'" in repr(jwt)


def test_next_expiries() -> None:
    weekly = sb.next_expiries("NIFTY", 3, "weekly", dt.date(2025, 10, 29))
    assert weekly == [dt.date(2025, 11, 4), dt.date(2025, 11, 11), dt.date(2025, 11, 18)]
    monthly = sb.next_expiries("BANKNIFTY", 2, "monthly", dt.date(2026, 3, 1))
    assert monthly == [dt.date(2026, 3, 30), dt.date(2026, 4, 28)]
    assert sb.next_expiries("BANKNIFTY", 2, "weekly") == []


def test_exception_hierarchy() -> None:
    assert issubclass(sb.AuthenticationError, sb.APIError)
    assert issubclass(sb.RateLimitError, sb.APIError)
    assert issubclass(sb.TimeoutError, TimeoutError)
    assert issubclass(sb.IndicatorUnavailableError, sb.DataUnavailableError)
    err = sb.RateLimitError("slow down", retry_after=3.0)
    assert err.retry_after == 3.0 and err.status_code == 429
    assert sb.DataState.STALE == "stale" and str(sb.Timeframe.FIVE_MINUTES) == "5m"


def test_parse_symbols_restores_the_gc_state() -> None:
    import gc

    batch = ["NIFTY25NOVFUT"] * 20_000
    assert gc.isenabled()
    assert len(sb.parse_symbols(batch)) == 20_000
    assert gc.isenabled()
    gc.disable()
    try:
        sb.parse_symbols(batch)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(sb.InvalidSymbolError):
        sb.parse_symbols([*batch, "NIFTY25XYZFUT"])
    assert gc.isenabled()
