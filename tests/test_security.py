"""Security and resilience of the server process (issue 12): what a local user can read in the
data directory, how it behaves when its dependencies fail, and how it treats abusive clients."""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conftest import ServerProcess, http_call, server_executable

PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def key_rows(data: Path) -> list[tuple[str, bytes]]:
    with sqlite3.connect(data / "stocksblitz.db") as conn:
        return [(k, bytes(b)) for k, b in conn.execute("SELECT kid, private_key FROM signing_keys")]


def open_sealed(kek_b64: str, kid: str, blob: bytes) -> bytes:
    """AES-256-GCM with the key id as associated data: `sbk1` | nonce(12) | ciphertext+tag."""
    assert blob[:4] == b"sbk1"
    return AESGCM(base64.b64decode(kek_b64)).decrypt(blob[4:16], blob[16:], kid.encode())


def test_the_data_directory_is_private_and_signing_keys_are_sealed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = ServerProcess(data)
    srv.wait_healthy()
    _, _, jwks = http_call(srv.url + "/.well-known/jwks.json", auth=False)
    assert srv.stop() == 0
    # The directory 0700 and every file in it 0600, as created.
    assert mode(data) == 0o700
    files = sorted(p.name for p in data.iterdir())
    for name in ("stocksblitz.db", "bootstrap-credentials.txt", "signing.kek"):
        assert name in files, files
    for p in data.iterdir():
        assert mode(p) == 0o600, f"{p.name} is {mode(p):o}"
    # The database alone gives no signing key: each is sealed, not a PKCS#8 key.
    rows = key_rows(data)
    assert rows
    for _kid, blob in rows:
        assert blob.startswith(b"sbk1") and PKCS8_ED25519 not in blob
        try:
            serialization.load_der_private_key(blob, password=None)
        except ValueError:
            pass
        else:
            raise AssertionError("a stored blob loads as a private key")
    # With the key-encryption key (kept outside the database) it opens to the key the server
    # publishes: independent AES-GCM, then the public key compared with the JWKS.
    kek = (data / "signing.kek").read_text().strip()
    published = {k["kid"]: k["x"] for k in jwks["keys"]}
    for kid, blob in rows:
        der = open_sealed(kek, kid, blob)
        assert der.startswith(PKCS8_ED25519)
        key = serialization.load_der_private_key(der, password=None)
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == published[kid]


def test_loose_modes_are_tightened_and_plaintext_keys_sealed_on_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = ServerProcess(data)
    srv.wait_healthy()
    key = srv.api_key()
    assert srv.stop() == 0
    kek = (data / "signing.kek").read_text().strip()
    (kid, blob) = key_rows(data)[0]
    plain = open_sealed(kek, kid, blob)
    # An older store: the key in plaintext, the files readable by everyone.
    with sqlite3.connect(data / "stocksblitz.db") as conn:
        conn.execute("UPDATE signing_keys SET private_key = ? WHERE kid = ?", (plain, kid))
    os.chmod(data, 0o755)
    for name in ("stocksblitz.db", "signing.kek"):
        os.chmod(data / name, 0o644)
    again = ServerProcess(data)
    try:
        again.wait_healthy()
        log = again.log()
        assert "tightened to 700" in log and "tightened to 600" in log
        assert "sealed a signing key that was stored in plaintext" in log
        assert plain.hex() not in log and kek not in log
        assert mode(data) == 0o700
        assert mode(data / "stocksblitz.db") == 0o600 and mode(data / "signing.kek") == 0o600
        (kid2, blob2) = key_rows(data)[0]
        assert kid2 == kid and blob2.startswith(b"sbk1") and open_sealed(kek, kid, blob2) == plain
        # The same key still signs: credentials from before work.
        status, _, _ = http_call(again.url + "/v1/users/me", token=key)
        assert status == 200
    finally:
        again.stop()


def test_a_key_the_server_cannot_open_stops_it_with_a_clear_message(tmp_path: Path) -> None:
    import subprocess

    data = tmp_path / "data"
    srv = ServerProcess(data)
    srv.wait_healthy()
    assert srv.stop() == 0

    def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        full.update(env)
        return subprocess.run(
            [
                server_executable(),
                "--addr",
                "127.0.0.1:0",
                "--data-dir",
                str(data),
                "--identity-addr",
                "off",
                "--backfill-days",
                "0",
                "--source",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=full,
        )

    other = base64.b64encode(os.urandom(32)).decode()
    out = start({"STOCKSBLITZ_KEK": other})
    assert out.returncode == 1
    assert "is not the one the store's keys were sealed with" in out.stderr, out.stderr
    assert other not in out.stderr
    out = start({"STOCKSBLITZ_KEK": "not-a-key"})
    assert out.returncode == 1 and "STOCKSBLITZ_KEK" in out.stderr and "not-a-key" not in out.stderr
    (data / "signing.kek").rename(tmp_path / "moved.kek")
    out = start({})
    assert out.returncode == 1
    assert "there is no key-encryption key at" in out.stderr, out.stderr
    # Pointing --kek-file at it again works.
    out_ok = ServerProcess(data, ["--kek-file", str(tmp_path / "moved.kek")])
    try:
        out_ok.wait_healthy()
    finally:
        out_ok.stop()


def test_a_database_outage_does_not_turn_valid_api_keys_into_invalid_ones(tmp_path: Path) -> None:
    import statistics
    import time
    import uuid

    import psycopg

    from conftest import Proxy, new_user, pg_url, wait_for

    schema = f"t_outage_keys_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    proxy = Proxy(("127.0.0.1", 5432))
    proxy.start()
    url = pg_url().replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    sep = "&" if "?" in url else "?"
    srv = ServerProcess(
        tmp_path / "data",
        ["--source", "none", "--registration", "open"],
        env={"DATABASE_URL": f"{url}{sep}options=-csearch_path%3D{schema}"},
    )
    try:
        srv.wait_healthy()
        used = new_user(srv, "outage-used@example.com")[1]
        unused = new_user(srv, "outage-unused@example.com")[1]
        path = "/quote?symbol=NIFTY%2050"  # the snapshot only: no store on the request path

        def timed(token: str) -> tuple[int, str, float]:
            t = time.perf_counter()
            status, _, body = http_call(srv.url + path, token=token, timeout=10)
            code = body.get("code", "") if isinstance(body, dict) else ""
            return status, code, time.perf_counter() - t

        assert timed(used)[0] == 200
        time.sleep(5.5)  # the key's cached record is now older than its 5 s lifetime
        proxy.cut()
        used_s, unused_s = [], []
        for _ in range(20):
            status, code, secs = timed(used)
            assert (status, code) == (200, ""), (status, code)
            used_s.append(secs)
            status, code, secs = timed(unused)
            assert (status, code) == (503, "store_unavailable"), (status, code)
            unused_s.append(secs)
        # A well-formed key nobody has: unavailable too, never "invalid" while the store is down.
        status, code, _ = timed("sb_0123abcd_" + "0" * 40)
        assert (status, code) == (503, "store_unavailable")
        assert max(used_s) < 1.5 and max(unused_s) < 1.5, (used_s, unused_s)
        print(
            f"\nduring the outage: cached key median {statistics.median(used_s) * 1000:.1f} ms, "
            f"unchecked key median {statistics.median(unused_s) * 1000:.1f} ms "
            f"(max {max(unused_s) * 1000:.0f} ms)"
        )
        proxy.restore()
        wait_for(lambda: timed(unused)[0] == 200, timeout=30, what="the store back")
    finally:
        proxy.restore()
        srv.stop()
        with psycopg.connect(pg_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_logins_stay_fast_while_redis_is_down(tmp_path: Path) -> None:
    """The shared login limiter lives in Redis; with Redis gone a login falls back to the
    in-process limiter at once (a short timeout, then a circuit breaker) instead of waiting out
    reconnects, and still limits."""
    import socket
    import statistics
    import subprocess
    import time

    from conftest import free_port, new_user, wait_for

    port = free_port()
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, what="redis up")
    srv = ServerProcess(
        tmp_path / "data",
        ["--source", "none"],
        env={"REDIS_URL": f"redis://127.0.0.1:{port}"},
    )
    try:
        srv.wait_healthy()
        email, password = "redis-down@example.com", "Test-User-Password-123!"
        new_user(srv, email)

        def login(pw: str) -> tuple[int, float]:
            t = time.perf_counter()
            status, _, _ = http_call(
                srv.url + "/v1/auth/login",
                "POST",
                {"email": email, "password": pw},
                auth=False,
                timeout=30,
            )
            return status, time.perf_counter() - t

        up = [login(password) for _ in range(3)]
        assert all(s == 200 for s, _ in up)
        redis.kill()
        redis.wait()
        down = [login(password) for _ in range(10)]
        assert all(s == 200 for s, _ in down), down
        secs = [t for _, t in down]
        # No login waits out Redis (reconnects, timeouts): each costs what one with Redis up
        # does (argon2 dominates), measured against this machine's own pace rather than a
        # fixed figure, so a loaded machine does not fail it.
        up_secs = [t for _, t in up]
        assert statistics.median(secs) < statistics.median(up_secs) * 1.5 + 0.25, (up_secs, secs)
        assert max(secs) < max(up_secs) * 2 + 0.5, (up_secs, secs)
        # Still limited, in process: five failures for the pair, then 429.
        codes = [login("Wrong-Password-123!")[0] for _ in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429, codes
        print(
            f"\nlogin with Redis up: median {statistics.median(t for _, t in up) * 1000:.0f} ms; "
            f"down: median {statistics.median(secs) * 1000:.0f} ms, max {max(secs) * 1000:.0f} ms"
        )
    finally:
        redis.kill()
        srv.stop()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _server_pid(srv: ServerProcess) -> int:
    return srv.proc.pid


def test_slow_silent_and_idle_connections_are_closed_and_capped(tmp_path: Path) -> None:
    """Slowloris (headers one byte at a time), silent connections and idle keep-alive ones are
    closed after the header deadline; beyond the connection cap a new connection is closed at
    once. Bounded loops, loopback only."""
    import socket
    import time

    from conftest import wait_for

    srv = ServerProcess(
        tmp_path / "data",
        ["--source", "none", "--header-timeout-secs", "2", "--max-connections", "400"],
    )
    try:
        srv.wait_healthy()
        port = srv.port

        def connect() -> socket.socket:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.setblocking(False)
            return s

        def closed(s: socket.socket) -> bool:
            try:
                return s.recv(65536) == b""
            except BlockingIOError:
                return False
            except OSError:
                return True

        slow = [connect() for _ in range(200)]
        for s in slow:
            s.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        silent = [connect() for _ in range(50)]
        idle = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"200 OK" in s.recv(65536)
            s.setblocking(False)
            idle.append(s)
        t0 = time.monotonic()
        # The slow ones keep trickling a header byte every 0.5 s.
        while time.monotonic() - t0 < 6:
            for s in slow:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            time.sleep(0.5)
        results = {
            "slowloris": sum(closed(s) for s in slow),
            "silent": sum(closed(s) for s in silent),
            "idle keep-alive": sum(closed(s) for s in idle),
        }
        print(f"\nclosed by the 2 s header deadline within 6 s: {results}")
        assert results == {"slowloris": 200, "silent": 50, "idle keep-alive": 20}
        for s in slow + silent + idle:
            s.close()

    finally:
        srv.stop()
    # The cap, on a server with a long header deadline: 400 connections held, the next 100
    # closed at once.
    capped = ServerProcess(
        tmp_path / "data2",
        ["--source", "none", "--header-timeout-secs", "60", "--max-connections", "400"],
    )
    try:
        capped.wait_healthy()
        port = capped.port
        held = [connect() for _ in range(400)]
        time.sleep(0.3)
        extra = [connect() for _ in range(100)]
        time.sleep(0.5)
        refused = sum(closed(s) for s in extra)
        alive = sum(not closed(s) for s in held)
        for s in held + extra:
            s.close()
        assert refused == 100 and alive == 400, (refused, alive)
        # Once they are gone the server answers again, and counted the refusals.
        text = wait_for(
            lambda: (r := http_call(capped.url + "/metrics", auth=False))[0] == 200 and r[2],
            what="the server after the flood",
        )
        assert "stocksblitz_connections_refused_total 100" in text
    finally:
        capped.stop()


def test_stalled_websocket_readers_are_dropped_and_oversized_messages_get_1009(
    tmp_path: Path,
) -> None:
    import socket
    import time

    import websockets.sync.client as ws

    from conftest import wait_for

    srv = ServerProcess(tmp_path / "data", ["--demo-clock", "--tick-interval-ms", "100"])
    try:
        srv.wait_healthy()
        srv.wait_quotes("NIFTY")
        key = srv.api_key()
        base_rss = _rss_kb(_server_pid(srv))
        # 300 clients subscribe to every quote and never read.
        req = (
            f"GET /monitor/stream?token={key} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        socks = []
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(req)
            socks.append(s)
        peak = base_rss
        deadline = time.monotonic() + 90
        dropped = 0
        while time.monotonic() < deadline:
            peak = max(peak, _rss_kb(_server_pid(srv)))
            _, _, text = http_call(srv.url + "/metrics", auth=False)
            dropped = int(
                next(
                    line.split()[1]
                    for line in text.splitlines()
                    if line.startswith("stocksblitz_websocket_slow_readers_dropped_total ")
                )
            )
            if dropped >= 300:
                break
            time.sleep(1)
        after = _rss_kb(_server_pid(srv))
        for s in socks:
            s.close()
        print(
            f"\n300 stalled readers: RSS {base_rss / 1024:.0f} MB before, peak {peak / 1024:.0f} MB, "
            f"{after / 1024:.0f} MB after all {dropped} were dropped"
        )
        assert dropped >= 300, dropped
        assert (peak - base_rss) / 300 < 2048, "more than 2 MB per stalled reader"

        # A message over the size limit: closed with 1009.
        url = srv.url.replace("http://", "ws://") + f"/indicators/stream?token={key}"
        with ws.connect(url) as c:
            assert '"auth"' in c.recv(timeout=5)
            c.send("x" * 20_000)
            try:
                c.recv(timeout=5)
            except Exception:
                pass
            code = c.close_code
        assert code == 1009, code
        _, _, text = http_call(srv.url + "/metrics", auth=False)
        assert "stocksblitz_websocket_too_big_closed_total 1" in text
        wait_for(lambda: True)
    finally:
        srv.stop()


def test_input_and_identity_hygiene(tmp_path: Path) -> None:
    import socket

    srv = ServerProcess(tmp_path / "data", ["--source", "none"])
    try:
        srv.wait_healthy()
        url = srv.url
        pw = "Hygiene-Password-123!"
        reg = lambda email: http_call(  # noqa: E731
            url + "/v1/auth/register", "POST", {"email": email, "password": pw}, auth=False
        )
        assert reg("demo2@stocksblitz.local")[0] == 201
        # A full-width d is the same address: taken. A Cyrillic ie is a look-alike: refused.
        status, _, body = reg("\uff44emo2@stocksblitz.local")
        assert status == 409, body
        status, _, body = reg("d\u0435mo2@stocksblitz.local")
        assert status == 400 and "look-alike" in body["detail"], body
        # Logging in with the full-width spelling is the same account.
        status, _, body = http_call(
            url + "/v1/auth/login",
            "POST",
            {"email": "\uff24EMO2@stocksblitz.local", "password": pw},
            auth=False,
        )
        assert status == 200, body

        # Oversized requests are JSON errors like every other.
        status, _, body = http_call(url + "/v1/auth/register", "POST", {"x": "y" * 300_000})
        assert status == 413 and body["code"] == "body_too_large", body
        status, _, body = http_call(url + "/health?" + "a" * 9000, auth=False)
        assert status == 414 and body["code"] == "uri_too_long", body
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        raw.sendall(
            b"GET /health HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000) for i in range(40))
            + b"\r\n"
        )
        answer = raw.recv(65536)
        raw.close()
        assert b"431" in answer.split(b"\r\n")[0] and b'"code":"headers_too_large"' in answer

        # A client request id is echoed only when 1-128 visible characters.
        import urllib.request

        def rid(value: str) -> str:
            r = urllib.request.Request(url + "/health", headers={"X-Request-ID": value})
            with urllib.request.urlopen(r, timeout=5) as resp:
                return resp.headers["x-request-id"]

        assert rid("abc-123") == "abc-123"
        long_id = rid("z" * 500)
        assert long_id != "z" * 500 and len(long_id) == 36

        # A malformed option symbol is an error naming what is wrong, never an equity.
        status, _, body = http_call(url + "/quote?symbol=NIFTY26D0124500", token=srv.api_key())
        assert status == 400 and ("CE" in body["detail"] or "PE" in body["detail"]), body
        # Negative numbers where they mean nothing.
        for path, param in [
            ("/candles?symbol=NIFTY%2050&timeframe=1m&from=-1", "from"),
            (
                "/indicators/at-offset?symbol=NIFTY%2050&timeframe=1m&indicators=RSI_14&offset=-0",
                "offset",
            ),
            ("/instruments?offset=-0", "offset"),
        ]:
            status, _, body = http_call(url + path, token=srv.api_key())
            assert status == 400 and param in body["detail"], (path, body)

        # 2,000 bad keys: counted in /metrics, a line in the log per 10 s, not per request.
        before = srv.log().count("authentication failed")
        for i in range(2000):
            http_call(url + "/quote?symbol=NIFTY", token=f"sb_{i:08x}_" + "0" * 40)
        lines = srv.log().count("authentication failed") - before
        assert lines <= 3, lines
        _, _, text = http_call(url + "/metrics", auth=False)
        assert 'stocksblitz_auth_failures_total{reason="invalid_key"} 2000' in text or (
            "invalid_key" in text
        )
    finally:
        srv.stop()


def test_registration_is_an_operator_choice(tmp_path: Path) -> None:
    admin = {"email": "reg-admin@example.com", "password": "Reg-Admin-Password-1!"}
    srv = ServerProcess(
        tmp_path / "data",
        ["--source", "none", "--registration", "closed"],
        env={
            "STOCKSBLITZ_ADMIN_EMAIL": admin["email"],
            "STOCKSBLITZ_ADMIN_PASSWORD": admin["password"],
        },
    )
    try:
        srv.wait_healthy()
        assert 'registration="closed"' in srv.log() or "closed" in srv.log()
        body = {"email": "newcomer@example.com", "password": "Newcomer-Password-1!"}
        status, _, err = http_call(srv.url + "/v1/auth/register", "POST", body, auth=False)
        assert status == 403 and err["code"] == "registration_closed", err
        # An administrator still creates accounts through the route.
        _, _, login = http_call(srv.url + "/v1/auth/login", "POST", admin, auth=False)
        status, _, ok = http_call(
            srv.url + "/v1/auth/register", "POST", body, token=login["access_token"]
        )
        assert status == 201, ok
        # A user (not an admin) cannot.
        _, _, user = http_call(srv.url + "/v1/auth/login", "POST", body, auth=False)
        other = {"email": "second@example.com", "password": "Second-Password-12!"}
        status, _, err = http_call(
            srv.url + "/v1/auth/register", "POST", other, token=user["access_token"]
        )
        assert status == 403, err
    finally:
        srv.stop()
