"""Paper trading in the SDK: ``client.Account()`` and its orders, positions and funds, over the
server's native ``/accounts`` routes (requests, retries and auth in the Rust core).

Values reflect the account now: every property reads the server (orders refresh when older than
half a second), nothing is memoised on the object. Every placement carries a fresh
``Idempotency-Key``, so a retried network failure never places an order twice. Refusals raise
:class:`~stocksblitz.InsufficientFundsError` (with ``required``/``available``) or
:class:`~stocksblitz.InvalidOrderError` naming the rule.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union

from .exceptions import TimeoutError

if TYPE_CHECKING:
    from .client import TradingClient
    from .instrument import Instrument

__all__ = [
    "Account",
    "Funds",
    "Order",
    "OrderRequest",
    "Position",
    "PositionSnapshot",
    "Strategy",
    "StrategyMetrics",
]

#: Order statuses after which nothing changes.
FINAL_STATUSES = frozenset({"COMPLETE", "CANCELLED", "REJECTED"})
#: Orders are re-read when their snapshot is older than this (seconds).
ORDER_TTL = 0.5


def _symbol_of(instrument: Union[str, Instrument]) -> str:
    if isinstance(instrument, str):
        return instrument.strip()
    return instrument._symbol()


@dataclass
class OrderRequest:
    """An order to place (``account.place_order(OrderRequest(...))``)."""

    tradingsymbol: str
    transaction_type: str
    quantity: int
    order_type: str = "MARKET"
    product: str = "MIS"
    price: Optional[float] = None
    trigger_price: Optional[float] = None
    validity: str = "DAY"
    validity_ttl: Optional[int] = None
    variety: str = "regular"
    tag: Optional[str] = None
    autoslice: bool = False

    @classmethod
    def of(
        cls,
        instrument: Union[str, Instrument],
        transaction_type: str,
        quantity: int,
        order_type: str = "MARKET",
        price: Optional[float] = None,
        trigger_price: Optional[float] = None,
        product: str = "MIS",
        validity: str = "DAY",
        tag: Optional[str] = None,
        **kw: Any,
    ) -> OrderRequest:
        """The request the keyword style describes (``validity_ttl``, ``variety``,
        ``autoslice`` also accepted; anything else is a TypeError)."""
        req = cls(
            tradingsymbol=_symbol_of(instrument),
            transaction_type=str(transaction_type),
            quantity=int(quantity),
            order_type=str(order_type),
            product=str(product),
            price=price,
            trigger_price=trigger_price,
            validity=str(validity),
            validity_ttl=kw.pop("validity_ttl", None),
            variety=str(kw.pop("variety", "regular")),
            tag=tag,
            autoslice=bool(kw.pop("autoslice", False)),
        )
        if kw:
            raise TypeError(f"unknown order fields: {', '.join(sorted(kw))}")
        return req

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "tradingsymbol": self.tradingsymbol,
            "transaction_type": str(self.transaction_type).upper(),
            "quantity": int(self.quantity),
            "order_type": str(self.order_type).upper(),
            "product": str(self.product).upper(),
            "validity": str(self.validity).upper(),
            "variety": str(self.variety).lower(),
        }
        for k in ("price", "trigger_price", "validity_ttl", "tag"):
            v = getattr(self, k)
            if v is not None:
                body[k] = v
        if self.autoslice:
            body["autoslice"] = True
        return body


class Funds:
    """Funds and margins of an account (rupees): the old SDK's ``available_cash used_margin
    available_margin total_margin`` and Kite's ``net``, ``available``, ``utilised``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self.available_cash: float = data["available_cash"]
        self.used_margin: float = data["used_margin"]
        self.available_margin: float = data["available_margin"]
        self.total_margin: float = round(self.used_margin + self.available_margin, 2)
        self.net: float = data["net"]
        self.available: dict[str, float] = dict(data["available"])
        self.utilised: dict[str, float] = dict(data["utilised"])

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return (
            f"<Funds available_margin={self.available_margin:.2f} "
            f"used_margin={self.used_margin:.2f} available_cash={self.available_cash:.2f}>"
        )


class Order:
    """An order. ``status`` and the fill fields are current (re-read after half a second);
    ``wait()`` blocks until a final state."""

    _VOLATILE = (
        "status",
        "status_message",
        "filled_quantity",
        "pending_quantity",
        "cancelled_quantity",
        "average_price",
        "price",
        "trigger_price",
        "quantity",
        "order_type",
        "validity",
        "charges",
        "exchange_timestamp",
    )

    def __init__(self, account: Account, data: dict[str, Any]) -> None:
        self._account = account
        self._data = data
        self._at = time.monotonic()
        self.order_id: str = str(data["order_id"])

    def _fresh(self) -> dict[str, Any]:
        if (
            self._data.get("status") not in FINAL_STATUSES
            and time.monotonic() - self._at > ORDER_TTL
        ):
            self.refresh()
        return self._data

    def refresh(self) -> Order:
        """Re-read the order now."""
        self._data = self._account._get(f"/orders/{self.order_id}")
        self._at = time.monotonic()
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        data = self._fresh() if name in self._VOLATILE else self._data
        if name in data:
            return data[name]
        raise AttributeError(f"Order has no attribute {name!r}")

    @property
    def is_complete(self) -> bool:
        return self._fresh()["status"] == "COMPLETE"

    @property
    def is_pending(self) -> bool:
        return self._fresh()["status"] not in FINAL_STATUSES

    @property
    def is_rejected(self) -> bool:
        return self._fresh()["status"] == "REJECTED"

    def cancel(self) -> Order:
        return self._account.cancel_order(self.order_id)

    def modify(self, **changes: Any) -> Order:
        return self._account.modify_order(self.order_id, **changes)

    def wait(self, timeout: float = 30.0) -> Order:
        """Block until the order is COMPLETE, CANCELLED or REJECTED (TimeoutError after
        ``timeout`` seconds): on the order stream, not by polling — the change arrives as it
        happens."""
        from .streams import OrderUpdate, StatusUpdate

        deadline = time.monotonic() + timeout
        if self.refresh()._data["status"] in FINAL_STATUSES:
            return self

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        with self._account._client.stream() as s:
            s.subscribe(orders=True)
            # Once the stream is live (its baseline read), look again: a change before that
            # is in the order, one after it arrives on the stream.
            while True:
                u = s.next(timeout=left())
                if u is None:
                    break
                if isinstance(u, StatusUpdate) and u.stream == "orders" and u.state == "live":
                    if self.refresh()._data["status"] in FINAL_STATUSES:
                        return self
                    break
            while left() > 0:
                u = s.next(timeout=left())
                if isinstance(u, OrderUpdate) and u.order_id == self.order_id:
                    self._data = dict(u.data)
                    self._at = time.monotonic()
                    if u.status in FINAL_STATUSES:
                        return self
        if self.refresh()._data["status"] in FINAL_STATUSES:
            return self
        raise TimeoutError(
            f"order {self.order_id} is still {self._data['status']} after {timeout} s"
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self._fresh())

    def __repr__(self) -> str:
        d = self._data
        return (
            f"<Order {self.order_id} {d.get('transaction_type')} {d.get('quantity')} "
            f"{d.get('tradingsymbol')} {d.get('status')}>"
        )


@dataclass(frozen=True)
class PositionSnapshot:
    """One state of a position (after a fill, or now)."""

    snapshot_time: dt.datetime
    quantity: int
    average_price: float
    last_price: float
    unrealized_pnl: float
    realized_pnl: float


class _PositionView:
    """A position's fields as read (shared by the sync and the async classes)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self.tradingsymbol: str = data["tradingsymbol"]
        self.exchange: str = data["exchange"]
        self.product: str = data["product"]
        self.quantity: int = data["quantity"]
        self.average_price: float = data["average_price"]
        self.last_price: float = data["last_price"]
        self.pnl: float = data["pnl"]
        self.unrealized_pnl: float = data["unrealised"]
        self.realized_pnl: float = data["realised"]

    @property
    def is_long(self) -> bool:
        return self.quantity > 0

    @property
    def is_short(self) -> bool:
        return self.quantity < 0

    @property
    def pnl_percent(self) -> float:
        cost = abs(self.quantity) * self.average_price
        return 0.0 if cost == 0 else self.unrealized_pnl / cost * 100.0

    def _closing(self, kw: dict[str, Any]) -> Optional[tuple[str, str, int]]:
        """(symbol, side, quantity) of the MARKET order that flattens it (None: flat)."""
        if self.quantity == 0:
            return None
        kw.setdefault("product", self.product)
        kw["order_type"] = "MARKET"
        return self.tradingsymbol, "SELL" if self.quantity > 0 else "BUY", abs(self.quantity)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.tradingsymbol} {self.product} qty={self.quantity} "
            f"avg={self.average_price:.2f} pnl={self.pnl:.2f}>"
        )


class Position(_PositionView):
    """A net position (Kite's fields, plus the old SDK's names)."""

    def __init__(self, account: Account, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._account = account

    def close(self, **kw: Any) -> Optional[Order]:
        """Flatten the position with an opposite MARKET order (None when already flat)."""
        order = self._closing(kw)
        return None if order is None else self._account.place_order(*order, **kw)

    def history(self, lookback: int = 100) -> list[PositionSnapshot]:
        """The position's states from the books: after each fill that changed it, then now."""
        rows = self._account._get(
            "/positions/history",
            {
                "tradingsymbol": self.tradingsymbol,
                "product": self.product,
                "lookback": int(lookback),
            },
        )
        return [
            PositionSnapshot(
                snapshot_time=dt.datetime.fromtimestamp(r["snapshot_time"] / 1000, dt.timezone.utc),
                quantity=r["quantity"],
                average_price=r["average_price"],
                last_price=r["last_price"],
                unrealized_pnl=r["unrealized_pnl"],
                realized_pnl=r["realized_pnl"],
            )
            for r in rows
        ]


class Account:
    """A paper account (the caller's primary one unless ``account_id`` is given)."""

    def __init__(self, client: TradingClient, account_id: Optional[str] = None) -> None:
        self._client = client
        self._id: Optional[str] = None if account_id is None else str(account_id)

    @property
    def account_id(self) -> str:
        if self._id is None:
            accounts = self._client._api._native.request("GET", "/accounts")["data"]
            primary = next((a for a in accounts if a["name"] == "primary"), accounts[0])
            self._id = str(primary["account_id"])
        return self._id

    def _path(self, tail: str = "") -> str:
        return f"/accounts/{self.account_id}{tail}"

    def _get(self, tail: str, params: Optional[dict[str, Any]] = None) -> Any:
        path = self._path(tail)
        if params:
            from urllib.parse import urlencode

            path += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        return self._client._api._native.request("GET", path)["data"]

    def _send(self, method: str, tail: str, body: Any = None, key: Optional[str] = None) -> Any:
        text = None if body is None else json.dumps(body)
        return self._client._api._native.request(method, self._path(tail), text, key)["data"]

    # -- reading ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self._get("")["account"]["name"])

    @property
    def funds(self) -> Funds:
        return Funds(self._get("/funds"))

    @property
    def margins(self) -> dict[str, Any]:
        """Kite's margins shape of the account (``net``, ``available``, ``utilised``)."""
        return self.funds.to_dict()

    @property
    def positions(self) -> list[Position]:
        return [Position(self, p) for p in self._get("/positions")]

    @property
    def holdings(self) -> list[Position]:
        """Delivery (CNC) positions held."""
        return [p for p in self.positions if p.product == "CNC" and p.quantity > 0]

    @property
    def orders(self) -> list[Order]:
        return [Order(self, o) for o in self._get("/orders")]

    @property
    def trades(self) -> list[dict[str, Any]]:
        return list(self._get("/trades"))

    def position(
        self, instrument: Union[str, Instrument], product: Optional[str] = None
    ) -> Optional[Position]:
        """The position in ``instrument`` (of ``product`` when given), or None."""
        sym = _symbol_of(instrument)
        for p in self.positions:
            if p.tradingsymbol == sym and (product is None or p.product == str(product).upper()):
                return p
        return None

    def order(self, order_id: str) -> Order:
        return Order(self, self._get(f"/orders/{order_id}"))

    # -- trading ----------------------------------------------------------------------------

    def place_order(
        self,
        instrument: Union[str, Instrument, OrderRequest, None] = None,
        transaction_type: Optional[str] = None,
        quantity: Optional[int] = None,
        order_type: str = "MARKET",
        price: Optional[float] = None,
        trigger_price: Optional[float] = None,
        product: str = "MIS",
        validity: str = "DAY",
        tag: Optional[str] = None,
        *,
        order_request: Optional[OrderRequest] = None,
        **kw: Any,
    ) -> Order:
        """Place an order; returns it (already filled for a marketable MARKET order). Raises
        InsufficientFundsError or InvalidOrderError with the server's reason."""
        if isinstance(instrument, OrderRequest):
            order_request = instrument
        if order_request is None:
            if instrument is None or transaction_type is None or quantity is None:
                raise ValueError("place_order needs instrument, transaction_type and quantity")
            order_request = OrderRequest.of(
                instrument,
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
        elif kw:
            raise TypeError(f"unknown order fields: {', '.join(sorted(kw))}")
        placed = self._send("POST", "/orders", order_request.to_body(), uuid.uuid4().hex)
        return self.order(placed["order_id"])

    def buy(self, instrument: Union[str, Instrument], quantity: int, **kw: Any) -> Order:
        return self.place_order(instrument, "BUY", quantity, **kw)

    def sell(self, instrument: Union[str, Instrument], quantity: int, **kw: Any) -> Order:
        return self.place_order(instrument, "SELL", quantity, **kw)

    def modify_order(self, order_id: Union[str, Order], **changes: Any) -> Order:
        """Change an open order (quantity, price, trigger_price, order_type, validity)."""
        oid = order_id.order_id if isinstance(order_id, Order) else str(order_id)
        allowed = {"quantity", "price", "trigger_price", "order_type", "validity", "validity_ttl"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"cannot modify {', '.join(sorted(unknown))}")
        self._send("PUT", f"/orders/{oid}", changes)
        return self.order(oid)

    def cancel_order(self, order_id: Union[str, Order]) -> Order:
        oid = order_id.order_id if isinstance(order_id, Order) else str(order_id)
        self._send("DELETE", f"/orders/{oid}")
        return self.order(oid)

    def reset(self, opening_balance: Optional[float] = None) -> Funds:
        """Clear the account and start again (from its opening balance unless given)."""
        body = {} if opening_balance is None else {"opening_balance": opening_balance}
        return Funds(self._send("POST", "/reset", body))

    def __repr__(self) -> str:
        return f"<Account {self._id or 'primary'}>"


class StrategyMetrics:
    """A strategy's performance from its own fills (rupees; ``roi`` in percent)."""

    FIELDS = (
        "total_pnl",
        "day_pnl",
        "unrealized_pnl",
        "realized_pnl",
        "charges",
        "open_positions",
        "total_quantity",
        "capital_deployed",
        "margin_used",
        "total_trades",
        "winning_trades",
        "losing_trades",
        "max_drawdown",
        "sharpe_ratio",
        "roi",
    )

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = {k: data.get(k) for k in self.FIELDS}
        for k, v in self._data.items():
            setattr(self, k, v)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"<StrategyMetrics total_pnl={self._data['total_pnl']} trades={self._data['total_trades']}>"


def _epoch_ms(t: Union[int, float, dt.datetime, None]) -> Optional[int]:
    if t is None:
        return None
    if isinstance(t, dt.datetime):
        if t.tzinfo is None:
            raise ValueError("give an aware datetime (with tzinfo) or epoch milliseconds")
        return int(t.timestamp() * 1000)
    return int(t)


class Strategy:
    """A named strategy on one of the caller's paper accounts (also a context manager: started
    on entry, stopped on exit). Its orders carry its tag; ``positions`` and ``metrics`` are its
    own fills, not the account's net position. Found by ``strategy_id`` or ``strategy_name``,
    created when the name is new."""

    def __init__(
        self,
        client: TradingClient,
        strategy_id: Optional[str] = None,
        strategy_name: Optional[str] = None,
        strategy_type: str = "custom",
        description: str = "",
        config: Optional[dict[str, Any]] = None,
        account_id: Optional[str] = None,
    ) -> None:
        self._client = client
        native = client._api._native
        if strategy_id is not None:
            data = native.request("GET", f"/strategies/{strategy_id}")["data"]
        else:
            name = strategy_name or f"strategy-{uuid.uuid4().hex[:8]}"
            from urllib.parse import quote

            found = native.request("GET", f"/strategies?name={quote(name)}")["data"]
            if found:
                data = found[0]
            else:
                body: dict[str, Any] = {
                    "strategy_name": name,
                    "strategy_type": str(strategy_type),
                    "description": description,
                    "config": config or {},
                }
                if account_id is not None:
                    body["account_id"] = str(account_id)
                data = native.request("POST", "/strategies", json.dumps(body))["data"]
        self._data = data
        self.strategy_id: str = str(data["strategy_id"])
        self.strategy_name: str = data["strategy_name"]
        self.strategy_type: str = data["strategy_type"]
        self.description: str = data["description"]
        self.config: dict[str, Any] = data["config"]
        self.tag: str = data["tag"]
        self.account = Account(client, data["account_id"])

    def _req(self, method: str, tail: str, body: Any = None, key: Optional[str] = None) -> Any:
        text = None if body is None else json.dumps(body)
        return self._client._api._native.request(
            method, f"/strategies/{self.strategy_id}{tail}", text, key
        )["data"]

    @property
    def status(self) -> str:
        return str(self._req("GET", "")["status"])

    def start(self) -> Strategy:
        self._data = self._req("POST", "/start")
        return self

    def pause(self) -> Strategy:
        self._data = self._req("POST", "/pause")
        return self

    def resume(self) -> Strategy:
        self._data = self._req("POST", "/resume")
        return self

    def stop(self) -> Strategy:
        self._data = self._req("POST", "/stop")
        return self

    def __enter__(self) -> Strategy:
        if self.status != "active":
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status in ("active", "paused", "created"):
            self.stop()

    def place_order(
        self,
        instrument: Union[str, Instrument],
        transaction_type: str,
        quantity: int,
        order_type: str = "MARKET",
        price: Optional[float] = None,
        trigger_price: Optional[float] = None,
        product: str = "MIS",
        validity: str = "DAY",
        **kw: Any,
    ) -> Order:
        """An order tagged with this strategy (only while it is active)."""
        kw.pop("tag", None)  # the strategy's tag is the one its orders carry
        req = OrderRequest.of(
            instrument,
            transaction_type,
            quantity,
            order_type,
            price,
            trigger_price,
            product,
            validity,
            **kw,
        )
        placed = self._req("POST", "/orders", req.to_body(), uuid.uuid4().hex)
        return self.account.order(placed["order_id"])

    def buy(self, instrument: Union[str, Instrument], quantity: int, **kw: Any) -> Order:
        return self.place_order(instrument, "BUY", quantity, **kw)

    def sell(self, instrument: Union[str, Instrument], quantity: int, **kw: Any) -> Order:
        return self.place_order(instrument, "SELL", quantity, **kw)

    @property
    def positions(self) -> list[Position]:
        return [_StrategyPosition(self, p) for p in self._req("GET", "/positions")]

    @property
    def holdings(self) -> list[Position]:
        return [p for p in self.positions if p.product == "CNC" and p.quantity > 0]

    @property
    def orders(self) -> list[Order]:
        return [Order(self.account, o) for o in self._req("GET", "/orders")]

    @property
    def metrics(self) -> StrategyMetrics:
        return StrategyMetrics(self._req("GET", "/metrics"))

    def get_snapshots(
        self,
        start_time: Union[int, float, dt.datetime, None] = None,
        end_time: Union[int, float, dt.datetime, None] = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The snapshots recorded while active (``snapshot_time`` as an aware datetime),
        oldest first: the newest ``limit`` in ``[start_time, end_time]``."""
        from urllib.parse import urlencode

        q = {"start_time": _epoch_ms(start_time), "end_time": _epoch_ms(end_time), "limit": limit}
        path = "/snapshots?" + urlencode({k: v for k, v in q.items() if v is not None})
        rows = self._req("GET", path)
        for r in rows:
            r["snapshot_time"] = dt.datetime.fromtimestamp(
                r["snapshot_time"] / 1000, dt.timezone.utc
            )
        return list(rows)

    def __repr__(self) -> str:
        return f"<Strategy {self.strategy_id} {self.strategy_name!r}>"


class _StrategyPosition(Position):
    """A strategy's own position: ``close()`` goes through the strategy (tagged)."""

    def __init__(self, strategy: Strategy, data: dict[str, Any]) -> None:
        super().__init__(strategy.account, data)
        self._strategy = strategy

    def close(self, **kw: Any) -> Optional[Order]:
        order = self._closing(kw)
        return None if order is None else self._strategy.place_order(*order, **kw)
