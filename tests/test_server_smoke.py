"""The real stocksblitz-server process: starts on embedded defaults, answers /health, stops
cleanly on SIGTERM and SIGINT, and leaves a migrated SQLite store behind."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import ServerProcess, http_get, pg_url, server_executable


def test_health_json_and_clean_stop(tmp_path: Path) -> None:
    # README's first command: no configuration at all (simulator, 5-day back-fill).
    srv = ServerProcess(tmp_path / "data", defaults=True)
    body = srv.wait_healthy()
    assert body["status"] == "healthy"
    assert body["version"]
    assert isinstance(body["uptime"], (int, float)) and body["uptime"] >= 0
    assert body["database"]["status"] == "ok"
    assert body["database"]["backend"] == "sqlite"
    assert body["database"]["latency_ms"] >= 0
    assert body["bus"] == {"status": "ok", "kind": "memory"}
    assert {
        "source",
        "last_tick_age_ms",
        "ticks_total",
        "rejected_total",
        "reconnects",
        "buffer_depth",
    } <= set(body["ingest"])
    assert body["ingest"]["source"] == "simulator"
    assert "jwks" in body["identity"]

    status, headers, _ = http_get(srv.url + "/health")
    assert status == 200
    assert {k.lower(): v for k, v in headers.items()}["x-request-id"] == "test-req-1"

    assert srv.stop(signal.SIGTERM) == 0
    log = srv.log()
    assert f"listening on http://127.0.0.1:{srv.port}" in log
    assert "SIGTERM received" in log and "stopped" in log
    assert "back-filling 1-minute history" in log

    db = tmp_path / "data" / "stocksblitz.db"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"instruments", "bars", "_sqlx_migrations"} <= tables


def test_sigint_stops_and_restart_reuses_the_store(tmp_path: Path) -> None:
    first = ServerProcess(tmp_path / "data")
    first.wait_healthy()
    assert first.stop(signal.SIGINT) == 0
    second = ServerProcess(tmp_path / "data")
    assert second.wait_healthy()["status"] == "healthy"
    assert second.stop() == 0


def test_symbols_route_uses_the_symbols_crate(server: ServerProcess) -> None:
    status, _, info = http_get(server.url + "/symbols?symbol=BANKNIFTY")
    assert status == 200
    assert info["underlying"] == "BANKNIFTY" and info["name"] == "NIFTY BANK"
    status, _, info = http_get(server.url + "/symbols?symbol=NIFTY27FEB24000CE")
    assert status == 200
    assert (info["expiry"], info["strike"], info["option_type"]) == ("2027-02-23", 24000.0, "CE")
    assert info["type"] == "option" and info["exchange"] == "NFO"

    status, _, err = http_get(server.url + "/symbols?symbol=NIFTY25XYZFUT")
    assert status == 400
    assert err["code"] == "invalid_parameter"
    assert 'unknown month "XYZ"' in err["detail"] and err["detail"].startswith("symbol:")

    status, _, err = http_get(server.url + "/symbols")
    assert status == 400 and "symbol" in err["detail"]

    status, _, err = http_get(server.url + "/symbols?symbol=NIFTY25NOVFUT")
    assert status == 404
    assert err["code"] == "contract_expired" and "2025-11-25" in err["detail"]
    status, _, err = http_get(server.url + "/symbols?symbol=NIFTY2610624000CE")
    assert status == 404 and "expired on 2026-01-06" in err["detail"]

    status, _, err = http_get(server.url + "/no/such/route")
    assert status == 404 and err["code"] == "not_found"

    status, _, text = http_get(server.url + "/metrics")
    assert status == 200
    assert 'stocksblitz_http_requests_total{route="/symbols",status="400"} 2' in text


def test_postgres_backend(tmp_path: Path) -> None:
    psycopg = pytest.importorskip("psycopg")
    schema = f"t_smoke_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in pg_url() else "?"
        url = f"{pg_url()}{sep}options=-csearch_path%3D{schema}"
        srv = ServerProcess(tmp_path / "data", env={"DATABASE_URL": url})
        body = srv.wait_healthy()
        assert body["database"]["backend"] == "postgres"
        assert srv.stop() == 0
        with psycopg.connect(pg_url(), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
        assert {"instruments", "bars"} <= {r[0] for r in rows}
        assert not (tmp_path / "data" / "stocksblitz.db").exists()
    finally:
        with psycopg.connect(pg_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_bad_usage_is_a_clear_error(tmp_path: Path) -> None:
    out = subprocess.run(
        [server_executable(), "--addr", "not-an-address"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert "--addr" in out.stderr
    out = subprocess.run(
        [server_executable(), "--help"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0 and "DATABASE_URL" in out.stdout


def test_port_in_use_is_reported(server: ServerProcess, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            server_executable(),
            "--addr",
            f"127.0.0.1:{server.port}",
            "--data-dir",
            str(tmp_path / "other"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{server.port}" in out.stderr


def test_cors_is_off_by_default_and_follows_the_configured_origins(tmp_path: Path) -> None:
    import urllib.request

    def preflight(url: str, origin: str) -> dict[str, str]:
        req = urllib.request.Request(
            url + "/quote?symbol=NIFTY",
            method="OPTIONS",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            return {k.lower(): v for k, v in e.headers.items()}

    srv = ServerProcess(tmp_path / "a", ["--source", "none"])
    srv.wait_healthy()
    assert "access-control-allow-origin" not in preflight(srv.url, "https://app.example.com")
    srv.stop()
    srv = ServerProcess(
        tmp_path / "b",
        ["--source", "none", "--cors-origins", "https://app.example.com, http://localhost:3000"],
    )
    srv.wait_healthy()
    ok = preflight(srv.url, "https://app.example.com")
    assert ok["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in ok["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in preflight(srv.url, "https://evil.example.com")
    srv.stop()
    bad = subprocess.run(
        [
            server_executable(),
            "--data-dir",
            str(tmp_path / "c"),
            "--cors-origins",
            "app.example.com",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "--cors-origins" in bad.stderr
