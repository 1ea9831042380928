"""Live ingestion through real processes: the legacy ticker publishing to a real Redis, the
server consuming it (snapshot, bars, rejections), Redis killed and restarted mid-feed, and the
built-in simulator (listing, prices, back-fill, demo clock)."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

import stocksblitz as sb
from conftest import IST, Proxy, ServerProcess, free_port, http_get, wait_for

ROOT = Path(__file__).resolve().parent.parent
TICKER = Path(__file__).resolve().parent / "tools" / "legacy_ticker.py"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


class Subscriber(threading.Thread):
    """A raw RESP pattern subscriber recording the last valid payload per tradingsymbol."""

    def __init__(self, url: str, pattern: str) -> None:
        super().__init__(daemon=True)
        host, port = url.split("//")[1].split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.file = self.sock.makefile("rb")
        self.sock.sendall(
            b"*2\r\n$10\r\nPSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(pattern), pattern.encode())
        )
        self.last: dict[str, dict[str, Any]] = {}
        self.ready = threading.Event()
        self.stop = False

    def read(self) -> Any:
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        if kind == b"$":
            n = int(rest)
            data = self.file.read(n + 2)[:-2]
            return data
        return rest

    def run(self) -> None:
        while not self.stop:
            try:
                msg = self.read()
            except (OSError, ValueError):
                return
            if not isinstance(msg, list):
                continue
            if msg[0] == b"psubscribe":
                self.ready.set()
                continue
            if msg[0] != b"pmessage":
                continue
            try:
                d = json.loads(msg[3])
            except ValueError:
                continue
            if not isinstance(d, dict):
                continue
            price = d.get("price", d.get("close"))
            ok = isinstance(price, (int, float)) and math.isfinite(price) and price > 0
            if not ok or not isinstance(d.get("ts"), int) or not 946684800 <= d["ts"] <= 4102444800:
                continue
            if "type" in d and d["type"] not in ("CE", "PE", "FUT", "EQ"):
                continue
            name = d.get("tradingsymbol") or d.get("symbol")
            try:
                key = sb.parse_symbol(name).tradingsymbol
            except (ValueError, TypeError):
                continue
            self.last[key] = d

    def close(self) -> None:
        self.stop = True
        self.sock.close()


def run_ticker(prefix: str, *args: str, redis: str = REDIS_URL) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(TICKER), "--redis", redis, "--prefix", prefix, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_legacy_ticker_feed_to_snapshot_and_bars(tmp_path: Path) -> None:
    prefix = f"ticker:t{uuid.uuid4().hex[:8]}"
    srv = ServerProcess(
        tmp_path / "data",
        ["--source", "redis", "--redis-pattern", f"{prefix}:*", "--demo-clock"],
        env={"REDIS_URL": REDIS_URL},
    )
    srv.wait_healthy()
    wait_for(
        lambda: http_get(srv.url + "/health")[2]["ingest"]["connected"], what="redis connected"
    )
    sub = Subscriber(REDIS_URL, f"{prefix}:*")
    sub.start()
    assert sub.ready.wait(5)
    try:
        summary = run_ticker(prefix, "--duration", "4", "--rate", "2", "--bad", "0.05")
        time.sleep(1.0)
        _, _, snap = http_get(srv.url + "/monitor/snapshot")
        quotes: dict[str, Any] = {}
        for u in snap["underlyings"].values():
            if u["underlying"]:
                quotes[u["underlying"]["symbol"]] = u["underlying"]["ltp"]
            for group in ("futures", "options"):
                for ts, q in u[group].items():
                    assert q["tradingsymbol"] == ts and q["price"] == q["ltp"]
                    quotes[ts] = q["ltp"]
        assert sub.last, "the subscriber saw no payloads"
        for key, payload in sub.last.items():
            want = payload.get("price", payload.get("close"))
            assert quotes.get(key) == pytest.approx(want), (
                f"{key}: snapshot {quotes.get(key)} vs last published {want}"
            )
        # The underlying is there for both indices (from the options-channel EQ tick and the
        # underlying channel), and an option's price is its own.
        _, _, nifty = http_get(srv.url + "/monitor/snapshot?underlying=NIFTY")
        assert nifty["underlying"] is not None and nifty["underlying"]["symbol"] == "NIFTY 50"
        _, _, bank = http_get(srv.url + "/monitor/snapshot?underlying=BANKNIFTY")
        assert bank["underlying"]["symbol"] == "NIFTY BANK"
        assert all(q["ltp"] < nifty["underlying"]["ltp"] / 10 for q in nifty["options"].values())
        # Malformed payloads are counted by reason; nothing else is disturbed.
        health = http_get(srv.url + "/health")[2]
        assert health["ingest"]["rejected_total"] == summary["bad"] > 0
        _, _, metrics = http_get(srv.url + "/metrics")
        assert metric(metrics, "stocksblitz_ticks_rejected_total") >= 0
        reasons = [
            ln for ln in metrics.splitlines() if ln.startswith("stocksblitz_ticks_rejected_total{")
        ]
        assert sum(float(ln.rsplit(" ", 1)[1]) for ln in reasons) == summary["bad"]
        assert health["ingest"]["ticks_total"] == summary["published"] - summary["bad"]
    finally:
        sub.close()
    assert srv.stop() == 0
    # SIGTERM flushed the open bars; volumes come from cumulative deltas.
    with sqlite3.connect(tmp_path / "data" / "stocksblitz.db") as conn:
        rows = conn.execute(
            "SELECT instrument, SUM(volume) FROM bars WHERE timeframe='1m' GROUP BY instrument"
        ).fetchall()
    vols = dict(rows)
    assert "NIFTY 50" in vols and vols["NIFTY 50"] == 0
    option_vols = [v for k, v in vols.items() if k.endswith(("CE", "PE"))]
    assert option_vols and max(option_vols) > 0
    # Each instrument's summed bar volume can never exceed its last cumulative volume.
    for key, payload in sub.last.items():
        if key in vols and "volume" in payload and key.endswith(("CE", "PE", "FUT")):
            assert vols[key] <= payload["volume"], key


@pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server binary not installed"
)
def test_a_feed_faster_than_processing_is_shed_and_counted_never_cut_off(tmp_path: Path) -> None:
    """The reader never waits on processing, so Redis never cuts the server off as a slow
    subscriber; with a queue too small for the flood, whole batches are dropped and counted by
    reason. Every published tick is accounted for: accepted + rejected + dropped = published."""
    prefix = f"ticker:f{uuid.uuid4().hex[:8]}"
    srv = ServerProcess(
        tmp_path / "data",
        [
            "--source",
            "redis",
            "--redis-pattern",
            f"{prefix}:*",
            "--demo-clock",
            "--ingest-queue-bytes",
            "65536",
        ],
        env={"REDIS_URL": REDIS_URL},
    )
    try:
        srv.wait_healthy()
        wait_for(
            lambda: http_get(srv.url + "/health")[2]["ingest"]["connected"],
            what="redis connected",
        )
        summary = run_ticker(prefix, "--rate", "0", "--pool", "5000", "--count", "200000")
        assert summary["published"] == 200_000

        def settled() -> dict[str, Any] | None:
            h = http_get(srv.url + "/health")[2]
            i = h["ingest"]
            seen = i["ticks_total"] + i["rejected_total"] + i["queue"]["dropped"]
            return h if seen >= 200_000 and i["queue"]["messages"] == 0 else None

        h = wait_for(settled, timeout=120, what="every tick accounted for")
        ingest = h["ingest"]
        assert ingest["ticks_total"] + ingest["rejected_total"] + ingest["queue"]["dropped"] == (
            200_000
        )
        assert ingest["queue"]["dropped"] > 0, "a 64 KiB queue must overflow under this flood"
        assert ingest["ticks_total"] > 0
        assert ingest["reconnects"] == 0, "Redis cut the subscriber off"
        assert h["status"] == "degraded"
        _, _, text = http_get(srv.url + "/metrics")
        assert (
            metric(text, 'stocksblitz_ingest_dropped_total{reason="queue_full"}')
            == (ingest["queue"]["dropped"])
        )
        assert "ingest queue full: ticks dropped" in srv.log()
    finally:
        srv.stop()


def test_redis_restart_mid_feed(tmp_path: Path) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}"

    def start_redis() -> subprocess.Popen:
        p = subprocess.Popen(
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
        return p

    redis = start_redis()
    prefix = f"ticker:r{uuid.uuid4().hex[:6]}"
    srv = ServerProcess(
        tmp_path / "data",
        ["--source", "redis", "--redis-pattern", f"{prefix}:*", "--demo-clock"],
        env={"REDIS_URL": url},
    )
    try:
        srv.wait_healthy()
        wait_for(lambda: http_get(srv.url + "/health")[2]["ingest"]["connected"], what="connected")
        first = run_ticker(prefix, "--duration", "1", "--rate", "5", redis=url)
        wait_for(
            lambda: http_get(srv.url + "/health")[2]["ingest"]["ticks_total"] >= first["published"],
            what="first ticks",
        )
        redis.kill()
        redis.wait()
        health = wait_for(
            lambda: (h := http_get(srv.url + "/health")[2]) and not h["ingest"]["connected"] and h,
            what="disconnect seen",
        )
        assert health["status"] == "degraded" and health["bus"]["status"] == "disconnected"
        assert srv.proc.poll() is None, "the server must survive a Redis outage"
        redis = start_redis()
        wait_for(
            lambda: http_get(srv.url + "/health")[2]["ingest"]["connected"],
            timeout=20,
            what="reconnected",
        )
        before = http_get(srv.url + "/health")[2]["ingest"]["ticks_total"]
        second = run_ticker(prefix, "--duration", "1", "--rate", "5", redis=url)
        after = wait_for(
            lambda: (
                (t := http_get(srv.url + "/health")[2]["ingest"])
                and t["ticks_total"] >= before + second["published"]
                and t
            ),
            what="ticks after restart",
        )
        assert after["reconnects"] >= 1
        _, _, metrics = http_get(srv.url + "/metrics")
        assert metric(metrics, "stocksblitz_feed_reconnects_total") >= 1
        assert http_get(srv.url + "/health")[2]["status"] == "healthy"
    finally:
        srv.stop()
        redis.kill()


def test_simulator_listing_prices_backfill_and_demo_clock(tmp_path: Path) -> None:
    srv = ServerProcess(
        tmp_path / "data",
        [
            "--demo-clock",
            "--backfill-days",
            "2",
            "--tick-interval-ms",
            "100",
            "--bar-grace-ms",
            "0",
        ],
    )
    srv.wait_healthy()
    today = dt.datetime.now(IST).date()
    # Listing follows the calendar: near and next monthly futures, the two nearest weeklies
    # and the nearest monthly chain, ATM ± 10 strikes, both rights.
    monthly = sb.next_expiries("NIFTY", 2, "monthly", today)
    weekly = sb.next_expiries("NIFTY", 2, "weekly", today)
    listed_expiries = set(weekly) | {monthly[0]}

    def full_round() -> dict | None:
        # Ticks of one round land one by one, so a read can fall mid-round: wait until the
        # round's last chain (the monthly) has been seen.
        s = http_get(srv.url + "/monitor/snapshot?underlying=NIFTY")[2]
        seen = {dt.date.fromisoformat(q["expiry"]) for q in s["options"].values()}
        complete = seen >= listed_expiries and len(s["options"]) >= 42 * len(listed_expiries)
        return s if s["underlying"] and complete else None

    snap = wait_for(full_round, what="a full simulated NIFTY round")
    futures = {sb.parse_symbol(t).expiry for t in snap["futures"]}
    assert futures == set(monthly)
    option_expiries = {dt.date.fromisoformat(q["expiry"]) for q in snap["options"].values()}
    assert option_expiries == listed_expiries
    per_expiry = len(snap["options"]) / len(option_expiries)
    assert per_expiry == 42
    for ts, q in snap["options"].items():
        info = sb.parse_symbol(ts)
        assert (info.expiry.isoformat(), info.strike, info.option_type) == (
            q["expiry"],
            q["strike"],
            q["type"],
        )
        assert q["is_mock"] is True
    # Option prices are consistent with the model: put-call parity against the future of the
    # same expiry (Black-76), within a couple of ticks of rounding.
    fut_ts = next(t for t in snap["futures"] if sb.parse_symbol(t).expiry == monthly[0])
    f = snap["futures"][fut_ts]["ltp"]
    t_years = (
        dt.datetime.combine(monthly[0], dt.time(15, 30), IST) - dt.datetime.now(IST)
    ).total_seconds() / (365 * 86400)
    df = math.exp(-0.065 * t_years)
    checked = 0
    for q in snap["options"].values():
        if q["type"] != "CE" or q["expiry"] != monthly[0].isoformat():
            continue
        put = next(
            (
                p
                for p in snap["options"].values()
                if p["type"] == "PE" and p["strike"] == q["strike"] and p["expiry"] == q["expiry"]
            ),
            None,
        )
        if put is None or abs(q["strike"] - f) > 500:
            continue
        assert q["ltp"] - put["ltp"] == pytest.approx(
            df * (f - q["strike"]), abs=max(1.0, 0.0002 * f)
        )
        assert q["iv"] is not None and 0.05 < q["iv"] < 0.5
        checked += 1
    assert checked >= 5
    # BANKNIFTY has monthly options only; SENSEX weeklies are BSE contracts.
    bank = http_get(srv.url + "/monitor/snapshot?underlying=BANKNIFTY")[2]
    assert {q["expiry"] for q in bank["options"].values()} == {
        sb.next_expiries("BANKNIFTY", 1, "monthly", today)[0].isoformat()
    }
    # Back-fill: 2 sessions of 375 one-minute bars per instrument, then live bars at any hour.
    health = srv.wait_backfilled(timeout=60)
    assert health["status"] == "healthy"
    # Live bars on the demo clock (a virtual session, whatever the hour): from its start.
    demo_start = http_get(srv.url + "/clock")[2]["now_ms"] // 1000 - 60
    wait_for(
        lambda: (
            http_get(srv.url + "/candles?symbol=NIFTY%2050&timeframe=1m&limit=3")[2]["candles"][-1][
                "time"
            ]
            >= demo_start
        ),
        what="a live bar",
    )
    time.sleep(1.5)
    assert srv.stop() == 0
    assert "back-fill done" in srv.log() and "back-fill progress" in srv.log()
    with sqlite3.connect(tmp_path / "data" / "stocksblitz.db") as conn:
        days = conn.execute(
            "SELECT COUNT(DISTINCT (start_ts + 19800) / 86400) FROM bars WHERE instrument = 'NIFTY 50' AND start_ts < ?",
            (int(dt.datetime.combine(today, dt.time(0, 0), IST).timestamp()),),
        ).fetchone()[0]
        per_day = conn.execute(
            "SELECT COUNT(*) FROM bars WHERE instrument = 'NIFTY 50'"
        ).fetchone()[0]
        live = conn.execute(
            "SELECT COUNT(*) FROM bars WHERE start_ts >= ?", (demo_start,)
        ).fetchone()[0]
    assert days == 2
    assert per_day >= 2 * 375
    assert live > 0, "the demo clock must produce bars at any hour"


def test_database_outage_during_the_feed_loses_no_bar(tmp_path: Path) -> None:
    psycopg = pytest.importorskip("psycopg")
    from conftest import pg_url

    schema = f"t_outage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    proxy = Proxy(("127.0.0.1", 5432))
    proxy.start()
    url = pg_url().replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    sep = "&" if "?" in url else "?"
    srv = ServerProcess(
        tmp_path / "data",
        ["--demo-clock", "--tick-interval-ms", "200", "--bar-grace-ms", "0"],
        env={"DATABASE_URL": f"{url}{sep}options=-csearch_path%3D{schema}"},
    )
    try:
        srv.wait_healthy()
        proxy.cut()
        # Bars close at the next minute boundary while the database is unreachable: they wait
        # in the buffer, health says so, the process keeps running.
        h = wait_for(
            lambda: (
                (x := http_get(srv.url + "/health")[2]) and x["ingest"]["buffer_depth"] > 0 and x
            ),
            timeout=75,
            what="bars buffered",
        )
        assert h["status"] == "unhealthy" and h["database"]["status"] == "down"
        # Keep it down until a write attempt has failed (the retry path, not just a slow write).
        h = wait_for(
            lambda: (
                (x := http_get(srv.url + "/health")[2]) and x["ingest"]["write_failures"] > 0 and x
            ),
            timeout=30,
            what="a failed write",
        )
        closed_while_down = h["ingest"]["bars_closed"]
        assert srv.proc.poll() is None
        proxy.restore()
        h = wait_for(
            lambda: (
                (x := http_get(srv.url + "/health")[2])
                and x["ingest"]["buffer_depth"] == 0
                and x["status"] == "healthy"
                and x
            ),
            timeout=30,
            what="buffer drained",
        )
        assert h["ingest"]["write_failures"] > 0 and h["ingest"]["bars_dropped"] == 0
        assert h["ingest"]["bars_written"] >= closed_while_down
        assert srv.stop() == 0
        with psycopg.connect(pg_url(), autocommit=True) as conn:
            stored = conn.execute(f"SELECT COUNT(*) FROM {schema}.bars").fetchone()[0]
        assert stored >= closed_while_down > 0
        assert "database writes recovered" in srv.log()
    finally:
        srv.stop()
        proxy.cut()
        with psycopg.connect(pg_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_simulator_publishes_to_redis_and_replicas_share_the_feed(tmp_path: Path) -> None:
    # Replica A runs the simulator, which publishes the legacy formats to Redis and consumes
    # them like any feed; replica B only consumes. Both end up with the same quotes.
    a = ServerProcess(
        tmp_path / "a",
        ["--source", "simulator", "--demo-clock", "--tick-interval-ms", "200"],
        env={"REDIS_URL": REDIS_URL},
    )
    b = ServerProcess(
        tmp_path / "b", ["--source", "redis", "--demo-clock"], env={"REDIS_URL": REDIS_URL}
    )
    try:
        a.wait_healthy()
        b.wait_healthy()
        ha = wait_for(
            lambda: (
                (h := http_get(a.url + "/health")[2]) and h["ingest"]["ticks_total"] > 1000 and h
            ),
            what="A ingesting",
        )
        assert ha["bus"]["kind"] == "redis" and ha["ingest"]["source"] == "simulator"
        wait_for(
            lambda: http_get(b.url + "/health")[2]["ingest"]["ticks_total"] > 1000,
            what="B ingesting",
        )
        qa = http_get(a.url + "/monitor/snapshot?underlying=SENSEX")[2]
        qb = http_get(b.url + "/monitor/snapshot?underlying=SENSEX")[2]
        assert set(qa["options"]) == set(qb["options"]) and len(qa["options"]) > 0
        assert all(q["is_mock"] for q in qb["options"].values())
    finally:
        a.stop()
        b.stop()
