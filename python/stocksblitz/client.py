"""``TradingClient``: the connection (a Rust core: pooled HTTP, API key or JWT session with
refresh, retries, response cache) and the factory of instruments. The constructor never does
I/O."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Optional

from . import _native
from .alerts import Alerts
from .calendar import Calendar
from .exceptions import CacheError, IndicatorValidationError
from .filter import InstrumentFilter
from .instrument import Instrument
from .messaging import Messaging
from .news import News
from .streams import Stream
from .trading import Account, Strategy

__all__ = ["IndicatorRegistry", "TradingClient"]


class _Api:
    """The low-level API some scripts reach into: ``client._api._access_token`` (also
    ``_token``), ``client._api.get(path, params)`` → parsed JSON."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.Client) -> None:
        self._native = native

    @property
    def _access_token(self) -> Optional[str]:
        return self._native.access_token

    @_access_token.setter
    def _access_token(self, token: str) -> None:
        self._native.access_token = token

    _token = _access_token

    def get(self, path: str, params: Optional[dict[str, Any]] = None) -> Any:
        return self._native.get(path, params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._native.post(path, json.dumps({} if body is None else body))


class TradingClient:
    """Client of a stocksblitz server.

    Pass ``api_key`` (sent as ``Authorization: Bearer``) or ``user_service_url`` (JWT login with
    :meth:`login` or :meth:`from_credentials`). Safe to share across threads.
    """

    def __init__(
        self,
        api_url: str,
        api_key: Optional[str] = None,
        user_service_url: Optional[str] = None,
        cache: Any = None,
        enable_disk_cache: bool = True,
        cache_dir: Optional[str] = None,
        cache_ttl: float = 86400,
        timeout: float = 30.0,
    ) -> None:
        if not isinstance(api_url, str) or not api_url.startswith(("http://", "https://")):
            raise ValueError(f"api_url must be an http:// or https:// URL, got {api_url!r}")
        if api_key is None and user_service_url is None:
            raise ValueError(
                "pass api_key=... (an API key) or user_service_url=... (then log in with "
                "TradingClient.from_credentials or client.login)"
            )
        if not (timeout > 0):
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        if not (cache_ttl >= 0):
            raise ValueError(f"cache_ttl must be >= 0, got {cache_ttl!r}")
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.user_service_url = user_service_url.rstrip("/") if user_service_url else None
        self.enable_disk_cache = enable_disk_cache
        self.cache_dir = cache_dir
        self.cache_ttl = cache_ttl
        self.timeout = timeout
        self._api = _Api(_native.Client(self.api_url, api_key, self.user_service_url, timeout))
        self._indicators: Optional[IndicatorRegistry] = None
        self._alerts: Optional[Alerts] = None
        self._messaging: Optional[Messaging] = None
        self._calendar: Optional[Calendar] = None
        self._news: Optional[News] = None

    @classmethod
    def from_credentials(
        cls,
        api_url: str,
        user_service_url: str,
        username: str,
        password: str,
        persist_session: bool = True,
        cache: Any = None,
    ) -> TradingClient:
        """A client logged in with a username (email) and password."""
        client = cls(api_url, user_service_url=user_service_url, cache=cache)
        client.login(username, password, persist_session=persist_session)
        return client

    def login(self, username: str, password: str, persist_session: bool = True) -> dict[str, Any]:
        """Log in; returns the login response (``access_token``, ``expires_in``, ``user``, …).
        The session is refreshed automatically. Raises AuthenticationError, RateLimitError."""
        return dict(self._api._native.login(username, password, persist_session))

    def logout(self) -> None:
        """Revoke the session on the server and forget its tokens (and the cache)."""
        self._api._native.logout()

    def clear_cache(self) -> None:
        """Drop every cached response (quotes, candles, indicator values)."""
        self._api._native.clear_cache()

    def Instrument(self, spec: str) -> Instrument:
        """An instrument bound to this client (parsed offline; no I/O)."""
        return Instrument(spec, client=self)

    def iv_smile(self, underlying: str, expiry: Optional[str] = None) -> dict[str, Any]:
        """The server's implied-volatility smile of one expiry (the nearest when omitted):
        ``{underlying, expiry, forward, years, points: [{strike, iv, source}], fit: {params,
        rmse, points}, fit_error}`` (``GET /fo/iv-smile``)."""
        params: dict[str, Any] = {"underlying": underlying}
        if expiry is not None:
            params["expiry"] = str(expiry)
        return dict(self._api.get("/fo/iv-smile", params))

    def Account(self, account_id: Optional[str] = None) -> Account:
        """A paper account: the caller's primary one (created on first use) unless
        ``account_id`` is given. No I/O until it is used."""
        return Account(self, account_id)

    def InstrumentFilter(self, pattern: str) -> InstrumentFilter:
        """Options selected from the live chain: ``NSE@NIFTY@Nw@Put``, ``NSE@NIFTY@Nm@Call``,
        ``NSE@NIFTY@*@Call``, ``NSE@NIFTY@28-Oct-2025@Put`` (one chain request per expiry)."""
        return InstrumentFilter(self, pattern)

    def Strategy(
        self,
        strategy_id: Optional[str] = None,
        strategy_name: Optional[str] = None,
        strategy_type: str = "custom",
        description: str = "",
        config: Optional[dict[str, Any]] = None,
        account_id: Optional[str] = None,
    ) -> Strategy:
        """A strategy: found by id or name, created when the name is new (on the primary
        account unless ``account_id`` is given). Also a context manager."""
        return Strategy(
            self, strategy_id, strategy_name, strategy_type, description, config, account_id
        )

    def stream(
        self,
        quotes: Optional[Iterable[Any]] = None,
        indicators: Optional[Iterable[Any]] = None,
        bars: Optional[Iterable[Any]] = None,
        orders: bool = False,
        alerts: bool = False,
        messages: bool = False,
        news: bool = False,
    ) -> Stream:
        """A live stream of updates over the server's WebSockets (see
        :mod:`stocksblitz.streams`), subscribed to what is given; iterate it, or register
        callbacks with ``on`` and ``start`` it. Also a context manager."""
        s = Stream(self._api._native.stream())
        if quotes or indicators or bars or orders or alerts or messages or news:
            s.subscribe(
                quotes=quotes,
                indicators=indicators,
                bars=bars,
                orders=orders,
                alerts=alerts,
                messages=messages,
                news=news,
            )
        return s

    @property
    def indicators(self) -> IndicatorRegistry:
        """The server's indicator registry (cached on disk for ``cache_ttl`` seconds)."""
        if self._indicators is None:
            self._indicators = IndicatorRegistry(self)
        return self._indicators

    @property
    def alerts(self) -> Alerts:
        """Alerts the server evaluates, and what they raised (see :mod:`stocksblitz.alerts`)."""
        if self._alerts is None:
            self._alerts = Alerts(self)
        return self._alerts

    @property
    def calendar(self) -> Calendar:
        """Reminders on the exchange calendar (see :mod:`stocksblitz.calendar`)."""
        if self._calendar is None:
            self._calendar = Calendar(self)
        return self._calendar

    @property
    def news(self) -> News:
        """News with a lexicon sentiment, live and filtered (see :mod:`stocksblitz.news`)."""
        if self._news is None:
            self._news = News(self)
        return self._news

    @property
    def messaging(self) -> Messaging:
        """Messages between your own clients through the server (see
        :mod:`stocksblitz.messaging`)."""
        if self._messaging is None:
            self._messaging = Messaging(self)
        return self._messaging

    def __repr__(self) -> str:
        auth = "API Key" if self.api_key and not self._api._native.has_session else "JWT"
        return f"<TradingClient api_url={self.api_url!r} auth={auth!r}>"


class IndicatorRegistry:
    """``client.indicators``: what the server computes, with parameter validation. The list is
    kept at ``<cache_dir or ~/.stocksblitz>/indicator_registry.json`` (atomic writes) for the
    client's ``cache_ttl``."""

    def __init__(self, client: TradingClient) -> None:
        self._client = client
        self._items: Optional[list[dict[str, Any]]] = None
        self._loaded_at = 0.0

    def _path(self) -> Path:
        base = (
            Path(self._client.cache_dir) if self._client.cache_dir else Path.home() / ".stocksblitz"
        )
        return base / "indicator_registry.json"

    def _load(self) -> list[dict[str, Any]]:
        ttl = self._client.cache_ttl
        now = time.time()
        if self._items is not None and now - self._loaded_at < ttl:
            return self._items
        path = self._path()
        if self._client.enable_disk_cache:
            try:
                st = path.stat()
                if now - st.st_mtime < ttl:
                    cached = json.loads(path.read_text())
                    if isinstance(cached, dict) and cached.get("api_url") == self._client.api_url:
                        self._items, self._loaded_at = list(cached["indicators"]), st.st_mtime
                        return self._items
            except (OSError, ValueError, KeyError):
                pass
        body = self._client._api._native.get("/indicators/list", None, "static")
        self._items, self._loaded_at = list(body["indicators"]), now
        if self._client.enable_disk_cache:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".registry-", suffix=".json")
                with os.fdopen(fd, "w") as f:
                    json.dump({"api_url": self._client.api_url, "indicators": self._items}, f)
                os.replace(tmp, path)
            except OSError:
                pass
        return self._items

    def fetch_indicators(self, force_refresh: bool = False) -> list[dict[str, Any]]:
        """The registry (from the disk cache when fresh; ``force_refresh`` reads the server)."""
        if force_refresh:
            self.clear_cache()
        return list(self._load())

    def clear_cache(self) -> None:
        """Forget the registry in memory and on disk (the next read asks the server)."""
        self._items, self._loaded_at = None, 0.0
        try:
            self._path().unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            raise CacheError(f"cannot remove {self._path()}: {e}") from e

    def get_categories(self) -> list[str]:
        return sorted({d["category"] for d in self._load()})

    def list_indicators(
        self, category: Optional[str] = None, include_custom: bool = True
    ) -> list[dict[str, Any]]:
        """Every indicator (of ``category``); ``include_custom=False`` leaves out custom ones
        (the server lists none today)."""
        items = self._load()
        return [
            d
            for d in items
            if (category is None or d["category"] == category.lower())
            and (include_custom or not d.get("custom", False))
        ]

    def get_parameter_info(self, name: str) -> list[dict[str, Any]]:
        """The indicator's parameters: name, type, default and bounds."""
        return list(self.get_indicator(name)["parameters"])

    def print_indicator_info(self, name: str) -> None:
        """Print what the indicator is and takes."""
        d = self.get_indicator(name)
        lines = [f"{d['display_name']} ({d['name']}, {d['category']})", f"  {d['description']}"]
        for p in d["parameters"]:
            bounds = ", ".join(f"{k} {p[k]}" for k in ("min", "max") if p.get(k) is not None)
            lines.append(
                f"  {p['name']}: {p.get('type', '')} = {p.get('default')!r}"
                + (f" ({bounds})" if bounds else "")
            )
        print("\n".join(lines))

    def get_indicator(self, name: str) -> dict[str, Any]:
        try:
            canonical = _native.ta_canonical(name).split("_")[0]
        except ValueError as e:
            raise ValueError(str(e)) from None
        for d in self._load():
            if d["name"] == canonical:
                return d
        raise ValueError(f"the server does not list {name!r}")

    def search_indicators(self, q: str) -> list[dict[str, Any]]:
        q = q.lower()
        return [
            d
            for d in self._load()
            if q in d["name"].lower()
            or q in d["display_name"].lower()
            or q in d["description"].lower()
        ]

    def validate_indicator(
        self,
        name: str,
        params: Optional[dict[str, Any]] = None,
        raise_on_error: bool = True,
    ) -> tuple[bool, Optional[str]]:
        """``(True, None)`` for valid parameters; otherwise an :class:`IndicatorValidationError`
        naming the parameter (the old default), or ``(False, why)`` with
        ``raise_on_error=False``."""
        try:
            _native.ta_canonical(name, params or {})
        except (ValueError, TypeError) as e:
            if raise_on_error:
                raise IndicatorValidationError(str(e), indicator=name, params=params) from None
            return False, str(e)
        return True, None

    def get_default_params(self, name: str) -> dict[str, Any]:
        return {p["name"]: p["default"] for p in self.get_indicator(name)["parameters"]}
