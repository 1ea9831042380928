"""``TradingClient``: configuration and instrument factory (network calls arrive with the SDK
issue; the constructor never does I/O)."""

from __future__ import annotations

from typing import Any, Optional

from .instrument import Instrument

__all__ = ["TradingClient"]


class TradingClient:
    """Client of a stocksblitz server.

    Pass ``api_key`` (sent as ``Authorization: Bearer``) or ``user_service_url`` (JWT login).
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

    def Instrument(self, spec: str) -> Instrument:
        """An instrument bound to this client (parsed offline; no I/O)."""
        return Instrument(spec, client=self)

    def __repr__(self) -> str:
        auth = "API Key" if self.api_key else "JWT"
        return f"<TradingClient api_url={self.api_url!r} auth={auth!r}>"
