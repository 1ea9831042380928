"""``inst['5m']`` and what hangs off it: the current candle's fields, ``tf[n]`` candles back,
``tf.candles(n)``, and indicators (``tf.rsi[14]``, ``tf.macd[12, 26, 9]``, ``tf.rsi(length=14)``,
``tf.rsi.history(50)``, ``tf[3].rsi[14]``). Requests go through the client's Rust core (its
cache, retries and auth); nothing is memoised on these objects."""

from __future__ import annotations

import datetime as _dt
import difflib
import functools
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from . import _native
from .exceptions import DataUnavailableError, IndicatorUnavailableError

if TYPE_CHECKING:
    from .instrument import Instrument

__all__ = ["Candle", "Indicator", "Timeframe"]

IST = _dt.timezone(_dt.timedelta(hours=5, minutes=30), "IST")
_FIELDS = ("open", "high", "low", "close", "volume", "oi", "time")

_REGISTRY = {d["name"]: d for d in _native.ta_registry()}


# (name, positional parameters) → canonical id: a pure mapping, memoised.
_POSITIONAL: dict[tuple[str, tuple[Any, ...]], str] = {}


@functools.lru_cache(maxsize=4096)
def _canonical(name: str, named: tuple[tuple[str, Any], ...]) -> str:
    """The canonical id of a name and parameters (pure; memoised)."""
    return _native.ta_canonical(name, dict(named))


@functools.lru_cache(maxsize=1024)
def _indicator_name(attr: str) -> Optional[str]:
    """The registry name an attribute means (``rsi`` → RSI, ``bb`` → BBANDS through the
    indicators crate's alias table), or None."""
    if attr.startswith("_") or "_" in attr:
        return None
    try:
        return str(_native.ta_canonical(attr)).split("_", 1)[0]
    except ValueError:
        return None


def _suggest(attr: str, extra: tuple[str, ...]) -> str:
    names = [n.lower() for n in _REGISTRY] + list(extra)
    close = difflib.get_close_matches(attr.lower(), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _candle_time(ts: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts, IST)


class Candle:
    """One bar ``offset`` bars back (0 = the forming one): fields and indicators at that bar."""

    __slots__ = ("_data", "_offset", "_tf")

    def __init__(self, tf: Timeframe, offset: int, data: dict[str, Any]) -> None:
        self._tf = tf
        self._offset = offset
        self._data = data

    open = property(lambda self: self._data["open"])
    high = property(lambda self: self._data["high"])
    low = property(lambda self: self._data["low"])
    close = property(lambda self: self._data["close"])
    volume = property(lambda self: self._data["volume"])
    oi = property(lambda self: self._data.get("oi"))
    complete = property(lambda self: bool(self._data.get("complete", True)))

    @property
    def time(self) -> _dt.datetime:
        """Bar start, timezone-aware (IST)."""
        return _candle_time(self._data["time"])

    def __getattr__(self, name: str) -> Indicator:
        ind = _indicator_name(name)
        if ind is None:
            raise AttributeError(
                f"Candle has no attribute {name!r}{_suggest(name, _FIELDS)}"
            ) from None
        return Indicator(self._tf, ind, self._offset)

    def to_dict(self) -> dict[str, Any]:
        return {**self._data, "time": self.time}

    def __repr__(self) -> str:
        d = self._data
        return (
            f"<Candle {self._tf._inst} {self._tf.timeframe} {self.time:%Y-%m-%d %H:%M} "
            f"O={d['open']} H={d['high']} L={d['low']} C={d['close']} V={d['volume']}>"
        )


class Timeframe:
    """An instrument at one timeframe (``inst['5m']``)."""

    __slots__ = ("_inst", "timeframe")

    def __init__(self, inst: Instrument, timeframe: str) -> None:
        self._inst = inst
        self.timeframe = timeframe

    def _rows(self, n: int) -> list[dict[str, Any]]:
        client = self._inst._require_client()
        body = client._api._native.get(
            "/candles",
            {"symbol": self._inst._symbol(), "timeframe": self.timeframe, "limit": n},
            "bars",
        )
        return list(body["candles"])

    def _candle(self, offset: int) -> Candle:
        rows = self._rows(offset + 1)
        if len(rows) <= offset:
            raise DataUnavailableError(
                f"{self._inst} {self.timeframe}: {len(rows)} candles available, "
                f"asked for the one {offset} back",
                reason="no_data" if not rows else "insufficient_data",
            )
        return Candle(self, offset, rows[-1 - offset])

    def __getitem__(self, offset: int) -> Candle:
        """The candle ``offset`` bars back (0 = the current, forming one)."""
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise TypeError(f"candle offset must be an int, got {type(offset).__name__}")
        if not 0 <= offset <= 5000:
            raise ValueError(f"candle offset must be between 0 and 5000, got {offset}")
        return self._candle(offset)

    open = property(lambda self: self._candle(0).open)
    high = property(lambda self: self._candle(0).high)
    low = property(lambda self: self._candle(0).low)
    close = property(lambda self: self._candle(0).close)
    volume = property(lambda self: self._candle(0).volume)
    oi = property(lambda self: self._candle(0).oi)
    time = property(lambda self: self._candle(0).time)

    def candles(self, n: int = 100, as_frame: bool = True) -> Any:
        """The last ``n`` candles, oldest first: a pandas DataFrame indexed by time when pandas
        is installed (``as_frame=False`` for a list of :class:`Candle`)."""
        return _candles_of(self, self._rows(_check_n(n)), as_frame)

    def __getattr__(self, name: str) -> Indicator:
        ind = _indicator_name(name)
        if ind is None:
            raise AttributeError(
                f"Timeframe has no attribute {name!r}{_suggest(name, (*_FIELDS, 'candles'))}"
            ) from None
        return Indicator(self, ind, 0)

    def __repr__(self) -> str:
        return f"<Timeframe {self._inst} {self.timeframe}>"


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 5000:
        raise ValueError(f"n must be an int between 1 and 5000, got {n!r}")
    return n


def _candles_of(tf: Any, rows: list[dict[str, Any]], as_frame: bool) -> Any:
    """Candle rows as a DataFrame indexed by IST time (pandas installed and ``as_frame``),
    else a list of :class:`Candle` (``tf`` is what their indicators are read through)."""
    if as_frame:
        try:
            import pandas as pd
        except ImportError:
            pass
        else:
            cols = ["time", "open", "high", "low", "close", "volume", "oi", "complete"]
            frame = pd.DataFrame(rows, columns=cols)
            if frame.empty:
                return frame
            frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True).dt.tz_convert(
                "Asia/Kolkata"
            )
            return frame.set_index("time")
    k = len(rows)
    return [Candle(tf, k - 1 - i, r) for i, r in enumerate(rows)]


def _indicator_value(body: dict[str, Any], ind_id: str, where: str) -> Value:
    """The value of ``ind_id`` in a ``/indicators/current`` or ``at-offset`` answer;
    IndicatorUnavailableError (with the server's reason) when there is none."""
    v = body["indicators"].get(ind_id)
    if v is None or (isinstance(v, dict) and all(x is None for x in v.values())):
        reason = body.get("reason") or "insufficient_data"
        raise IndicatorUnavailableError(
            f"{ind_id} on {where} is not available ({reason})", reason=reason
        )
    return v


def _history_of(name: str, ind_id: str, series: list[dict[str, Any]]) -> Any:
    """``/indicators/history`` points as a pandas Series (DataFrame for several outputs)
    indexed by time, else a numpy array (dict of arrays)."""
    outputs = _REGISTRY[name]["outputs"]
    multi = len(outputs) > 1
    cols = (
        {o: np.array([np.nan if p.get(o) is None else p[o] for p in series]) for o in outputs}
        if multi
        else {"value": np.array([np.nan if p.get("value") is None else p["value"] for p in series])}
    )
    try:
        import pandas as pd
    except ImportError:
        return cols if multi else cols["value"]
    index = pd.to_datetime([p["time"] for p in series], unit="s", utc=True).tz_convert(
        "Asia/Kolkata"
    )
    if multi:
        return pd.DataFrame(cols, index=index)
    return pd.Series(cols["value"], index=index, name=ind_id)


Value = Union[float, dict[str, Optional[float]]]


class Indicator:
    """``tf.rsi``: index with parameters (``[14]``, ``[12, 26, 9]``) or call with keywords."""

    __slots__ = ("_name", "_offset", "_tf")

    def __init__(self, tf: Timeframe, name: str, offset: int) -> None:
        self._tf = tf
        self._name = name
        self._offset = offset

    def _id(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        params = _REGISTRY[self._name]["parameters"]
        names = [p["name"] for p in params]
        if len(args) > len(names):
            raise TypeError(
                f"{self._name} takes at most {len(names)} parameters ({', '.join(names)}), "
                f"got {len(args)}"
            )
        named: dict[str, Any] = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names:
                raise TypeError(
                    f"{self._name} has no parameter {k!r} (parameters: {', '.join(names) or 'none'})"
                )
            if k in named:
                raise TypeError(f"{self._name} got {k!r} twice")
            named[k] = v
        try:
            return _canonical(self._name, tuple(named.items()))
        except TypeError:  # unhashable parameter values: let the parser say what is wrong
            return _native.ta_canonical(self._name, named)

    def _value(self, ind_id: str) -> Value:
        inst = self._tf._inst
        client = inst._require_client()
        params = {"symbol": inst._symbol(), "timeframe": self._tf.timeframe, "indicators": ind_id}
        if self._offset:
            body = client._api._native.get(
                "/indicators/at-offset", {**params, "offset": self._offset}, "bars"
            )
        else:
            body = client._api._native.get("/indicators/current", params, "bars")
        return _indicator_value(body, ind_id, f"{inst} {self._tf.timeframe}")

    def __getitem__(self, params: Any) -> Value:
        args = params if isinstance(params, tuple) else (params,)
        key = (self._name, args)
        ind_id = _POSITIONAL.get(key)
        if ind_id is None:
            ind_id = self._id(args, {})
            if len(_POSITIONAL) < 4096:
                try:
                    _POSITIONAL[key] = ind_id
                except TypeError:  # unhashable parameters
                    pass
        return self._value(ind_id)

    def __call__(self, *args: Any, **kwargs: Any) -> Value:
        return self._value(self._id(args, kwargs))

    def history(self, n: int = 50, *args: Any, **kwargs: Any) -> Any:
        """The last ``n`` values, oldest first: a pandas Series (DataFrame for several outputs)
        indexed by time when pandas is installed, else a numpy array (dict of arrays)."""
        _check_n(n)
        ind_id = self._id(args, kwargs)
        inst = self._tf._inst
        body = inst._require_client()._api._native.get(
            "/indicators/history",
            {
                "symbol": inst._symbol(),
                "timeframe": self._tf.timeframe,
                "indicator": ind_id,
                "lookback": n,
            },
            "bars",
        )
        return _history_of(self._name, ind_id, body["series"])

    def __repr__(self) -> str:
        back = f" {self._offset} back" if self._offset else ""
        return f"<Indicator {self._name} on {self._tf._inst} {self._tf.timeframe}{back}>"
