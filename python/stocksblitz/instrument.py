"""``Instrument``: a symbol parsed offline (no I/O in the constructor)."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Optional

from . import _native

if TYPE_CHECKING:
    from .client import TradingClient

__all__ = ["Instrument"]


class Instrument:
    """An instrument from a tradingsymbol (``NIFTY25NOVFUT``), an index name (``NIFTY 50``) or
    an ``@`` spec (``NSE@NIFTY@Nw+1@Put@OTM2``).

    Symbol attributes are parsed offline, at construction; an unparsable symbol raises
    :class:`~stocksblitz.InvalidSymbolError` with the parser's message. An ``@`` spec is parsed
    offline too; which contract it names depends on the market, so its ``tradingsymbol`` is
    ``None`` until it has been resolved against a server.
    """

    __slots__ = ("_client", "_info", "_spec", "_text")

    def __init__(self, spec: str, client: Optional[TradingClient] = None) -> None:
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
        """Contract lot size, when known (it comes from the server's instrument list)."""
        return None

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
