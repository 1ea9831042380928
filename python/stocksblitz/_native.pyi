"""Type stubs of the Rust extension module (kept in step with src/lib.rs)."""

import datetime
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any, Literal, Optional, Union, final, overload

from typing_extensions import disjoint_base

__version__: str
__all__ = [
    "Client",
    "Smile",
    "Stream",
    "StreamValues",
    "SymbolInfo",
    "TaStream",
    "__version__",
    "fit_smile",
    "news_sentiment",
    "next_expiries",
    "option_greeks",
    "option_greeks_vec",
    "option_iv_vec",
    "option_price",
    "option_price_vec",
    "parse_spec",
    "parse_symbol",
    "parse_symbols",
    "run_server",
    "ta_arithmetic",
    "ta_call",
    "ta_canonical",
    "ta_compute",
    "ta_registry",
    "timeframe_canonical",
    "timeframes",
]

@final
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
    def lot_size(self) -> Optional[int]: ...
    @property
    def tick_size(self) -> Optional[float]: ...
    @property
    def freeze_qty(self) -> Optional[int]: ...
    @property
    def is_expired(self) -> bool: ...
    def to_dict(self) -> dict[str, object]: ...
    def __eq__(self, other: object, /) -> bool: ...
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
def ta_arithmetic(
    force: Optional[Literal["auto", "fused", "plain"]] = None,
) -> Literal["fused", "plain"]: ...
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

@disjoint_base
class TaStream:
    def __new__(cls, id: str, **params: float) -> TaStream: ...
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
    ) -> Union[float, StreamValues]: ...
    def reset(self) -> None: ...

@final
class StreamValues:
    """One multi-output stream update: by name (attribute or key) or position; iterates the
    values in output order."""

    def __len__(self) -> int: ...
    def __getitem__(self, key: Union[str, int], /) -> float: ...
    def __getattr__(self, name: str) -> float: ...
    def __contains__(self, key: str, /) -> bool: ...
    def __iter__(self) -> Iterator[float]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def keys(self) -> list[str]: ...
    def values(self) -> list[float]: ...
    def items(self) -> list[tuple[str, float]]: ...
    def to_dict(self) -> dict[str, float]: ...

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
def option_price_vec(
    underlying: Any,
    strike: Any,
    years: Any,
    vol: Any,
    right: Any,
    model: Literal["black76", "bs", "black_scholes"] = "black76",
    rate: float = 0.065,
) -> Any: ...
def option_iv_vec(
    price: Any,
    underlying: Any,
    strike: Any,
    years: Any,
    right: Any,
    model: Literal["black76", "bs", "black_scholes"] = "black76",
    rate: float = 0.065,
) -> Any: ...
def option_greeks_vec(
    price: Any,
    underlying: Any,
    strike: Any,
    years: Any,
    right: Any,
    model: Literal["black76", "bs", "black_scholes"] = "black76",
    rate: float = 0.065,
) -> dict[str, Any]: ...

@final
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
@final
class Client:
    def __new__(
        cls,
        api_url: str,
        api_key: Optional[str] = None,
        user_service_url: Optional[str] = None,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> Client: ...
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
    # Awaitables on the client's own runtime (cancelling one cancels its request).
    def get_async(
        self,
        path: str,
        params: Optional[dict[str, object]] = None,
        kind: Optional[Literal["quote", "bars", "static"]] = None,
    ) -> Awaitable[Any]: ...
    def request_async(
        self,
        method: str,
        path: str,
        body_json: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Awaitable[Any]: ...
    def login_async(
        self, username: str, password: str, persist_session: bool = True
    ) -> Awaitable[dict[str, Any]]: ...
    def logout_async(self) -> Awaitable[None]: ...
    def stream(self) -> Stream: ...

# A live stream of updates (dicts with a "type": quote, bar, indicator, order, trade, status).
@final
class Stream:
    def subscribe(
        self,
        quotes: Optional[Sequence[str]] = None,
        indicators: Optional[Sequence[tuple[str, str, str]]] = None,
        bars: Optional[Sequence[tuple[str, str]]] = None,
        orders: bool = False,
        alerts: bool = False,
        messages: bool = False,
        news: bool = False,
    ) -> None: ...
    def subscribe_async(
        self,
        quotes: Optional[Sequence[str]] = None,
        indicators: Optional[Sequence[tuple[str, str, str]]] = None,
        bars: Optional[Sequence[tuple[str, str]]] = None,
        orders: bool = False,
        alerts: bool = False,
        messages: bool = False,
        news: bool = False,
    ) -> Awaitable[None]: ...
    def next(self, timeout: Optional[float] = None) -> Optional[dict[str, Any]]: ...
    def next_async(self) -> Awaitable[Optional[dict[str, Any]]]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def pending(self) -> int: ...
    def stats(self) -> dict[str, int]: ...

def news_sentiment(text: str, finance: bool = True) -> tuple[float, str]: ...
def timeframe_canonical(tf: str | int) -> str: ...
def timeframes() -> tuple[str, ...]: ...
