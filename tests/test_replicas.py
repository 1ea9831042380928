"""Order updates on `/orders/stream`, and several replicas on one PostgreSQL and Redis: any
replica accepts orders for any account (the one matching it answers), every order fills exactly
once, updates reach every replica's sockets, and when the matching replica dies (kill -9)
another takes its accounts over within seconds."""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import ServerProcess, http_call, http_get, new_user, pg_url, wait_for

websockets = pytest.importorskip("websockets")
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.sync.client import connect as ws_connect  # noqa: E402

psycopg = pytest.importorskip("psycopg")

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
SIM = ["--demo-clock", "--tick-interval-ms", "500", "--bar-grace-ms", "0"]


def future(srv: ServerProcess) -> str:
    _, _, inst = http_call(srv.url + "/instruments?underlying=NIFTY&kind=future&limit=5")
    return str(sorted(inst["instruments"], key=lambda i: i["expiry"])[0]["tradingsymbol"])


def atm_call(srv: ServerProcess) -> str:
    _, _, chain = http_call(srv.url + "/fo/option-chain?underlying=NIFTY")
    row = min(chain["strikes"], key=lambda r: abs(r["strike"] - chain["spot"]))
    return str(row["call"]["tradingsymbol"])


def order(sym: str, **kw: Any) -> dict[str, Any]:
    return {
        "tradingsymbol": sym,
        "transaction_type": "BUY",
        "quantity": 65,
        "order_type": "MARKET",
        "product": "NRML",
        **kw,
    }


def post_order(srv: ServerProcess, acc: str, key: str, body: dict[str, Any], idem: str) -> Any:
    req = urllib.request.Request(
        srv.url + f"/accounts/{acc}/orders", data=json.dumps(body).encode(), method="POST"
    )
    req.add_header("Authorization", f"Bearer {key}")
    req.add_header("Content-Type", "application/json")
    req.add_header("Idempotency-Key", idem)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["data"]
    except urllib.error.HTTPError as e:
        raise AssertionError(f"{srv.url}: {e.code} {e.read()!r}") from None


class Stream:
    """A `/orders/stream` client collecting messages on a thread."""

    def __init__(self, url: str, token: str) -> None:
        self._cm = ws_connect(url.replace("http://", "ws://") + f"/orders/stream?token={token}")
        self.ws = self._cm.__enter__()
        first = json.loads(self.ws.recv(timeout=10))
        assert first == {"type": "success", "action": "auth"}, first
        self.messages: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                self.messages.append(json.loads(raw))
        except ConnectionClosed:
            pass

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m["data"] for m in self.messages if m["type"] == kind]

    def close(self) -> None:
        self._cm.__exit__(None, None, None)
        self.thread.join(timeout=5)


def refused(url: str) -> int:
    """The close code of a stream that refuses the connection."""
    with ws_connect(url) as ws:
        try:
            while True:
                msg = json.loads(ws.recv(timeout=10))
                assert msg.get("type") == "error", f"the stream accepted the connection: {msg}"
        except ConnectionClosed as e:
            assert e.rcvd is not None
            return int(e.rcvd.code)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("stream") / "data", SIM)
    s.wait_healthy()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def test_orders_stream_reports_every_status_change_and_fill(srv: ServerProcess) -> None:
    key = new_user(srv, "stream1@example.com")[1]
    other = Stream(srv.url, new_user(srv, "stream2@example.com")[1])
    mine = Stream(srv.url, key)
    try:
        _, _, accs = http_call(srv.url + "/accounts", token=key)
        acc = accs["data"][0]["account_id"]
        sym = future(srv)
        status, _, placed = http_call(
            srv.url + f"/accounts/{acc}/orders",
            "POST",
            order(sym, order_type="LIMIT", price=100.0),
            token=key,
        )
        assert status == 200, placed
        lid = placed["data"]["order_id"]
        http_call(srv.url + f"/accounts/{acc}/orders/{lid}", "DELETE", token=key)
        _, _, filled = http_call(srv.url + f"/accounts/{acc}/orders", "POST", order(sym), token=key)
        fid = filled["data"]["order_id"]
        # The fill's trade and its order's COMPLETE are stored (and sent) in that order, one
        # message after the other: waiting for the trade alone raced the reader for the second.
        wait_for(
            lambda: (
                len(mine.of("trade")) >= 1
                and any(
                    o["order_id"] == fid and o["status"] == "COMPLETE" for o in mine.of("order")
                )
            ),
            what="the trade and the order's COMPLETE update",
        )
        by_order: dict[str, list[str]] = {}
        for o in mine.of("order"):
            by_order.setdefault(o["order_id"], []).append(o["status"])
        assert by_order[lid] == ["OPEN", "CANCELLED"], by_order
        assert by_order[fid][-1] == "COMPLETE"
        [t] = mine.of("trade")
        assert t["order_id"] == fid and t["quantity"] == 65 and t["tradingsymbol"] == sym
        # Kite's order fields, as the order book shows them.
        _, _, o = http_call(srv.url + f"/accounts/{acc}/orders/{fid}", token=key)
        last = next(x for x in reversed(mine.of("order")) if x["order_id"] == fid)
        assert last["average_price"] == o["data"]["average_price"] and last["instrument_token"]
        time.sleep(0.5)
        assert other.messages == [], "another user's socket saw these orders"
    finally:
        mine.close()
        other.close()


def test_orders_stream_refuses_a_bad_token_and_another_users_account(srv: ServerProcess) -> None:
    ws_url = srv.url.replace("http://", "ws://") + "/orders/stream"
    assert refused(ws_url + "?token=sb_bad_bad") == 1008
    a = new_user(srv, "stream3@example.com")[1]
    b = new_user(srv, "stream4@example.com")[1]
    _, _, accs = http_call(srv.url + "/accounts", token=a)
    acc = accs["data"][0]["account_id"]
    assert refused(ws_url + f"?token={b}&account_id={acc}") == 1008


def test_two_replicas_fill_each_order_once_and_take_over_a_dead_one(tmp_path: Path) -> None:
    schema = f"t_replicas_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg_url() else "?"
    env = {
        "DATABASE_URL": f"{pg_url()}{sep}options=-csearch_path%3D{schema}",
        "REDIS_URL": REDIS_URL,
        # Replicas on one database share the key-encryption key of its signing keys.
        "STOCKSBLITZ_KEK": base64.b64encode(os.urandom(32)).decode(),
    }
    # Self-registration is closed by default off the embedded store: the tests register users.
    prefix = ["--redis-prefix", f"sbtest{uuid.uuid4().hex[:8]}", "--registration", "open"]
    # A runs the simulator and publishes it to Redis; B consumes the same feed.
    a = ServerProcess(tmp_path / "a", ["--source", "simulator", *SIM, *prefix], env=env)
    b = None
    stream = None
    try:
        a.wait_healthy()
        a.wait_quotes("NIFTY")
        b = ServerProcess(tmp_path / "b", ["--source", "redis", *SIM, *prefix], env=env)
        b.wait_healthy()
        b.wait_quotes("NIFTY")
        key = new_user(a, "replicas@example.com")[1]
        _, _, accs = http_call(b.url + "/accounts", token=key)
        acc = accs["data"][0]["account_id"]
        sym = atm_call(a)  # a long option needs only its premium: seven fit in the balance
        stream = Stream(b.url, key)

        # Orders for one account through both replicas, each with its own Idempotency-Key
        # sent twice (a client retry): every order is placed and filled exactly once.
        placed = []
        for i in range(6):
            first = post_order(a if i % 2 == 0 else b, acc, key, order(sym), f"k{i}")
            retry = post_order(b if i % 2 == 0 else a, acc, key, order(sym), f"k{i}")
            assert first == retry, "a retry on the other replica answers the first placement"
            placed.append(first["order_id"])
        assert len(set(placed)) == 6
        for srv in (a, b):
            _, _, pos = http_call(srv.url + f"/accounts/{acc}/positions", token=key)
            assert [p["quantity"] for p in pos["data"]] == [6 * 65]
            _, _, trades = http_call(srv.url + f"/accounts/{acc}/trades", token=key)
            assert sorted(t["order_id"] for t in trades["data"]) == sorted(placed)
        # Updates of orders matched on one replica reach the other's sockets through Redis.
        wait_for(lambda: len(stream.of("trade")) == 6, what="six trades on B's stream")
        assert sorted(t["order_id"] for t in stream.of("trade")) == sorted(placed)
        forwarded = [
            line
            for line in http_get(b.url + "/metrics")[2].splitlines()
            + http_get(a.url + "/metrics")[2].splitlines()
            if line.startswith("stocksblitz_trading_forwarded_total ")
        ]
        assert sum(float(x.split()[1]) for x in forwarded) >= 3, forwarded

        # Kill the replica matching the account: the other serves it within seconds, from the
        # stored log (the six fills are there, none applied twice).
        with psycopg.connect(pg_url(), autocommit=True) as conn:
            (holder,) = conn.execute(
                f"SELECT l.holder FROM {schema}.broker_leases l JOIN {schema}.paper_accounts p "
                "ON p.shard = l.shard WHERE p.account_id = %s",
                (int(acc),),
            ).fetchone()
        victim, survivor = (a, b) if holder.endswith(a.url) else (b, a)
        assert holder.endswith(victim.url), holder
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        t0 = time.monotonic()

        def accepted() -> bool:
            s, _, _ = http_call(
                survivor.url + f"/accounts/{acc}/orders", "POST", order(sym), token=key
            )
            return s == 200

        wait_for(accepted, timeout=30, what="the survivor taking the account over")
        took = time.monotonic() - t0
        assert took < 15, f"take-over took {took:.1f} s"
        _, _, pos = http_call(survivor.url + f"/accounts/{acc}/positions", token=key)
        assert [p["quantity"] for p in pos["data"]] == [7 * 65]
        _, _, trades = http_call(survivor.url + f"/accounts/{acc}/trades", token=key)
        assert len(trades["data"]) == 7
        print(f"take-over after kill -9: {took:.1f} s")
    finally:
        if stream is not None:
            stream.close()
        for s in (a, b):
            if s is not None and s.proc.poll() is None:
                s.stop()
        with psycopg.connect(pg_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
