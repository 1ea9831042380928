"""Auth cost on the release server: requests/s and p99 on a protected route with a JWT and with
an API key, against unauthenticated baselines on the same server, in one run.

    cargo build --release -p stocksblitz-server --examples --bin stocksblitz-server
    python bench/bench_auth.py [--seconds 5] [--connections 32]

The protected route is `/v1/users/me`, which also reads the user from the store (one SQLite
query); `/health` (one store round trip too) is the comparable unauthenticated baseline, and
`/symbols` (no store access) the pure-CPU one.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

target = os.environ.get("CARGO_TARGET_DIR", str(Path(__file__).resolve().parents[1] / "target"))


def post(url: str, body: dict, token: str | None = None) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=f"{target}/release/stocksblitz-server")
    ap.add_argument("--load", default=f"{target}/release/examples/http_load")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=32)
    a = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        args = [a.server, "--addr", addr, "--data-dir", tmp, "--source", "none"]
        args += ["--identity-addr", "off", "--log-level", "warn"]
        proc = subprocess.Popen(args, env=env)
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"http://{addr}/health", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            user = {"email": "bench@example.com", "password": "Bench-password-123"}
            post(f"http://{addr}/v1/auth/register", user)
            jwt = post(f"http://{addr}/v1/auth/login", user)["access_token"]
            key = post(f"http://{addr}/api-keys", {"name": "bench"}, token=jwt)["api_key"]
            cases = [
                ("baseline /symbols (no auth, no store)", "/symbols?symbol=NIFTY", None),
                ("baseline /health (no auth, store ping)", "/health", None),
                ("/v1/users/me with JWT", "/v1/users/me", f"Bearer {jwt}"),
                ("/v1/users/me with API key", "/v1/users/me", f"Bearer {key}"),
                ("/quote with JWT (no store)", "/quote?symbol=NIFTY", f"Bearer {jwt}"),
                ("/quote with API key (no store)", "/quote?symbol=NIFTY", f"Bearer {key}"),
            ]
            results = {}
            for name, path, auth in cases:
                cmd = [a.load, addr, path, str(a.connections), str(a.seconds)]
                out = subprocess.run(cmd + ([auth] if auth else []), capture_output=True, text=True)
                if out.returncode != 0:
                    raise SystemExit(f"{name}: {out.stderr}")
                _n, rps, p50, p99, bad = out.stdout.split()
                results[name] = float(rps)
                print(
                    f"{name:42s} {float(rps):>9.0f} req/s  p50 {p50:>5s} µs  p99 {p99:>6s} µs"
                    f"  non-2xx {bad}"
                )
            base = results["baseline /health (no auth, store ping)"]
            for name in ("/v1/users/me with JWT", "/v1/users/me with API key"):
                print(f"ratio {name} / baseline /health: {results[name] / base:.2f}")
            # /quote parses the symbol and reads the snapshot, about the work of /symbols.
            cpu = results["baseline /symbols (no auth, no store)"]
            for name in ("/quote with JWT (no store)", "/quote with API key (no store)"):
                print(f"ratio {name} / baseline /symbols: {results[name] / cpu:.2f}")
            key_paths(addr, key)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def key_paths(addr: str, key: str, rounds: int = 2000) -> None:
    """Can a key id's existence be told by timing? A real key id with a wrong secret against an
    unknown id with a secret, one connection, interleaved, medians (both answer 401
    invalid_key). Each id is asked once first, so both are answered from the verifier's cache
    as they are in steady state; then both are asked again after the cache lifetime."""
    import http.client
    import statistics

    key_id = key.split("_")[1]
    wrong = f"sb_{key_id}_" + "0" * 40
    unknown = "sb_" + ("f" * 8 if key_id != "f" * 8 else "e" * 8) + "_" + "0" * 40
    conn = http.client.HTTPConnection(addr.split(":")[0], int(addr.split(":")[1]), timeout=5)

    def one(token: str) -> float:
        t = time.perf_counter()
        conn.request("GET", "/quote?symbol=NIFTY", headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        r.read()
        assert r.status == 401, r.status
        return (time.perf_counter() - t) * 1e6

    for label, pause in (("cached", 0.0), ("after the cache lifetime", 5.5)):
        time.sleep(pause)
        a, b = [], []
        if pause:
            a.append(one(wrong))
            b.append(one(unknown))
        for _ in range(rounds):
            a.append(one(wrong))
            b.append(one(unknown))
        ma, mb = statistics.median(a), statistics.median(b)
        print(
            f"key paths ({label}): known id + wrong secret median {ma:.0f} µs, "
            f"unknown id median {mb:.0f} µs, ratio {mb / ma:.3f}"
        )


if __name__ == "__main__":
    main()
