"""The built-in page in headless chromium (issue 21's performance figures). Prints, asserts
nothing:

1. Time to first candles on loopback: navigation start → candles drawn (the chart's
   `data-ready-at`), signed in, cold (browser cache disabled) and warm; medians of 7.
2. What the page transfers: HTML, JavaScript and CSS as sent (gzip), from the browser's resource
   timing.
3. Frame times while the server ingests ~1,000 ticks/s from Redis (the legacy ticker) and the
   chart streams the forming 1m bar with RSI and MACD: requestAnimationFrame intervals over
   10 s (p50, p99, max, frames over 25 ms, i.e. a dropped 60 Hz frame), plus the stream messages applied.

    python bench/bench_page.py [--redis redis://127.0.0.1:6379] [--chromium /usr/bin/chromium]

Needs the wheel installed in this environment (`stocksblitz-server`), playwright, a chromium
(`scripts/ensure-browser`) and, for 3., Redis.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TICKER = ROOT / "tests" / "tools" / "legacy_ticker.py"
EMAIL = "bench-page@example.com"
PASSWORD = "Bench-Page-Password-123!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return {"status": e.code}
    except OSError:
        return None


def wait(pred, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def server(data: Path, args: list[str]) -> tuple[subprocess.Popen, str]:
    exe = Path(sys.executable).parent / "stocksblitz-server"
    port = free_port()
    proc = subprocess.Popen(
        [
            str(exe),
            "--addr",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(data),
            "--identity-addr",
            "off",
            "--log-level",
            "warn",
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait(lambda: call(base + "/health"), "the server")
    call(base + "/v1/auth/register", {"email": EMAIL, "password": PASSWORD})
    return proc, base


def sign_in(page: Any, base: str) -> None:
    page.goto(base + "/")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("#chart[data-state=ready]", timeout=30_000)


def first_candles(browser: Any, base: str) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    sign_in(page, base)
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    for label, cold in (("cold (no cache)", True), ("warm (cached assets)", False)):
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": cold})
        times = []
        for _ in range(7):
            page.goto(base + "/")
            page.wait_for_selector("#chart[data-state=ready]", timeout=30_000)
            times.append(float(page.get_attribute("#chart", "data-ready-at") or "nan"))
        print(
            f"  {label:22} median {statistics.median(times):6.0f} ms  "
            f"(min {min(times):.0f}, max {max(times):.0f}; target < 1000 ms)"
        )
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    page.goto(base + "/")
    page.wait_for_selector("#chart[data-state=ready]", timeout=30_000)
    entries = page.evaluate(
        """() => [...performance.getEntriesByType('navigation'),
                  ...performance.getEntriesByType('resource')]
                 .map(e => ({name: e.name, type: e.initiatorType || 'navigation',
                             sent: e.transferSize, body: e.decodedBodySize}))"""
    )
    assets = [e for e in entries if e["type"] in ("navigation", "script", "link", "css")]
    sent = sum(e["sent"] for e in assets)
    body = sum(e["body"] for e in assets)
    print("\n2. transferred (HTML + JS + CSS, gzip; headers included):")
    for e in assets:
        print(
            f"  {e['name'].replace(base, ''):40} {e['sent'] / 1024:7.1f} KB  ({e['body'] / 1024:.1f} KB decoded)"
        )
    print(f"  {'total':40} {sent / 1024:7.1f} KB  ({body / 1024:.1f} KB decoded; target < 300 KB)")
    ctx.close()


def frames_under_load(browser: Any, redis: str) -> None:
    sys.path.insert(0, str(TICKER.parent))
    import legacy_ticker

    prefix = f"benchpage{int(time.time())}"
    with tempfile.TemporaryDirectory() as d:
        proc, base = server(
            Path(d) / "data",
            [
                "--redis-url",
                redis,
                "--source",
                "redis",
                "--redis-pattern",
                f"{prefix}:*",
                "--redis-prefix",
                prefix,
                "--demo-clock",
                "--backfill-days",
                "0",
            ],
        )
        n_inst = len(legacy_ticker.build_universe(dt.date.today()))  # ~1,000 ticks/s in all
        load = subprocess.Popen(
            [
                sys.executable,
                str(TICKER),
                "--redis",
                redis.replace("redis://", "").split("/")[0],
                "--prefix",
                f"{prefix}:nifty",
                "--rate",
                f"{1000 / n_inst:.3f}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait(
                lambda: (h := call(base + "/health")) and h["ingest"]["ticks_total"] > 2000,
                "the ticker's ticks",
            )
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            page = ctx.new_page()
            sign_in(page, base)
            universe = legacy_ticker.build_universe(dt.date.today())
            fut = next(x["tradingsymbol"] for x in universe if x["kind"] == "FUT")
            page.fill("#symbol", fut)
            page.keyboard.press("Enter")
            page.click("#timeframes button[data-tf='1m']")
            page.wait_for_selector("#chart[data-state=ready]", timeout=30_000)
            page.click("#indicator-menu summary")
            page.check("#indicator-menu input[value='MACD_12_26_9']")
            page.click("#indicator-menu summary")
            page.wait_for_selector(
                ".legend-item[data-id='MACD_12_26_9'][data-value]", timeout=30_000
            )
            wait(lambda: "live" in page.inner_text("#chart-status"), "the stream")
            before = int(page.get_attribute("#chart", "data-updates") or 0)
            t0 = call(base + "/health")["ingest"]["ticks_total"]
            s0 = time.monotonic()
            intervals = page.evaluate(
                """() => new Promise(done => {
                    const out = []; let last = null; const end = performance.now() + 10000;
                    function frame(t) {
                      if (last !== null) out.push(t - last);
                      last = t;
                      if (t < end) requestAnimationFrame(frame); else done(out);
                    }
                    requestAnimationFrame(frame);
                })"""
            )
            secs = time.monotonic() - s0
            ticks = call(base + "/health")["ingest"]["ticks_total"] - t0
            updates = int(page.get_attribute("#chart", "data-updates") or 0) - before
            intervals.sort()
            p = lambda q: intervals[min(len(intervals) - 1, int(q * len(intervals)))]  # noqa: E731
            slow = sum(1 for x in intervals if x > 25.0)
            print(
                f"  server ingest {ticks / secs:,.0f} ticks/s; chart {fut} 1m + RSI + MACD applied "
                f"{updates} stream messages ({updates / secs:.1f}/s)"
            )
            print(
                f"  {len(intervals)} frames in {secs:.1f} s ({len(intervals) / secs:.1f} fps): "
                f"interval p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {intervals[-1]:.1f} ms; "
                f"{slow} over 25 ms (a dropped 60 Hz frame)"
            )
            ctx.close()
        finally:
            load.terminate()
            proc.terminate()
            proc.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--redis", default="redis://127.0.0.1:6379")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        with tempfile.TemporaryDirectory() as d:
            proc, base = server(Path(d) / "data", ["--demo-clock", "--backfill-days", "1"])
            try:
                wait(
                    lambda: (
                        (h := call(base + "/health"))
                        and h["ingest"]["backfill"]["state"] in ("done", "idle")
                    ),
                    "the back-fill",
                )
                print("1. time to first candles (NIFTY 50, 5m, EMA 20 + RSI 14, 500 bars):")
                first_candles(browser, base)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
        print("\n3. frame times while ~1,000 ticks/s stream:")
        frames_under_load(browser, args.redis)
        browser.close()


if __name__ == "__main__":
    main()
