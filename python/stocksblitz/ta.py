"""``stocksblitz.ta``: technical indicators over numpy arrays (offline).

One function per registry entry, with the registry's parameter names and defaults::

    ta.rsi(close, length=14, scalar=100)            -> array
    ta.macd(close, fast=12, slow=26, signal=9)      -> {"macd": …, "signal": …, "histogram": …}
    ta.atr(high, low, close, length=14)             -> array
    ta.compute("RSI_14", close=close)               -> array (or dict for multi-output)
    s = ta.Stream("RSI_14"); s.update(close=101.5)  -> float (StreamValues if several outputs)

Inputs: anything convertible to float64 arrays (lists, numpy arrays, pandas Series); pandas
Series in gives Series out with the same index. Bar ``time`` (for VWAP/CPR sessions) may be
epoch seconds, numpy datetime64 or pandas datetimes. The computation runs in Rust with the GIL
released. Functions are generated from the registry; ``ta.pyi`` carries their signatures.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import numpy as np

from . import _native

__all__ = ["Stream", "StreamValues", "arithmetic", "compute", "registry"]

_INPUTS = ("open", "high", "low", "close", "volume")
_REGISTRY: list[dict[str, Any]] = list(_native.ta_registry())
_BY_NAME = {d["name"]: d for d in _REGISTRY}


def registry() -> list[dict[str, Any]]:
    """Every indicator: name, display_name, category, description, parameters, inputs, outputs."""
    return [dict(d) for d in _REGISTRY]


def arithmetic(force: Optional[str] = None) -> str:
    """The arithmetic indicators run on this thread: ``"fused"`` or ``"plain"``.

    ``"fused"`` (the default where the CPU has FMA, as TA-Lib's own build does) rounds each
    recurrence step once; ``"plain"`` rounds the multiply and the add apart and gives the same
    bits on every CPU. They differ by a few ulps, far inside TA-Lib's 1e-9 agreement. ``force``
    (``"fused"``, ``"plain"`` or ``"auto"`` for the CPU's) sets it for this thread first; a
    ``Stream`` keeps the mode it was built in, so it stays equal to the batch of its mode.
    """
    return _native.ta_arithmetic(force)


def _pandas_index(values: list[Any]) -> Any:
    for v in values:
        mod = type(v).__module__
        if mod.startswith("pandas") and hasattr(v, "index") and hasattr(v, "to_numpy"):
            return v.index
    return None


def _column(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be convertible to float64: {e}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _times(value: Any) -> Optional[np.ndarray]:
    """Bar times as epoch seconds: ints pass through, datetimes convert (naive ones are UTC)."""
    if value is None:
        return None
    if type(value).__module__.startswith("pandas"):
        import pandas as pd

        if not pd.api.types.is_numeric_dtype(getattr(value, "dtype", None)):
            idx = pd.DatetimeIndex(pd.to_datetime(value, utc=True))
            value = idx.tz_convert(None).to_numpy(dtype="datetime64[s]")
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.datetime64):
        arr = arr.astype("datetime64[s]").astype(np.int64)
    elif arr.dtype == object:
        arr = np.array(
            [
                int(v.timestamp())
                if getattr(v, "tzinfo", None) is not None
                else np.datetime64(v, "s").astype(np.int64)
                for v in arr
            ],
            dtype=np.int64,
        )
    try:
        out = np.ascontiguousarray(arr, dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"time must be epoch seconds or datetimes: {e}") from None
    if out.ndim != 1:
        raise ValueError(f"time must be one-dimensional, got shape {out.shape}")
    return out


def _run(
    ident: str,
    params: Optional[dict[str, float]],
    columns: dict[str, Any],
    time: Any = None,
) -> Union[np.ndarray, dict[str, np.ndarray], Any]:
    index = _pandas_index([*columns.values(), time])
    arrays = {k: _column(k, v) for k, v in columns.items() if v is not None}
    out = _native.ta_compute(ident, params, **arrays, time=_times(time))
    if index is not None:
        import pandas as pd

        out = {k: pd.Series(v, index=index, name=k) for k, v in out.items()}
    if len(out) == 1:
        return next(iter(out.values()))
    return out


def compute(
    id: str,
    open: Any = None,
    high: Any = None,
    low: Any = None,
    close: Any = None,
    volume: Any = None,
    time: Any = None,
) -> Union[np.ndarray, dict[str, np.ndarray], Any]:
    """Compute an indicator by id (``"RSI_14"``, ``"MACD_12_26_9"``, ``"bb"``).

    Returns an array for single-output indicators, a dict of arrays named by the outputs
    otherwise. Missing required inputs or mismatched lengths raise ValueError naming the input.
    """
    cols = {"open": open, "high": high, "low": low, "close": close, "volume": volume}
    return _run(id, None, cols, time)


def _slow(
    name: str, params: dict[str, Any], columns: dict[str, Any], time: Any
) -> Union[np.ndarray, dict[str, np.ndarray], Any]:
    """Conversion path: lists, pandas, other dtypes; validates parameter types."""
    named = {}
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{key} must be a number, got {type(value).__name__}")
        named[key] = float(value)
    return _run(name, named, columns, time)


def _make_function(d: dict[str, Any]) -> Callable[..., Any]:
    """Generate ``ta.<name>`` with the registry's signature. Contiguous float64 arrays go straight
    to Rust; anything else (lists, pandas, other dtypes) takes the converting path."""
    name = d["name"]
    inputs: list[str] = list(d["inputs"])
    pnames = [p["name"] for p in d["parameters"]]
    args = inputs + [f"{p['name']}={p['default']!r}" for p in d["parameters"]]
    if d["uses_time"]:
        args += ["*", "time=None"]
    time_arg = "time" if d["uses_time"] else "None"
    cols = ", ".join(c if c in inputs else "None" for c in _INPUTS)
    fname = name.lower()
    src = (
        f"def {fname}({', '.join(args)}):\n"
        f"    try:\n"
        f"        return _call({name!r}, [{', '.join(pnames)}], {cols}, {time_arg})\n"
        f"    except TypeError:\n"
        f"        return _slow({name!r}, {{{', '.join(f'{n!r}: {n}' for n in pnames)}}}, "
        f"{{{', '.join(f'{c!r}: {c}' for c in inputs)}}}, {time_arg})\n"
    )
    namespace: dict[str, Any] = {"_call": _native.ta_call, "_slow": _slow}
    # Code generated from the registry (no user input).
    exec(src, namespace)
    fn = namespace[fname]
    fn.__module__ = __name__
    outputs = d["outputs"]
    ret = "array" if len(outputs) == 1 else "dict of arrays: " + ", ".join(outputs)
    fn.__doc__ = (
        f"{d['display_name']} ({d['category']}). {d['description']}\n\n"
        f"Inputs: {', '.join(inputs)}. Parameters: "
        + (", ".join(f"{p['name']}={p['default']}" for p in d["parameters"]) or "none")
        + f". Returns {ret}."
    )
    return fn


for _d in _REGISTRY:
    globals()[_d["name"].lower()] = _make_function(_d)
    __all__.append(_d["name"].lower())


class Stream(_native.TaStream):
    """Bar-by-bar indicator: ``Stream("RSI_14")`` or ``Stream("rsi", length=14)``.

    ``update(close, high=None, low=None, open=None, volume=nan, time=None)`` returns the newest
    value: a float for one output, a :class:`StreamValues` for several (``v.upper``,
    ``v["upper"]``, ``upper, middle, lower = v``, ``v.to_dict()``); NaN while warming up. The
    update runs in Rust with no Python frame and no dict per call.
    """

    __slots__ = ()


StreamValues = _native.StreamValues
