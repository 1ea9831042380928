"""The stocksblitz.ta surface: signatures from the registry, input conversion, pandas in/out,
errors naming the problem, streaming equal to batch, ids and aliases."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from ta_data import random_walk

import stocksblitz.ta as ta

D = random_walk(500, seed=5)


def test_one_function_per_registry_entry_with_registry_signature() -> None:
    reg = ta.registry()
    assert len(reg) == 37
    for d in reg:
        fn = getattr(ta, d["name"].lower())
        params = inspect.signature(fn).parameters
        assert list(params)[: len(d["inputs"])] == d["inputs"]
        for p in d["parameters"]:
            assert params[p["name"]].default == p["default"]
    assert str(inspect.signature(ta.rsi)) == "(close, length=14, scalar=100.0)"
    assert str(inspect.signature(ta.macd)) == "(close, fast=12, slow=26, signal=9)"
    assert str(inspect.signature(ta.atr)) == "(high, low, close, length=14)"
    assert "time=None" in str(inspect.signature(ta.vwap))


def test_lists_arrays_and_positional_params() -> None:
    c = D["close"]
    a = ta.rsi(c.tolist(), 14)
    b = ta.rsi(c, length=14)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ta.compute("RSI_14", close=c), b)
    assert np.array_equal(ta.compute("rsi", close=c), b, equal_nan=True)
    m = ta.macd(c, 12, 26, 9)
    assert set(m) == {"macd", "signal", "histogram"}
    assert ta.bbands(c, 20, 2)["upper"].shape == c.shape
    # Integer arrays convert to float64.
    assert ta.sma(np.arange(10), 3)[-1] == 8.0


def test_pandas_series_in_series_out() -> None:
    pd = pytest.importorskip("pandas")
    idx = pd.date_range("2026-01-05 09:15", periods=len(D["close"]), freq="min", tz="Asia/Kolkata")
    close = pd.Series(D["close"], index=idx)
    r = ta.rsi(close)
    assert isinstance(r, pd.Series) and r.index.equals(idx)
    np.testing.assert_array_equal(r.to_numpy(), ta.rsi(D["close"]))
    m = ta.macd(close)
    assert isinstance(m["signal"], pd.Series) and m["signal"].index.equals(idx)
    times = pd.to_datetime(D["time"], unit="s", utc=True).tz_convert("Asia/Kolkata")
    v = ta.vwap(
        pd.Series(D["high"], index=idx), D["low"], D["close"], D["volume"], time=times.to_series()
    )
    assert isinstance(v, pd.Series)
    # Aware datetimes, numpy datetime64 and epoch seconds are the same instants.
    ref = ta.vwap(D["high"], D["low"], D["close"], D["volume"], time=D["time"])
    np.testing.assert_array_equal(v.to_numpy(), ref)
    np64 = D["time"].astype("datetime64[s]")
    np.testing.assert_array_equal(
        ta.vwap(D["high"], D["low"], D["close"], D["volume"], time=np64), ref
    )


def test_errors_name_the_input_or_parameter() -> None:
    with pytest.raises(ValueError, match="input high has 3 values but 500"):
        ta.atr(D["high"][:3], D["low"], D["close"])
    with pytest.raises(ValueError, match="ATR needs the high input"):
        ta.compute("ATR_14", close=D["close"])
    with pytest.raises(ValueError, match=r'length must be an integer in 1\.\.=100000, got "0"'):
        ta.rsi(D["close"], length=0)
    with pytest.raises(ValueError, match="length must be an integer"):
        ta.rsi(D["close"], length=14.5)
    with pytest.raises(TypeError):
        ta.rsi(D["close"], lenght=14)
    with pytest.raises(TypeError, match="length must be a number"):
        ta.rsi(D["close"], length="14")
    with pytest.raises(ValueError, match=r'unknown indicator "RSX" \(did you mean RSI\?\)'):
        ta.compute("RSX", close=D["close"])
    with pytest.raises(ValueError, match="RSI takes at most 2 parameters"):
        ta.compute("RSI_14_100_3", close=D["close"])
    with pytest.raises(ValueError, match="one-dimensional"):
        ta.sma(np.ones((3, 3)))
    with pytest.raises(ValueError, match="close must be convertible"):
        ta.sma(["a", "b"])


def test_short_and_empty_inputs() -> None:
    assert ta.sma([], 3).shape == (0,)
    assert np.isnan(ta.rsi([1.0, 2.0, 3.0])).all()
    out = ta.sma([1.0, np.nan, 3.0, 4.0, 5.0], 2)
    assert np.isnan(out[:3]).all()  # NaN propagates as in TA-Lib's running sum


def test_stream_equals_batch() -> None:
    for ident in [
        "RSI_14",
        "MACD_12_26_9",
        "BBANDS_20_2",
        "ATR_14",
        "CCI_20",
        "AROON_25",
        "MAMA",
        "KAMA_10",
        "PSAR_0.02_0.2",
        "MFI_14",
        "ADX_14",
        "STOCH_14_3_3",
        "PPO_12_26_9",
        "AD",
        "SUPERTREND",
        "VWAP",
        "CPR",
    ]:
        s = ta.Stream(ident)
        batch = ta.compute(
            ident,
            open=D["open"],
            high=D["high"],
            low=D["low"],
            close=D["close"],
            volume=D["volume"],
            time=D["time"],
        )
        for i in range(len(D["close"])):
            v = s.update(
                close=D["close"][i],
                high=D["high"][i],
                low=D["low"][i],
                open=D["open"][i],
                volume=D["volume"][i],
                time=int(D["time"][i]),
            )
            if isinstance(v, ta.StreamValues):
                assert list(v.keys()) == s.outputs and len(v) == len(s.outputs)
                for k, x in v.items():
                    assert (np.isnan(x) and np.isnan(batch[k][i])) or x == batch[k][i], (
                        ident,
                        k,
                        i,
                    )
            else:
                assert (np.isnan(v) and np.isnan(batch[i])) or v == batch[i], (ident, i)
    s = ta.Stream("rsi", length=3)
    assert s.id == "RSI_3_100" and repr(s) == "Stream('RSI_3_100')"
    s.reset()


def test_stream_values_by_name_position_and_unpacking() -> None:
    s = ta.Stream("BBANDS", length=3, std=2)
    assert s.outputs[:3] == ["upper", "middle", "lower"]
    for c in [10.0, 11.0]:
        warm = s.update(c)
        assert all(np.isnan(x) for x in warm)
    v = s.update(13.0)
    mean = (10.0 + 11.0 + 13.0) / 3
    sd = float(np.std([10.0, 11.0, 13.0]))
    assert v.middle == pytest.approx(mean) and v["middle"] == v.middle == v[1] == v[1 - len(v)]
    upper, middle, lower, *rest = v
    assert len(rest) == len(v) - 3 == len(s.outputs) - 3
    assert (upper, middle, lower) == (v.upper, v.middle, v.lower)
    assert upper == pytest.approx(mean + 2 * sd) and lower == pytest.approx(mean - 2 * sd)
    assert v.to_dict() == dict(zip(s.outputs, [upper, middle, lower, *rest]))
    assert v.items() == list(v.to_dict().items()) and v.values() == [upper, middle, lower, *rest]
    assert "upper" in v and "k" not in v
    assert "upper=" in repr(v)
    with pytest.raises(KeyError, match="the outputs are upper, middle, lower"):
        v["signal"]
    with pytest.raises(AttributeError, match='no output "signal"'):
        _ = v.signal
    with pytest.raises(IndexError):
        v[len(v)]
    # One output: a plain float.
    r = ta.Stream("RSI_14")
    assert type(r.update(100.0)) is float
    with pytest.raises(ValueError):
        ta.Stream("RSI", length="x")


def test_ids_and_aliases() -> None:
    c = D["close"]
    base = ta.compute("RSI_14_100", close=c)
    for spelling in ["RSI_14", "rsi", "Rsi_14_100", " RSI_14 "]:
        np.testing.assert_array_equal(ta.compute(spelling, close=c), base)
    np.testing.assert_array_equal(ta.compute("BB", close=c)["upper"], ta.bbands(c)["upper"])
    np.testing.assert_array_equal(
        ta.compute("BBANDS_20_2.0", close=c)["upper"], ta.compute("BBANDS_20_2", close=c)["upper"]
    )
    psar = ta.compute("SAR", high=D["high"], low=D["low"])
    assert set(psar) == {"sar", "trend"}


def _cpu_has_fma() -> bool:
    try:
        flags = open("/proc/cpuinfo").read().split()
    except OSError:
        return False
    return "fma" in flags and "avx2" in flags


def test_arithmetic_fused_where_the_cpu_has_it_plain_on_request() -> None:
    """Fused multiply-add on the recurrences where the CPU has it (as TA-Lib's build does);
    "plain" gives the bits every CPU gives. The two differ by rounding only, and a stream keeps
    the mode it was built in, equal bit for bit to the batch of that mode."""
    c, h, lo = D["close"], D["high"], D["low"]
    try:
        auto = ta.arithmetic("auto")
        assert auto == ("fused" if _cpu_has_fma() else "plain")
        fused_ema, fused_atr = ta.ema(c, 10), ta.atr(h, lo, c, 14)
        fused_stream = ta.Stream("EMA_10")
        assert ta.arithmetic("plain") == "plain" == ta.arithmetic()
        plain_ema, plain_atr = ta.ema(c, 10), ta.atr(h, lo, c, 14)
        plain_stream = ta.Stream("EMA_10")
        for a, b in ((fused_ema, plain_ema), (fused_atr, plain_atr)):
            np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
        if auto == "fused":
            assert not np.array_equal(fused_ema, plain_ema, equal_nan=True)
            assert not np.array_equal(fused_atr, plain_atr, equal_nan=True)
        ta.arithmetic("auto")
        # Each stream steps in its own mode whatever the thread's is now.
        for stream, batch in ((fused_stream, fused_ema), (plain_stream, plain_ema)):
            got = np.array([stream.update(close=float(x)) for x in c])
            assert np.array_equal(got, batch, equal_nan=True)
        with pytest.raises(ValueError, match="fused"):
            ta.arithmetic("fast")
    finally:
        ta.arithmetic("auto")
