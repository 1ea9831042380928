"""``Instrument``: a symbol parsed offline (no I/O in the constructor), with live quotes and
timeframes through its client."""

from __future__ import annotations

import datetime as _dt
import warnings
from typing import TYPE_CHECKING, Any, Optional

from . import _native
from .exceptions import DataUnavailableError, StocksBlitzError
from .timeframe import IST, Timeframe

if TYPE_CHECKING:
    from .client import TradingClient

__all__ = ["Instrument"]


# The greeks a quote carries (`iv_source` says how `iv` was obtained).
_GREEK_KEYS = ("delta", "gamma", "theta", "vega", "rho", "iv", "iv_source")


_QUOTE_KEYS = (
    "ltp",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "oi",
    "bid",
    "ask",
    "bid_qty",
    "ask_qty",
    "last_quantity",
    "book",
    "depth",
)


def _quote_dict(q: dict[str, Any]) -> dict[str, Any]:
    """A ``/quote`` answer in the old SDK's ``_fetch_quote`` shape (warns when stale)."""
    state = q.get("state", "valid")
    greeks = q.get("greeks") or {}
    out: dict[str, Any] = {k: q.get(k) for k in _QUOTE_KEYS}
    out["tradingsymbol"] = q.get("tradingsymbol")
    out["greeks"] = {**{k: greeks.get(k) for k in _GREEK_KEYS}, "_state": state}
    out["_state"] = state
    age = q.get("age_ms")
    out["_data_age"] = None if age is None else age / 1000.0
    ts = q.get("ts")
    out["_timestamp"] = None if ts is None else _dt.datetime.fromtimestamp(ts, IST)
    out["_reason"] = "no_data" if state == "no_data" else ("stale" if state == "stale" else None)
    if state == "stale":
        warnings.warn(
            f"{out['tradingsymbol']}: quote is {out['_data_age']:.1f} s old (stale)",
            UserWarning,
            stacklevel=4,
        )
    return out


class Instrument:
    """An instrument from a tradingsymbol (``NIFTY25NOVFUT``), an index name (``NIFTY 50``) or
    an ``@`` spec (``NSE@NIFTY@Nw+1@Put@OTM2``).

    Symbol attributes are parsed offline, at construction; an unparsable symbol raises
    :class:`~stocksblitz.InvalidSymbolError` with the parser's message. An ``@`` spec is parsed
    offline too; which contract it names depends on the market, so its ``tradingsymbol`` is
    ``None`` until it has been resolved against a server.
    """

    __slots__ = ("_client", "_info", "_spec", "_text")

    def __init__(
        self,
        spec: str,
        client: Optional[TradingClient] = None,
        api_client: Optional[TradingClient] = None,
    ) -> None:
        """``api_client`` is the old SDK's name of ``client``."""
        if client is None:
            client = api_client
        if not isinstance(spec, str):
            raise TypeError(f"Instrument spec must be a str, got {type(spec).__name__}")
        self._text = spec
        self._client = client
        self._spec: Optional[dict[str, Any]] = None
        self._info: Optional[_native.SymbolInfo] = None
        if "@" in spec:
            self._spec = _native.parse_spec(spec)
        else:
            self._info = _native.parse_symbol(spec)

    @property
    def symbol_info(self) -> Optional[_native.SymbolInfo]:
        """The parsed symbol (None for an unresolved ``@`` spec)."""
        return self._info

    @property
    def spec(self) -> Optional[str]:
        """The canonical ``@`` spec this instrument was created from, if any."""
        return None if self._spec is None else self._spec["spec"]

    @property
    def tradingsymbol(self) -> Optional[str]:
        return None if self._info is None else self._info.tradingsymbol

    @property
    def underlying(self) -> str:
        if self._info is not None:
            return self._info.underlying
        assert self._spec is not None
        return str(self._spec["underlying"])

    @property
    def kind(self) -> Optional[str]:
        """``index``, ``equity``, ``future`` or ``option``."""
        return None if self._info is None else self._info.kind

    @property
    def exchange(self) -> str:
        if self._info is not None:
            return self._info.exchange
        assert self._spec is not None
        return str(self._spec["exchange"])

    @property
    def expiry(self) -> Optional[_dt.date]:
        return None if self._info is None else self._info.expiry

    @property
    def strike(self) -> Optional[float]:
        return None if self._info is None else self._info.strike

    @property
    def option_type(self) -> Optional[str]:
        return None if self._info is None else self._info.option_type

    @property
    def is_weekly(self) -> bool:
        return False if self._info is None else self._info.is_weekly

    @property
    def lot_size(self) -> Optional[int]:
        """Units per lot from the contract specs (dated: NIFTY 65 after 2025-12-30); None for
        indices, unresolved ``@`` specs and stock derivatives the table does not cover."""
        return None if self._info is None else self._info.lot_size

    @property
    def tick_size(self) -> Optional[float]:
        """The price grid in rupees (0.05 for index derivatives, 0.01 for equities)."""
        return None if self._info is None else self._info.tick_size

    @property
    def freeze_qty(self) -> Optional[int]:
        """Largest quantity one order may carry (the exchange's freeze limit)."""
        return None if self._info is None else self._info.freeze_qty

    # ---- live data (through the client) ----------------------------------------------

    def _require_client(self) -> TradingClient:
        if self._client is None:
            raise StocksBlitzError(
                f"{self} has no client: create it with client.Instrument({self._text!r})"
            )
        return self._client

    def _symbol(self) -> str:
        """The tradingsymbol; an ``@`` spec is resolved by the server (its answer is cached by
        the client for a second, never kept on this object)."""
        if self._info is not None:
            return self._info.tradingsymbol
        assert self._spec is not None
        client = self._require_client()
        body = client._api._native.get(
            "/instruments/resolve", {"spec": self._spec["spec"]}, "quote"
        )
        return str(body["tradingsymbol"])

    def _fetch_quote(self) -> dict[str, Any]:
        """The instrument's own latest quote: ``ltp open high low close volume oi bid ask
        bid_qty ask_qty last_quantity book depth greeks``
        plus ``_state`` (valid|stale|no_data), ``_data_age`` (s), ``_timestamp``, ``_reason``.
        A stale quote issues a ``UserWarning``."""
        client = self._require_client()
        q = client._api._native.get("/quote", {"symbol": self._symbol()}, "quote")
        return _quote_dict(q)

    def _quote_field(self, name: str) -> Any:
        client = self._require_client()
        q = client._api._native.get("/quote", {"symbol": self._symbol()}, "quote")
        state = q.get("state")
        if state == "no_data":
            raise DataUnavailableError(
                f"no quote for {q.get('tradingsymbol') or self} yet (no_data)", reason="no_data"
            )
        if state == "stale":
            age = (q.get("age_ms") or 0) / 1000.0
            warnings.warn(
                f"{q.get('tradingsymbol')}: quote is {age:.1f} s old (stale)",
                UserWarning,
                stacklevel=3,
            )
        if name == "greeks":
            g = q.get("greeks") or {}
            return {
                **{k: g.get(k) for k in _GREEK_KEYS},
                "_state": state,
            }
        return q.get(name)

    ltp = property(lambda self: self._quote_field("ltp"), doc="Last traded price (its own).")
    open = property(lambda self: self._quote_field("open"))
    high = property(lambda self: self._quote_field("high"))
    low = property(lambda self: self._quote_field("low"))
    close = property(lambda self: self._quote_field("close"))
    volume = property(lambda self: self._quote_field("volume"))
    oi = property(lambda self: self._quote_field("oi"))
    bid = property(lambda self: self._quote_field("bid"), doc="Best bid (None: no book).")
    ask = property(lambda self: self._quote_field("ask"), doc="Best offer (None: no book).")
    bid_qty = property(lambda self: self._quote_field("bid_qty"), doc="Units at the best bid.")
    ask_qty = property(lambda self: self._quote_field("ask_qty"), doc="Units at the best offer.")
    last_quantity = property(
        lambda self: self._quote_field("last_quantity"), doc="Units of the last trade."
    )
    book = property(
        lambda self: self._quote_field("book"),
        doc="How much of the book the feed sends: ``depth``, ``top`` or ``unknown``.",
    )
    depth = property(
        lambda self: self._quote_field("depth"),
        doc="Market depth ``{buy: [{price, quantity, orders}], sell: [...]}`` when the feed "
        "sends levels, else None.",
    )
    greeks = property(lambda self: self._quote_field("greeks"))
    delta = property(lambda self: self._quote_field("greeks")["delta"])
    gamma = property(lambda self: self._quote_field("greeks")["gamma"])
    theta = property(lambda self: self._quote_field("greeks")["theta"])
    vega = property(lambda self: self._quote_field("greeks")["vega"])
    rho = property(lambda self: self._quote_field("greeks")["rho"])
    iv = property(lambda self: self._quote_field("greeks")["iv"])
    iv_source = property(
        lambda self: self._quote_field("greeks")["iv_source"],
        doc="Where ``iv`` came from: ``mid:parity``, ``ltp:spot``, …, ``intrinsic`` (no time "
        "value: iv None, limit greeks) or ``feed``.",
    )

    def __getitem__(self, timeframe: Any) -> Timeframe:
        """``inst['5m']``: any spelling of the timeframe table; ValueError lists them."""
        return Timeframe(self, _native.timeframe_canonical(timeframe))

    def __repr__(self) -> str:
        return f"<Instrument {self.tradingsymbol or self.spec}>"

    def __str__(self) -> str:
        return self.tradingsymbol or self.spec or self._text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instrument):
            return NotImplemented
        return (self.tradingsymbol, self.spec) == (other.tradingsymbol, other.spec)

    def __hash__(self) -> int:
        return hash((self.tradingsymbol, self.spec))
