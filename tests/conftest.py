"""Shared fixtures: a real stocksblitz-server process on a free port."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

import pytest


def server_executable() -> str:
    """The `stocksblitz-server` console script installed with the wheel in this environment."""
    here = Path(sys.executable).parent / "stocksblitz-server"
    if here.exists():
        return str(here)
    found = shutil.which("stocksblitz-server")
    if not found:
        pytest.fail("stocksblitz-server is not installed in this environment (pip install .)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_call(
    url: str,
    method: str = "GET",
    body: Any = None,
    token: Optional[str] = None,
    timeout: float = 10.0,
    auth: bool = True,
) -> tuple[int, dict[str, str], Any]:
    """One request returning (status, headers, parsed JSON or text) — errors included, never
    raised. Requests to a server started by the tests carry that server's test API key unless
    `auth=False` or another `token` is given (market-data routes need a credential)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("X-Request-ID", "test-req-1")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is None and auth:
        srv = next((s for base, s in _SERVERS.items() if url.startswith(base + "/")), None)
        path = url[len(srv.url) :] if srv is not None else ""
        if srv is not None and path.startswith(PROTECTED):
            token = srv.api_key()
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status, headers = resp.status, dict(resp.headers)
    except urllib.error.HTTPError as e:
        raw = e.read()
        status, headers = e.code, dict(e.headers)
    ctype = headers.get("content-type", headers.get("Content-Type", ""))
    parsed: Any = json.loads(raw) if "json" in ctype else raw.decode()
    return status, headers, parsed


def http_get(
    url: str, timeout: float = 5.0, auth: bool = True, token: Optional[str] = None
) -> tuple[int, dict[str, str], Any]:
    """GET returning (status, headers, parsed JSON or text) — see `http_call`."""
    return http_call(url, timeout=timeout, auth=auth, token=token)


# Routes that need a credential (dual auth, scope read); the rest are public.
PROTECTED = (
    "/clock",
    "/quote",
    "/monitor/",
    "/candles",
    "/instruments",
    "/fo/",
    "/indicators/current",
    "/indicators/at-offset",
    "/indicators/history",
    "/indicators/batch",
    "/indicators/subscribe",
    "/indicators/unsubscribe",
)

# Servers started by the tests, by base URL (for their test credentials).
_SERVERS: dict[str, ServerProcess] = {}


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        extra_args: Optional[list[str]] = None,
        env: Optional[dict[str, str]] = None,
        defaults: bool = False,
        port: Optional[int] = None,
    ) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        args = list(extra_args or [])
        # Tests skip the 5-day history back-fill unless they ask for it (or for the defaults).
        if not defaults and "--backfill-days" not in args:
            args += ["--backfill-days", "0"]
        # Many servers run side by side in the tests: no fixed identity port unless asked.
        if "--identity-addr" not in args:
            args += ["--identity-addr", "off"]
        self._api_key: Optional[str] = None
        _SERVERS[self.url] = self
        self.proc = subprocess.Popen(
            [
                server_executable(),
                "--addr",
                f"127.0.0.1:{self.port}",
                "--data-dir",
                str(data_dir),
                *args,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
        )

    def wait_healthy(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                status, _, body = http_get(self.url + "/health", timeout=2)
                if status == 200:
                    return body
                last = (status, body)
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise AssertionError(f"server not healthy after {timeout}s: {last}\n{self.log()}")

    def wait_backfilled(self, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the simulator has written the history it planned (its first start, the
        minutes a restart or a clock jump skipped); returns /health."""
        return wait_for(
            lambda: (
                (h := http_get(self.url + "/health")[2])
                and h["ingest"]["backfill"]["state"] in ("done", "idle")
                and h
            ),
            timeout=timeout,
            what="back-fill done",
        )

    def wait_quotes(self, underlying: str = "NIFTY") -> None:
        """Wait until the snapshot has the underlying's quote."""
        wait_for(
            lambda: http_get(self.url + f"/monitor/snapshot?underlying={underlying}")[2].get(
                "underlying"
            ),
            what=f"quotes of {underlying}",
        )

    def api_key(self) -> str:
        """A read-scoped API key of a test user of this server (registered on first use)."""
        if self._api_key is None:
            email = f"tests-{self.port}-{os.getpid()}-{time.monotonic_ns()}@example.com"
            password = "Tests-Password-123!"
            status, _, body = http_call(
                self.url + "/v1/auth/register",
                "POST",
                {"email": email, "password": password, "name": "tests"},
                auth=False,
            )
            assert status == 201, body
            status, _, login = http_call(
                self.url + "/v1/auth/login",
                "POST",
                {"email": email, "password": password},
                auth=False,
            )
            assert status == 200, login
            status, _, key = http_call(
                self.url + "/api-keys",
                "POST",
                {"name": "tests", "scopes": ["read"]},
                token=login["access_token"],
            )
            assert status == 201, key
            self._api_key = key["api_key"]
        return self._api_key

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                msg = f"server did not stop within {timeout}s:\n{self.log()}"
                raise AssertionError(msg) from None
        self._log.close()
        _SERVERS.pop(self.url, None)
        return self.proc.returncode

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def server(tmp_path: Path):
    srv = ServerProcess(tmp_path / "data")
    srv.wait_healthy()
    yield srv
    srv.stop()


IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def wait_for(pred, timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def pg_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


def new_user(
    srv: ServerProcess,
    email: str,
    scopes: tuple[str, ...] | list[str] = ("read", "trade"),
    name: str = "Test User",
) -> tuple[str, str]:
    """(access JWT, API key with ``scopes``) of a user registered on ``srv`` now."""
    password = "Test-User-Password-123!"
    status, _, reg = http_call(
        srv.url + "/v1/auth/register",
        "POST",
        {"email": email, "password": password, "name": name},
        auth=False,
    )
    assert status in (201, 409), reg
    status, _, login = http_call(
        srv.url + "/v1/auth/login", "POST", {"email": email, "password": password}, auth=False
    )
    assert status == 200, login
    jwt = str(login["access_token"])
    status, _, key = http_call(
        srv.url + "/api-keys", "POST", {"name": "tests", "scopes": list(scopes)}, token=jwt
    )
    assert status == 201, key
    return jwt, str(key["api_key"])


class Proxy(threading.Thread):
    """A TCP proxy the test controls: ``cut()`` drops every connection and refuses new ones,
    ``stall()`` keeps the open connections open but forwards nothing more on them (a silent
    network; new connections forward), ``delay``
    holds each chunk from the target that many seconds; ``restore()`` forwards again.
    ``open_connections()`` counts client connections not yet closed by either side."""

    def __init__(self, target: tuple[str, int], delay: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.target = target
        self.delay = delay
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.stalled: set[int] = set()
        self.conns: list[socket.socket] = []
        self.live: set[int] = set()
        self.lock = threading.Lock()

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
                self.live.add(id(client))
            for a, b, slow in ((client, server, False), (server, client, True)):
                threading.Thread(
                    target=self.pipe, args=(a, b, slow, id(client)), daemon=True
                ).start()

    def pipe(self, a: socket.socket, b: socket.socket, slow: bool, key: int) -> None:
        try:
            while data := a.recv(65536):
                if slow and self.delay:
                    time.sleep(self.delay)
                if key in self.stalled:
                    continue  # swallowed: the peer hears nothing, and no FIN either
                b.sendall(data)
        except OSError:
            pass
        with self.lock:
            self.live.discard(key)
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def open_connections(self) -> int:
        with self.lock:
            return len(self.live)

    def stall(self) -> None:
        with self.lock:
            self.stalled |= self.live

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass
            self.conns.clear()

    def restore(self) -> None:
        self.up = True
        with self.lock:
            self.stalled.clear()
