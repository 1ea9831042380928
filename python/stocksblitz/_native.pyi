"""Type stubs of the Rust extension module (kept in step with src/lib.rs)."""

import datetime
from collections.abc import Sequence
from typing import Any, Literal, Optional, overload

__version__: str

class SymbolInfo:
    """A parsed trading symbol."""

    @property
    def kind(self) -> Literal["index", "equity", "future", "option"]: ...
    @property
    def exchange(self) -> Literal["NSE", "BSE", "NFO", "BFO"]: ...
    @property
    def underlying(self) -> str: ...
    @property
    def expiry(self) -> Optional[datetime.date]: ...
    @property
    def is_weekly(self) -> bool: ...
    @property
    def strike(self) -> Optional[float]: ...
    @property
    def option_type(self) -> Optional[Literal["CE", "PE"]]: ...
    @property
    def tradingsymbol(self) -> str: ...
    @property
    def strike_step(self) -> Optional[int]: ...
    @property
    def is_expired(self) -> bool: ...
    def to_dict(self) -> dict[str, object]: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

def parse_symbol(symbol: str) -> SymbolInfo: ...
@overload
def parse_symbols(symbols: list[str], errors: Literal["raise"] = "raise") -> list[SymbolInfo]: ...
@overload
def parse_symbols(symbols: list[str], errors: Literal["none"]) -> list[Optional[SymbolInfo]]: ...
def parse_spec(spec: str) -> dict[str, Optional[str]]: ...
def next_expiries(
    underlying: str,
    n: int = 4,
    kind: Literal["weekly", "monthly"] = "weekly",
    start: Optional[datetime.date] = None,
) -> list[datetime.date]: ...
def run_server(argv: list[str]) -> int: ...

# Indicators (stocksblitz.ta wraps these)
def ta_registry() -> list[dict[str, object]]: ...
def ta_canonical(id: str, params: Optional[dict[str, float]] = None) -> str: ...
def ta_compute(
    id: str,
    params: Optional[dict[str, float]] = None,
    open: Optional[object] = None,
    high: Optional[object] = None,
    low: Optional[object] = None,
    close: Optional[object] = None,
    volume: Optional[object] = None,
    time: Optional[object] = None,
) -> dict[str, object]: ...

class TaStream:
    def __init__(self, id: str, params: Optional[dict[str, float]] = None) -> None: ...
    @property
    def id(self) -> str: ...
    @property
    def outputs(self) -> list[str]: ...
    def update(
        self,
        close: float = ...,
        high: Optional[float] = None,
        low: Optional[float] = None,
        open: Optional[float] = None,
        volume: float = ...,
        time: Optional[int] = None,
    ) -> list[float]: ...
    def reset(self) -> None: ...

def ta_call(
    name: str,
    params: list[float],
    open: Optional[object],
    high: Optional[object],
    low: Optional[object],
    close: Optional[object],
    volume: Optional[object],
    time: Optional[object],
) -> object: ...

# Option pricing (the market crate's greeks model)
def option_greeks(
    price: float,
    underlying: float,
    strike: float,
    years: float,
    right: str,
    model: Literal["black76", "bs", "black_scholes"] = "black76",
    rate: float = 0.065,
) -> Optional[dict[str, float]]: ...
def option_price(
    underlying: float,
    strike: float,
    years: float,
    vol: float,
    right: str,
    model: Literal["black76", "bs", "black_scholes"] = "black76",
    rate: float = 0.065,
) -> float: ...

class Smile:
    """An SVI smile of one expiry (raw parameters of total variance in ln(K/F))."""

    @property
    def params(self) -> dict[str, float]: ...
    @property
    def rmse(self) -> float: ...
    @property
    def forward(self) -> float: ...
    @property
    def years(self) -> float: ...
    def iv(self, strike: float) -> float: ...
    def butterfly_ok(self, strikes: Sequence[float]) -> bool: ...

def fit_smile(
    strikes: Sequence[float], ivs: Sequence[float], forward: float, years: float
) -> Smile: ...

# The client core (crates/client): one per TradingClient; every call releases the GIL and raises
# the stocksblitz.exceptions classes (APIError, AuthenticationError, RateLimitError, …).
class Client:
    def __init__(
        self,
        api_url: str,
        api_key: Optional[str] = None,
        user_service_url: Optional[str] = None,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None: ...
    def get(
        self,
        path: str,
        params: Optional[dict[str, object]] = None,
        kind: Optional[Literal["quote", "bars", "static"]] = None,
    ) -> Any: ...
    def post(self, path: str, body_json: str) -> Any: ...
    def request(
        self,
        method: str,
        path: str,
        body_json: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Any: ...
    def login(
        self, username: str, password: str, persist_session: bool = True
    ) -> dict[str, Any]: ...
    def logout(self) -> None: ...
    def clear_cache(self) -> None: ...
    @property
    def access_token(self) -> Optional[str]: ...
    @access_token.setter
    def access_token(self, token: str) -> None: ...
    @property
    def has_session(self) -> bool: ...
    def stats(self) -> dict[str, int]: ...

def timeframe_canonical(tf: str | int) -> str: ...
def timeframes() -> tuple[str, ...]: ...
