"""``client.InstrumentFilter(pattern)``: options of one underlying selected from the live option
chain — one ``/fo/option-chain`` request per expiry (cached by the client for a second), every
instrument it yields carrying the quote and greeks of that request.

Patterns are ``EXCHANGE@UNDERLYING@EXPIRY@RIGHT``: ``NSE@NIFTY@Nw@Put`` (nearest weekly;
``Nw+1`` the next), ``NSE@NIFTY@Nm@Call`` (nearest monthly), ``NSE@NIFTY@*@Call`` (every listed
expiry), ``NSE@NIFTY@28-Oct-2025@Put`` (a date, also ``2025-10-28``); the right is ``Call``/
``CE``, ``Put``/``PE`` or ``*``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from .exceptions import InvalidSymbolError
from .instrument import Instrument

if TYPE_CHECKING:
    from .client import TradingClient

__all__ = ["InstrumentFilter"]

#: Fields ``find``, ``order_by`` and ``top`` accept.
FIELDS = (
    "strike",
    "ltp",
    "bid",
    "ask",
    "volume",
    "oi",
    "iv",
    "delta",
    "gamma",
    "theta",
    "vega",
)
_RIGHTS = {"call": "CE", "ce": "CE", "c": "CE", "put": "PE", "pe": "PE", "p": "PE", "*": None}
_REL = re.compile(r"^N([wm])(?:\+(\d+))?$", re.IGNORECASE)


class ChainInstrument(Instrument):
    """An option from a chain request: its quote fields answer from that request (no further
    I/O); ``strike``, ``expiry`` and ``right`` are at hand."""

    __slots__ = ("_row", "spot")

    def __init__(self, client: TradingClient, row: dict[str, Any], spot: Optional[float]) -> None:
        super().__init__(row["tradingsymbol"], client=client)
        self._row = row
        self.spot = spot

    def _quote_field(self, name: str) -> Any:
        r = self._row
        if name == "greeks":
            return {
                "delta": r.get("delta"),
                "gamma": r.get("gamma"),
                "theta": r.get("theta"),
                "vega": r.get("vega"),
                "rho": None,
                "iv": r.get("iv"),
                "iv_source": r.get("iv_source"),
                "_state": "valid",
            }
        if name == "close":
            return None
        return r.get(name)

    def field(self, name: str) -> Any:
        """A chain field by name (``strike ltp bid ask volume oi iv delta gamma theta vega``)."""
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}; one of {', '.join(FIELDS)}")
        return self._row.get(name)

    @property
    def strike(self) -> float:  # type: ignore[override]
        return float(self._row["strike"])

    @property
    def expiry(self) -> Optional[dt.date]:  # type: ignore[override]
        e = self._row.get("expiry")
        return None if e is None else dt.date.fromisoformat(str(e))

    @property
    def right(self) -> str:
        return str(self._row["type"])

    iv = property(lambda self: self._row.get("iv"))


def _parse(pattern: str) -> tuple[str, str, str, Optional[str]]:
    if not isinstance(pattern, str):
        raise TypeError(f"a filter pattern is a str, got {type(pattern).__name__}")
    parts = [p.strip() for p in pattern.split("@")]
    if len(parts) != 4 or not all(parts):
        raise InvalidSymbolError(
            f"filter pattern {pattern!r}: expected EXCHANGE@UNDERLYING@EXPIRY@RIGHT "
            "such as NSE@NIFTY@Nw@Put"
        )
    exchange, underlying, expiry, right = parts
    if right.lower() not in _RIGHTS:
        raise InvalidSymbolError(
            f"filter pattern {pattern!r}: the right is Call, Put, CE, PE or *, got {right!r}"
        )
    return exchange.upper(), underlying.upper(), expiry, _RIGHTS[right.lower()]


def _expiry_date(token: str) -> Optional[dt.date]:
    for fmt in ("%d-%b-%Y", "%Y-%m-%d", "%d%b%Y"):
        try:
            return dt.datetime.strptime(token, fmt).date()
        except ValueError:
            continue
    return None


class InstrumentFilter:
    """A selection of options; every method returns a new filter (or instruments) and never
    changes this one. The chain is read on first use."""

    def __init__(
        self,
        client: TradingClient,
        pattern: str,
        _rows: Optional[list[ChainInstrument]] = None,
    ) -> None:
        self._client = client
        self.pattern = pattern
        self._exchange, self._underlying, self._expiry, self._right = _parse(pattern)
        self._rows = _rows

    # -- the chain ----------------------------------------------------------------------------

    def _expiries(self) -> list[str]:
        token = self._expiry
        if token == "*":
            e = self._client._api._native.get(
                "/fo/expiries", {"underlying": self._underlying}, "static"
            )
            return sorted(set(e["weekly"]) | set(e["monthly"]))
        m = _REL.match(token)
        if m:
            e = self._client._api._native.get(
                "/fo/expiries", {"underlying": self._underlying}, "static"
            )
            kind = "weekly" if m.group(1).lower() == "w" else "monthly"
            listed = e[kind]
            n = int(m.group(2) or 0)
            if n >= len(listed):
                raise InvalidSymbolError(
                    f"filter pattern {self.pattern!r}: {self._underlying} lists "
                    f"{len(listed)} {kind} expir{'y' if len(listed) == 1 else 'ies'}"
                )
            return [listed[n]]
        d = _expiry_date(token)
        if d is None:
            raise InvalidSymbolError(
                f"filter pattern {self.pattern!r}: the expiry is Nw, Nw+1, Nm, Nm+1, * or a "
                f"date such as 28-Oct-2025, got {token!r}"
            )
        return [d.isoformat()]

    def _load(self) -> list[ChainInstrument]:
        if self._rows is None:
            rows: list[ChainInstrument] = []
            native = self._client._api._native
            for e in self._expiries():
                chain = native.get(
                    "/fo/option-chain", {"underlying": self._underlying, "expiry": e}, "quote"
                )
                spot = chain.get("spot")
                for s in chain["strikes"]:
                    for side in ("call", "put"):
                        q = s.get(side)
                        if not q or (self._right and q.get("type") != self._right):
                            continue
                        row = dict(q)
                        row["strike"] = s["strike"]
                        row.setdefault("expiry", chain.get("expiry") or e)
                        rows.append(ChainInstrument(self._client, row, spot))
            self._rows = rows
        return self._rows

    def _derive(self, rows: list[ChainInstrument]) -> InstrumentFilter:
        return InstrumentFilter(self._client, self.pattern, rows)

    # -- selection ----------------------------------------------------------------------------

    def where(self, pred: Callable[[ChainInstrument], bool]) -> InstrumentFilter:
        """The instruments for which ``pred(instrument)`` is true (chainable)."""
        return self._derive([r for r in self._load() if pred(r)])

    def find(self, **criteria: float) -> InstrumentFilter:
        """Bounds on chain fields: ``ltp_min=``, ``oi_min=``, ``delta_min=``, ``iv_max=``, …
        (an instrument without the field fails a bound on it)."""
        bounds: list[tuple[str, str, float]] = []
        for k, v in criteria.items():
            name, _, side = k.rpartition("_")
            if side not in ("min", "max") or name not in FIELDS:
                raise TypeError(
                    f"unknown criterion {k!r}: use <field>_min / <field>_max with a field of "
                    + ", ".join(FIELDS)
                )
            bounds.append((name, side, float(v)))

        def ok(r: ChainInstrument) -> bool:
            for name, side, v in bounds:
                x = r.field(name)
                if x is None or (x < v if side == "min" else x > v):
                    return False
            return True

        return self.where(ok)

    def order_by(self, field: str, reverse: bool = False) -> InstrumentFilter:
        """Sorted by a chain field (instruments without it last)."""
        rows = self._load()
        have = [r for r in rows if r.field(field) is not None]
        missing = [r for r in rows if r.field(field) is None]
        have.sort(key=lambda r: r.field(field), reverse=reverse)
        return self._derive(have + missing)

    def limit(self, n: int) -> InstrumentFilter:
        return self._derive(self._load()[: max(0, int(n))])

    def top(self, n: int, by: str = "oi") -> list[ChainInstrument]:
        """The ``n`` with the largest ``by``."""
        return list(self.order_by(by, reverse=True).limit(n))

    def _spot(self) -> float:
        rows = self._load()
        spot = next((r.spot for r in rows if r.spot is not None), None)
        if spot is None:
            raise InvalidSymbolError(f"{self.pattern}: no spot quote for {self._underlying}")
        return float(spot)

    def atm(self) -> Optional[ChainInstrument]:
        """The strike nearest the spot (None when nothing is selected)."""
        rows = self._load()
        if not rows:
            return None
        spot = self._spot()
        return min(rows, key=lambda r: (abs(r.strike - spot), r.strike))

    def _moneyness(self, n: int, otm: bool) -> Optional[ChainInstrument]:
        if n < 1:
            raise ValueError("n counts from 1 (the first strike out of or in the money)")
        spot = self._spot()
        picked = []
        for r in self._load():
            call = r.right == "CE"
            away = r.strike > spot if call else r.strike < spot
            if away == otm and r.strike != spot:
                picked.append(r)
        picked.sort(key=lambda r: abs(r.strike - spot))
        return picked[n - 1] if len(picked) >= n else None

    def otm(self, n: int = 1) -> Optional[ChainInstrument]:
        """The ``n``-th strike out of the money (calls above the spot, puts below)."""
        return self._moneyness(n, True)

    def itm(self, n: int = 1) -> Optional[ChainInstrument]:
        """The ``n``-th strike in the money."""
        return self._moneyness(n, False)

    # -- results ------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[ChainInstrument]:
        return iter(list(self._load()))

    def __len__(self) -> int:
        return len(self._load())

    def to_list(self) -> list[ChainInstrument]:
        return list(self._load())

    def __repr__(self) -> str:
        n = "?" if self._rows is None else str(len(self._rows))
        return f"<InstrumentFilter {self.pattern} ({n})>"
