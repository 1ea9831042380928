"""News (the old SDK's ``client.news``): items posted to the server by an operator or an
integration (``POST /news``, scope admin), each scored on ingest with a lexicon sentiment;
read them filtered, follow them live, see what is trending.

    news = client.news
    news.subscribe(lambda n: print(n.sentiment, n.title), symbols=["NIFTY"])
    news.get_news(category=NewsCategory.CORPORATE, sentiment=NewsSentiment.NEGATIVE)
    news.get_trending(hours=6)
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Union

from .enums import NewsCategory, NewsSentiment
from .streams import NewsItem, Stream, _live_stream

if TYPE_CHECKING:
    from .client import TradingClient

__all__ = ["AsyncNews", "News", "NewsItem"]

Callback = Callable[[NewsItem], Any]


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def _date(d: Any) -> Optional[str]:
    if d is None:
        return None
    if isinstance(d, _dt.datetime):
        return d.date().isoformat()
    if isinstance(d, _dt.date):
        return d.isoformat()
    return str(d)


def _symbols(symbols: Optional[Iterable[Any]]) -> Optional[list[str]]:
    if symbols is None:
        return None
    if isinstance(symbols, str):
        symbols = [symbols]
    return [str(getattr(s, "tradingsymbol", None) or s) for s in symbols]


class _Sub:
    def __init__(
        self,
        callback: Callback,
        category: Optional[str],
        symbols: Optional[set[str]],
        sentiment: Optional[str],
    ) -> None:
        self.callback = callback
        self.category = category
        self.symbols = symbols
        self.sentiment = sentiment

    def wants(self, n: NewsItem) -> bool:
        if self.category is not None and n.category != self.category:
            return False
        if self.sentiment is not None and n.sentiment != self.sentiment:
            return False
        return self.symbols is None or bool(self.symbols & {s.upper() for s in n.symbols})


class News:
    """``client.news``."""

    def __init__(self, client: TradingClient) -> None:
        self._client = client
        self._subs: list[_Sub] = []
        self._lock = threading.Lock()
        self._stream: Optional[Stream] = None
        self.errors: list[BaseException] = []

    def get_news(
        self,
        category: Union[NewsCategory, str, None] = None,
        symbols: Optional[Iterable[Any]] = None,
        sentiment: Union[NewsSentiment, str, None] = None,
        start_date: Any = None,
        end_date: Any = None,
        limit: int = 50,
    ) -> list[NewsItem]:
        """Items, newest first: of ``category``, tagged with any of ``symbols`` (an index's
        items are tagged with its underlying: ``NIFTY``), of ``sentiment``, published between
        ``start_date`` and ``end_date`` (IST dates, inclusive)."""
        params: dict[str, Any] = {"limit": int(limit)}
        if category is not None:
            params["category"] = str(_value(category))
        syms = _symbols(symbols)
        if syms:
            params["symbols"] = ",".join(syms)
        if sentiment is not None:
            params["sentiment"] = str(_value(sentiment))
        if start_date is not None:
            params["start_date"] = _date(start_date)
        if end_date is not None:
            params["end_date"] = _date(end_date)
        rows = self._client._api._native.get("/news", params)["data"]
        return [NewsItem._from_json(r) for r in rows]

    def get_trending(self, hours: int = 24, limit: int = 10) -> list[dict[str, Any]]:
        """The symbols and title words most mentioned over the last ``hours``: dicts with
        ``topic``, ``kind`` (symbol / word), ``count``, ``mean_sentiment``."""
        params = {"hours": int(hours), "limit": int(limit)}
        return list(self._client._api._native.get("/news/trending", params)["data"])

    def post_news(
        self,
        title: str,
        summary: str = "",
        category: Union[NewsCategory, str] = NewsCategory.MARKET,
        symbols: Optional[Iterable[Any]] = None,
        source: Optional[str] = None,
        url: Optional[str] = None,
        published_at: Optional[_dt.datetime] = None,
    ) -> NewsItem:
        """Post an item (needs the admin scope); returns it as stored, scored."""
        body: dict[str, Any] = {
            "title": title,
            "summary": summary,
            "category": str(_value(category)),
            "symbols": _symbols(symbols) or [],
        }
        if source is not None:
            body["source"] = source
        if url is not None:
            body["url"] = url
        if published_at is not None:
            body["published_at"] = int(published_at.timestamp() * 1000)
        text = json.dumps(body)
        return NewsItem._from_json(self._client._api._native.request("POST", "/news", text)["data"])

    def subscribe(
        self,
        callback: Callback,
        category: Union[NewsCategory, str, None] = None,
        symbols: Optional[Iterable[Any]] = None,
        sentiment: Union[NewsSentiment, str, None] = None,
    ) -> None:
        """Call ``callback(item)`` for each item posted from now on that matches (on a
        background thread). Returns once the stream is connected."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        syms = _symbols(symbols)
        sub = _Sub(
            callback,
            None if category is None else str(_value(category)),
            None if syms is None else {self._underlying(s) for s in syms},
            None if sentiment is None else str(_value(sentiment)),
        )
        with self._lock:
            self._subs.append(sub)
            if self._stream is not None and not self._stream.closed:
                return
            native = self._client._api._native.stream()
            self._stream = _live_stream(native, "news", "news", self._dispatch)

    @staticmethod
    def _underlying(sym: str) -> str:
        from . import _native

        try:
            info = _native.parse_symbol(sym)
            return str(info.underlying).upper()
        except ValueError:
            return sym.strip().upper()

    def unsubscribe(self, callback: Optional[Callback] = None) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if callback is not None and s.callback != callback]

    def _dispatch(self, n: Any) -> None:
        if not isinstance(n, NewsItem):
            return
        with self._lock:
            subs = list(self._subs)
        for s in subs:
            if s.wants(n):
                try:
                    s.callback(n)
                except Exception as e:  # a callback's error must not stop the delivery
                    self.errors.append(e)

    def close(self) -> None:
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None

    def __repr__(self) -> str:
        return f"<News subscriptions={len(self._subs)}>"


class AsyncNews:
    """``aclient.news``: reading and posting with awaitables; live items come on
    ``aclient.stream(news=True)``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def get_news(
        self,
        category: Union[NewsCategory, str, None] = None,
        symbols: Optional[Iterable[Any]] = None,
        sentiment: Union[NewsSentiment, str, None] = None,
        start_date: Any = None,
        end_date: Any = None,
        limit: int = 50,
    ) -> list[NewsItem]:
        params: dict[str, Any] = {"limit": int(limit)}
        if category is not None:
            params["category"] = str(_value(category))
        syms = _symbols(symbols)
        if syms:
            params["symbols"] = ",".join(syms)
        if sentiment is not None:
            params["sentiment"] = str(_value(sentiment))
        if start_date is not None:
            params["start_date"] = _date(start_date)
        if end_date is not None:
            params["end_date"] = _date(end_date)
        rows = (await self._client._native.get_async("/news", params))["data"]
        return [NewsItem._from_json(r) for r in rows]

    async def get_trending(self, hours: int = 24, limit: int = 10) -> list[dict[str, Any]]:
        params = {"hours": int(hours), "limit": int(limit)}
        return list((await self._client._native.get_async("/news/trending", params))["data"])
