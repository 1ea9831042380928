"""``AsyncTradingClient``: the client for asyncio, on the same Rust core as
:class:`~stocksblitz.TradingClient` (pooled HTTP, sessions and refresh, retries, the response
cache). Every call is an awaitable that runs on the core's own runtime — no thread per call,
the event loop never blocks — and cancelling it (``asyncio.wait_for``, ``task.cancel()``)
cancels the request.

    async with AsyncTradingClient(api_url, api_key="sb_...") as client:
        nifty = client.Instrument("NIFTY 50")
        await nifty.ltp()
        tf = nifty["5m"]
        await tf.candles(100)
        await tf.rsi(14), await tf.rsi[14], await tf.indicator("RSI_14")
        order = await client.Account().buy("NIFTY26DEC26000CE", 65)
        async with client.stream(bars=[("NIFTY 50", "1m")]) as s:
            async for update in s:
                ...
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterable, Optional, Union

from . import _native
from .alerts import AsyncAlerts
from .calendar import AsyncCalendar
from .exceptions import DataUnavailableError, TimeoutError
from .instrument import Instrument as _SyncInstrument
from .instrument import _quote_dict
from .messaging import AsyncMessaging
from .news import AsyncNews
from .streams import AsyncStream, OrderUpdate, StatusUpdate
from .timeframe import (
    _FIELDS,
    Indicator,
    _candle_time,
    _candles_of,
    _check_n,
    _history_of,
    _indicator_name,
    _indicator_value,
    _suggest,
)
from .trading import FINAL_STATUSES, Funds, OrderRequest, _PositionView, _symbol_of

__all__ = [
    "AsyncAccount",
    "AsyncIndicator",
    "AsyncInstrument",
    "AsyncOrder",
    "AsyncPosition",
    "AsyncTimeframe",
    "AsyncTradingClient",
]


class AsyncTradingClient:
    """Client of a stocksblitz server for asyncio (the same arguments as TradingClient)."""

    def __init__(
        self,
        api_url: str,
        api_key: Optional[str] = None,
        user_service_url: Optional[str] = None,
        timeout: float = 30.0,
    ) -> None:
        if not isinstance(api_url, str) or not api_url.startswith(("http://", "https://")):
            raise ValueError(f"api_url must be an http:// or https:// URL, got {api_url!r}")
        if api_key is None and user_service_url is None:
            raise ValueError(
                "pass api_key=... (an API key) or user_service_url=... (then await "
                "client.login(...))"
            )
        if not (timeout > 0):
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.user_service_url = user_service_url.rstrip("/") if user_service_url else None
        self._native = _native.Client(self.api_url, api_key, self.user_service_url, timeout)
        self._alerts: Optional[AsyncAlerts] = None
        self._messaging: Optional[AsyncMessaging] = None
        self._calendar: Optional[AsyncCalendar] = None
        self._news: Optional[AsyncNews] = None

    @classmethod
    async def from_credentials(
        cls, api_url: str, user_service_url: str, username: str, password: str
    ) -> AsyncTradingClient:
        client = cls(api_url, user_service_url=user_service_url)
        await client.login(username, password)
        return client

    async def login(
        self, username: str, password: str, persist_session: bool = True
    ) -> dict[str, Any]:
        """Log in (the session refreshes itself); returns the login response."""
        return dict(await self._native.login_async(username, password, persist_session))

    async def logout(self) -> None:
        await self._native.logout_async()

    async def get(self, path: str, params: Optional[dict[str, Any]] = None) -> Any:
        """GET any route of the API (parsed JSON)."""
        return await self._native.get_async(path, params)

    def clear_cache(self) -> None:
        self._native.clear_cache()

    def Instrument(self, spec: str) -> AsyncInstrument:
        """An instrument bound to this client (parsed offline; no I/O)."""
        return AsyncInstrument(spec, self)

    def Account(self, account_id: Optional[str] = None) -> AsyncAccount:
        return AsyncAccount(self, account_id)

    def stream(
        self,
        quotes: Optional[Iterable[Any]] = None,
        indicators: Optional[Iterable[Any]] = None,
        bars: Optional[Iterable[Any]] = None,
        orders: bool = False,
        alerts: bool = False,
        messages: bool = False,
        news: bool = False,
    ) -> AsyncStream:
        """A live stream (``async with client.stream(...) as s: async for u in s``); what is
        given is subscribed on entering it (or on the first ``await s.next()``)."""
        pending = None
        if quotes or indicators or bars or orders or alerts or messages or news:
            pending = {
                "messages": messages,
                "news": news,
                "quotes": quotes,
                "indicators": indicators,
                "bars": bars,
                "orders": orders,
                "alerts": alerts,
            }
        return AsyncStream(self._native.stream(), pending)

    def subscribe(
        self,
        quotes: Optional[Iterable[Any]] = None,
        indicators: Optional[Iterable[Any]] = None,
        bars: Optional[Iterable[Any]] = None,
        orders: bool = False,
        alerts: bool = False,
    ) -> AsyncStream:
        """``async for update in client.subscribe(quotes=[...], orders=True)``."""
        return self.stream(quotes, indicators, bars, orders, alerts)

    @property
    def alerts(self) -> AsyncAlerts:
        """Alerts the server evaluates (see :mod:`stocksblitz.alerts`), with awaitables."""
        if self._alerts is None:
            self._alerts = AsyncAlerts(self)
        return self._alerts

    @property
    def calendar(self) -> AsyncCalendar:
        """Reminders (see :mod:`stocksblitz.calendar`), awaitable."""
        if self._calendar is None:
            self._calendar = AsyncCalendar(self)
        return self._calendar

    @property
    def news(self) -> AsyncNews:
        """News (see :mod:`stocksblitz.news`), awaitable; live on ``stream(news=True)``."""
        if self._news is None:
            self._news = AsyncNews(self)
        return self._news

    @property
    def messaging(self) -> AsyncMessaging:
        """Messages between your own clients (see :mod:`stocksblitz.messaging`), awaitable."""
        if self._messaging is None:
            self._messaging = AsyncMessaging(self)
        return self._messaging

    async def __aenter__(self) -> AsyncTradingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.clear_cache()

    def __repr__(self) -> str:
        auth = "API Key" if self.api_key and not self._native.has_session else "JWT"
        return f"<AsyncTradingClient api_url={self.api_url!r} auth={auth!r}>"


class AsyncInstrument:
    """An instrument: its symbol attributes offline, its quote and timeframes awaited."""

    __slots__ = ("_client", "_inst")

    def __init__(self, spec: str, client: AsyncTradingClient) -> None:
        self._inst = _SyncInstrument(spec)
        self._client = client

    def __getattr__(self, name: str) -> Any:
        # tradingsymbol, underlying, kind, expiry, strike, option_type, lot_size, …
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._inst, name)

    async def symbol(self) -> str:
        """The tradingsymbol (an ``@`` spec is resolved by the server)."""
        if self._inst._info is not None:
            return str(self._inst._info.tradingsymbol)
        body = await self._client._native.get_async(
            "/instruments/resolve", {"spec": self._inst.spec}, "quote"
        )
        return str(body["tradingsymbol"])

    async def quote(self) -> dict[str, Any]:
        """The instrument's own latest quote (the old ``_fetch_quote`` shape)."""
        q = await self._client._native.get_async("/quote", {"symbol": await self.symbol()}, "quote")
        return _quote_dict(q)

    async def _field(self, name: str) -> Any:
        q = await self._client._native.get_async("/quote", {"symbol": await self.symbol()}, "quote")
        if q.get("state") == "no_data":
            raise DataUnavailableError(
                f"no quote for {q.get('tradingsymbol') or self} yet (no_data)", reason="no_data"
            )
        return q.get(name)

    async def ltp(self) -> Optional[float]:
        return await self._field("ltp")

    async def bid(self) -> Optional[float]:
        return await self._field("bid")

    async def ask(self) -> Optional[float]:
        return await self._field("ask")

    async def greeks(self) -> dict[str, Any]:
        g = await self._field("greeks")
        return dict(g or {})

    def __getitem__(self, timeframe: Any) -> AsyncTimeframe:
        return AsyncTimeframe(self, _native.timeframe_canonical(timeframe))

    def __repr__(self) -> str:
        return f"<AsyncInstrument {self._inst.tradingsymbol or self._inst.spec}>"

    def __str__(self) -> str:
        return str(self._inst)


class AsyncTimeframe:
    """``inst['5m']``: candles and indicators, awaited."""

    __slots__ = ("_inst", "timeframe")

    def __init__(self, inst: AsyncInstrument, timeframe: str) -> None:
        self._inst = inst
        self.timeframe = timeframe

    async def _rows(self, n: int) -> list[dict[str, Any]]:
        body = await self._inst._client._native.get_async(
            "/candles",
            {"symbol": await self._inst.symbol(), "timeframe": self.timeframe, "limit": n},
            "bars",
        )
        return list(body["candles"])

    async def candles(self, n: int = 100, as_frame: bool = True) -> Any:
        """The last ``n`` candles, oldest first: a DataFrame indexed by IST time when pandas is
        installed, else (or with ``as_frame=False``) a list of dicts — the sync
        ``Candle.to_dict()`` shape (``time`` an IST datetime)."""
        rows = await self._rows(_check_n(n))
        if as_frame:
            frame = _candles_of(None, rows, True)
            if not isinstance(frame, list):
                return frame
        return [{**r, "time": _candle_time(r["time"])} for r in rows]

    async def candle(self, offset: int = 0) -> dict[str, Any]:
        """The candle ``offset`` bars back (0 = the forming one), as a dict (``time`` an IST
        datetime)."""
        if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= 5000:
            raise ValueError(f"candle offset must be an int between 0 and 5000, got {offset!r}")
        rows = await self._rows(offset + 1)
        if len(rows) <= offset:
            raise DataUnavailableError(
                f"{self._inst} {self.timeframe}: {len(rows)} candles available",
                reason="no_data" if not rows else "insufficient_data",
            )
        r = rows[-1 - offset]
        return {**r, "time": _candle_time(r["time"])}

    async def indicator(self, indicator_id: str, offset: int = 0) -> Any:
        """An indicator's value by id (``RSI_14``, ``MACD_12_26_9``), ``offset`` bars back."""
        native = self._inst._client._native
        params = {
            "symbol": await self._inst.symbol(),
            "timeframe": self.timeframe,
            "indicators": indicator_id,
        }
        if offset:
            body = await native.get_async(
                "/indicators/at-offset", {**params, "offset": offset}, "bars"
            )
        else:
            body = await native.get_async("/indicators/current", params, "bars")
        return _indicator_value(body, indicator_id, f"{self._inst} {self.timeframe}")

    def __getattr__(self, name: str) -> AsyncIndicator:
        ind = _indicator_name(name)
        if ind is None:
            raise AttributeError(
                f"AsyncTimeframe has no attribute {name!r}{_suggest(name, (*_FIELDS, 'candles'))}"
            ) from None
        return AsyncIndicator(self, ind)

    def __repr__(self) -> str:
        return f"<AsyncTimeframe {self._inst} {self.timeframe}>"


class AsyncIndicator:
    """``tf.rsi``: ``await tf.rsi(14)``, ``await tf.rsi[14]``, ``await tf.rsi.history(50)``."""

    __slots__ = ("_name", "_tf")

    def __init__(self, tf: AsyncTimeframe, name: str) -> None:
        self._tf = tf
        self._name = name

    def _id(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        # The same id rules as the sync client (parameters from the registry).
        return Indicator._id(self, args, kwargs)  # type: ignore[arg-type]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._tf.indicator(self._id(args, kwargs))

    def __getitem__(self, params: Any) -> Any:
        args = params if isinstance(params, tuple) else (params,)
        return self._tf.indicator(self._id(args, {}))

    async def history(self, n: int = 50, *args: Any, **kwargs: Any) -> Any:
        _check_n(n)
        ind_id = self._id(args, kwargs)
        body = await self._tf._inst._client._native.get_async(
            "/indicators/history",
            {
                "symbol": await self._tf._inst.symbol(),
                "timeframe": self._tf.timeframe,
                "indicator": ind_id,
                "lookback": n,
            },
            "bars",
        )
        return _history_of(self._name, ind_id, body["series"])

    def __repr__(self) -> str:
        return f"<AsyncIndicator {self._name} on {self._tf._inst} {self._tf.timeframe}>"


class AsyncOrder:
    """An order as last read (``data`` fields as attributes); ``await refresh()``,
    ``await cancel()``, ``await modify(...)``, ``await wait(timeout)``."""

    def __init__(self, account: AsyncAccount, data: dict[str, Any]) -> None:
        self._account = account
        self._data = dict(data)
        self.order_id: str = str(data["order_id"])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"AsyncOrder has no attribute {name!r}") from None

    @property
    def is_complete(self) -> bool:
        return self._data.get("status") == "COMPLETE"

    @property
    def is_pending(self) -> bool:
        return self._data.get("status") not in FINAL_STATUSES

    @property
    def is_rejected(self) -> bool:
        return self._data.get("status") == "REJECTED"

    async def refresh(self) -> AsyncOrder:
        self._data = await self._account._get(f"/orders/{self.order_id}")
        return self

    async def cancel(self) -> AsyncOrder:
        return await self._account.cancel_order(self.order_id)

    async def modify(self, **changes: Any) -> AsyncOrder:
        return await self._account.modify_order(self.order_id, **changes)

    async def wait(self, timeout: float = 30.0) -> AsyncOrder:
        """Until COMPLETE, CANCELLED or REJECTED, on the order stream (TimeoutError)."""
        import asyncio

        if (await self.refresh())._data["status"] in FINAL_STATUSES:
            return self
        s = self._account._client.stream()
        try:
            await s.subscribe(orders=True)

            async def watch() -> AsyncOrder:
                async for u in s:
                    if isinstance(u, StatusUpdate) and u.stream == "orders" and u.state == "live":
                        if (await self.refresh())._data["status"] in FINAL_STATUSES:
                            return self
                    if isinstance(u, OrderUpdate) and u.order_id == self.order_id:
                        self._data = dict(u.data)
                        if u.status in FINAL_STATUSES:
                            return self
                return self

            try:
                return await asyncio.wait_for(watch(), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError(
                    f"order {self.order_id} is still {self._data.get('status')} after {timeout} s"
                ) from None
        finally:
            s.close()

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        d = self._data
        return (
            f"<AsyncOrder {self.order_id} {d.get('transaction_type')} {d.get('quantity')} "
            f"{d.get('tradingsymbol')} {d.get('status')}>"
        )


class AsyncPosition(_PositionView):
    """A net position as read (Kite's fields and the old SDK's names); ``await close()``."""

    def __init__(self, account: AsyncAccount, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._account = account

    async def close(self, **kw: Any) -> Optional[AsyncOrder]:
        """Flatten the position with an opposite MARKET order (None when already flat)."""
        order = self._closing(kw)
        return None if order is None else await self._account.place_order(*order, **kw)


class AsyncAccount:
    """A paper account for asyncio (the primary one unless ``account_id`` is given)."""

    def __init__(self, client: AsyncTradingClient, account_id: Optional[str] = None) -> None:
        self._client = client
        self._id: Optional[str] = None if account_id is None else str(account_id)

    async def account_id(self) -> str:
        if self._id is None:
            accounts = (await self._client._native.request_async("GET", "/accounts"))["data"]
            primary = next((a for a in accounts if a["name"] == "primary"), accounts[0])
            self._id = str(primary["account_id"])
        return self._id

    async def _get(self, tail: str) -> Any:
        path = f"/accounts/{await self.account_id()}{tail}"
        return (await self._client._native.request_async("GET", path))["data"]

    async def _send(
        self, method: str, tail: str, body: Any = None, key: Optional[str] = None
    ) -> Any:
        path = f"/accounts/{await self.account_id()}{tail}"
        text = None if body is None else json.dumps(body)
        return (await self._client._native.request_async(method, path, text, key))["data"]

    async def funds(self) -> Funds:
        return Funds(await self._get("/funds"))

    async def positions(self) -> list[AsyncPosition]:
        return [AsyncPosition(self, p) for p in await self._get("/positions")]

    async def orders(self) -> list[AsyncOrder]:
        return [AsyncOrder(self, o) for o in await self._get("/orders")]

    async def trades(self) -> list[dict[str, Any]]:
        return list(await self._get("/trades"))

    async def order(self, order_id: str) -> AsyncOrder:
        return AsyncOrder(self, await self._get(f"/orders/{order_id}"))

    async def place_order(
        self,
        instrument: Union[str, AsyncInstrument, OrderRequest],
        transaction_type: Optional[str] = None,
        quantity: Optional[int] = None,
        order_type: str = "MARKET",
        price: Optional[float] = None,
        trigger_price: Optional[float] = None,
        product: str = "MIS",
        validity: str = "DAY",
        tag: Optional[str] = None,
        **kw: Any,
    ) -> AsyncOrder:
        """Place an order (with a fresh Idempotency-Key: a retried network failure never places
        twice); InsufficientFundsError / InvalidOrderError name the rule."""
        if isinstance(instrument, OrderRequest):
            req = instrument
        else:
            if transaction_type is None or quantity is None:
                raise ValueError("place_order needs instrument, transaction_type and quantity")
            sym = (
                await instrument.symbol() if isinstance(instrument, AsyncInstrument) else instrument
            )
            req = OrderRequest.of(
                _symbol_of(sym),
                transaction_type,
                quantity,
                order_type,
                price,
                trigger_price,
                product,
                validity,
                tag,
                **kw,
            )
        placed = await self._send("POST", "/orders", req.to_body(), uuid.uuid4().hex)
        return await self.order(placed["order_id"])

    async def buy(
        self, instrument: Union[str, AsyncInstrument], quantity: int, **kw: Any
    ) -> AsyncOrder:
        return await self.place_order(instrument, "BUY", quantity, **kw)

    async def sell(
        self, instrument: Union[str, AsyncInstrument], quantity: int, **kw: Any
    ) -> AsyncOrder:
        return await self.place_order(instrument, "SELL", quantity, **kw)

    async def modify_order(self, order_id: Union[str, AsyncOrder], **changes: Any) -> AsyncOrder:
        oid = order_id.order_id if isinstance(order_id, AsyncOrder) else str(order_id)
        allowed = {"quantity", "price", "trigger_price", "order_type", "validity", "validity_ttl"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"cannot modify {', '.join(sorted(unknown))}")
        await self._send("PUT", f"/orders/{oid}", changes)
        return await self.order(oid)

    async def cancel_order(self, order_id: Union[str, AsyncOrder]) -> AsyncOrder:
        oid = order_id.order_id if isinstance(order_id, AsyncOrder) else str(order_id)
        await self._send("DELETE", f"/orders/{oid}")
        return await self.order(oid)

    def __repr__(self) -> str:
        return f"<AsyncAccount {self._id or 'primary'}>"
