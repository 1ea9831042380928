"""The built-in page at `/` in a real browser (Debian's chromium driven by playwright): a real
server with the simulator on the demo clock, a user signing in through the page, and what the
page shows checked against the JSON routes it reads (`/indicators/current`, `/fo/option-chain`,
`/kite/margins/orders`, `/accounts/{id}/positions`). Screenshots of the three views are kept in
`tests/artefacts/web/` (or `$STOCKSBLITZ_ARTEFACTS/web`).

The browser comes from `scripts/ensure-browser` (run by `scripts/test`); where none can be
installed these tests are skipped, saying so. The page's HTTP headers are checked without one.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import ServerProcess, http_call, new_user, wait_for

ARTEFACTS = Path(os.environ.get("STOCKSBLITZ_ARTEFACTS", Path(__file__).parent / "artefacts"))
PASSWORD = "Test-User-Password-123!"  # what conftest.new_user registers


def chromium() -> str | None:
    for c in (os.environ.get("STOCKSBLITZ_CHROMIUM"), "chromium", "chromium-browser"):
        if c and (found := shutil.which(c)):
            return found
    return None


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with a day of history and a live simulator on the demo clock."""
    srv = ServerProcess(
        tmp_path_factory.mktemp("web") / "data",
        [
            "--demo-clock",
            "--backfill-days",
            "1",
            "--tick-interval-ms",
            "500",
            "--bar-grace-ms",
            "0",
        ],
    )
    srv.wait_healthy()
    srv.wait_backfilled()
    srv.wait_quotes("NIFTY")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)")
    exe = chromium()
    if exe is None:
        pytest.skip(
            "no chromium on this machine and none could be installed "
            "(scripts/ensure-browser installs Debian's chromium with apt)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Page:
    """A browser tab on the page with its console errors collected (each test asserts none)."""

    def __init__(self, browser: Any, url: str, width: int = 1280, height: int = 800) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = url

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        p = self.page
        p.goto(self.url + "/")
        p.fill("#email", email)
        p.fill("#password", password)
        p.click("#signin")
        p.wait_for_selector("#view", timeout=10_000)

    def shot(self, name: str) -> None:
        d = ARTEFACTS / "web"
        d.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(d / f"{name}.png"))

    def attr(self, selector: str, name: str) -> str | None:
        return self.page.get_attribute(selector, name)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any, web: ServerProcess) -> Iterator[Page]:
    t = Page(browser, web.url)
    yield t
    errors = list(t.errors)
    t.close()
    assert errors == [], f"console errors: {errors}"


def user(web: ServerProcess, tag: str) -> tuple[str, str, str]:
    email = f"web-{tag}-{time.monotonic_ns()}@example.com"
    jwt, key = new_user(web, email)
    return email, jwt, key


def get(web: ServerProcess, path: str, key: str, **query: Any) -> Any:
    url = web.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    status, _, body = http_call(url, token=key)
    assert status == 200, (path, status, body)
    return body


def raw(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


# -- without a browser -------------------------------------------------------------------------


def test_the_page_and_its_assets_are_served_under_a_strict_policy(server: ServerProcess) -> None:
    status, h, body = raw(server.url + "/")
    assert status == 200
    assert h["content-type"].startswith("text/html")
    csp = h["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp and "http" not in csp, csp
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    html = body.decode()
    # Every script and stylesheet is the server's own, versioned by content; nothing inline.
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/ui/") or r.startswith("data:") for r in refs), refs
    assert "<script>" not in html and "<style" not in html and "style=" not in html
    for ref in [r for r in refs if r.startswith("/ui/")]:
        status, h, plain = raw(server.url + ref)
        assert status == 200, ref
        assert "immutable" in h["cache-control"]
        assert "content-encoding" not in h
        status, hz, packed = raw(server.url + ref, {"Accept-Encoding": "gzip"})
        assert status == 200 and hz["content-encoding"] == "gzip"
        assert gzip.decompress(packed) == plain, f"{ref}: the gzipped copy differs"
        status, _, _ = raw(server.url + ref, {"If-None-Match": h["etag"]})
        assert status == 304
    # The JSON API keeps its paths and its JSON 404.
    status, h, body = raw(server.url + "/ui/nope.js")
    assert status == 404 and json.loads(body)["code"] == "not_found"
    status, h, body = raw(server.url + "/health")
    assert status == 200 and json.loads(body)["status"] in ("healthy", "degraded")


def test_the_page_states_its_licences(server: ServerProcess) -> None:
    status, h, body = raw(server.url + "/ui/LICENSE-lightweight-charts.txt")
    assert status == 200 and h["content-type"].startswith("text/plain")
    text = body.decode()
    assert "TradingView" in text and "Apache License" in text
    _, _, js = raw(server.url + re.findall(r'src="([^"]+)"', raw(server.url + "/")[2].decode())[0])
    assert b"TradingView" in js  # the library's own licence comment is kept in the bundle


# -- in the browser ----------------------------------------------------------------------------


def test_a_bad_sign_in_shows_an_error_and_keeps_nothing(tab: Page, web: ServerProcess) -> None:
    email, _, _ = user(web, "bad")
    p = tab.page
    p.goto(web.url + "/")
    p.fill("#email", email)
    p.fill("#password", "not the password")
    p.click("#signin")
    p.wait_for_function("() => document.querySelector('#signin-error').textContent.length > 0")
    assert "invalid" in p.inner_text("#signin-error").lower()
    assert p.evaluate("sessionStorage.length") == 0
    assert p.query_selector("#view") is None
    tab.shot("sign-in-error")
    # The browser reports the refused request itself; nothing else may be logged.
    tab.errors = [e for e in tab.errors if "status of 401" not in e]


def candle_pixels(p: Any) -> dict[str, int]:
    """Pixels of the candle colours on the chart's canvases (the chart draws only there)."""
    return p.evaluate(
        """() => {
        const want = {up: [38, 166, 154], down: [239, 83, 80]};
        const n = {up: 0, down: 0};
        for (const c of document.querySelectorAll('#chart canvas')) {
          if (!c.width || !c.height) continue;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 0; i < d.length; i += 4) {
            for (const [k, [r, g, b]] of Object.entries(want)) {
              if (d[i + 3] === 255 && d[i] === r && d[i + 1] === g && d[i + 2] === b) n[k]++;
            }
          }
        }
        return n;
    }"""
    )


def test_the_chart_shows_candles_and_the_servers_rsi_and_updates_live(
    tab: Page, web: ServerProcess
) -> None:
    email, _, key = user(web, "chart")
    tab.sign_in(email)
    p = tab.page
    p.wait_for_selector("#chart[data-state=ready]", timeout=15_000)
    bars = int(tab.attr("#chart", "data-bars") or 0)
    candles = get(web, "/candles", key, symbol="NIFTY 50", timeframe="5m", limit=500)["candles"]
    assert bars >= 20 and abs(bars - len(candles)) <= 1, (bars, len(candles))
    wait_for(lambda: (n := candle_pixels(p))["up"] > 200 and n["down"] > 200, what="candles drawn")

    # The RSI pane's last value is the server's, at the same bar (the forming bar moves with
    # every tick: compare when the page and the route are at the same tick).
    def same_rsi() -> Any:
        item = p.query_selector(".legend-item[data-id='RSI_14']")
        if item is None or not item.get_attribute("data-value"):
            return None
        shown = json.loads(item.get_attribute("data-value") or "null")
        shown_time = int(item.get_attribute("data-time") or 0)
        cur = get(
            web, "/indicators/current", key, symbol="NIFTY 50", timeframe="5m", indicators="RSI_14"
        )
        server_value = cur["indicators"]["RSI_14"]
        ok = (
            cur["candle_time"] == shown_time
            and shown is not None
            and abs(shown - server_value) <= 1e-9 * max(1.0, abs(server_value))
        )
        return (shown, server_value) if ok else None

    wait_for(same_rsi, timeout=20, what="the RSI pane's value equal to /indicators/current")

    # The legend's bar time is the newest candle's, written in IST.
    shown_at = re.search(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) IST", p.inner_text("#legend-ohlc"))
    assert shown_at is not None
    newest = get(web, "/candles", key, symbol="NIFTY 50", timeframe="5m", limit=3)["candles"]
    ist = {time.strftime("%Y-%m-%d %H:%M", time.gmtime(c["time"] + 19800)) for c in newest}
    assert shown_at.group(1) in ist, (shown_at.group(1), ist)

    before = int(tab.attr("#chart", "data-updates") or 0)
    started = time.monotonic()
    wait_for(
        lambda: int(tab.attr("#chart", "data-updates") or 0) > before,
        timeout=10,
        what="a live update on the chart",
    )
    print(
        f"\nfirst live update after {time.monotonic() - started:.2f} s; "
        f"first candles {tab.attr('#chart', 'data-first-candles-ms')} ms after the request"
    )
    assert "live" in p.inner_text("#chart-status")
    # The token never travels in a URL.
    jwt = p.evaluate("JSON.parse(sessionStorage.getItem('stocksblitz.session')).access")
    assert jwt and not any(jwt in u for u in tab.requests)
    tab.shot("chart")


def test_the_timeframe_switcher_and_panes_read_the_server(tab: Page, web: ServerProcess) -> None:
    email, _, key = user(web, "tf")
    tab.sign_in(email)
    p = tab.page
    p.wait_for_selector("#chart[data-state=ready]", timeout=15_000)
    listed = get(web, "/indicators/list", key)["timeframes"]
    buttons = p.eval_on_selector_all("#timeframes button", "bs => bs.map(b => b.dataset.tf)")
    assert buttons == listed
    p.click("#timeframes button[data-tf='15m']")
    p.wait_for_function("() => document.querySelector('#chart').dataset.state === 'ready'")
    p.click("#indicator-menu summary")
    p.check("#indicator-menu input[value='MACD_12_26_9']")
    p.wait_for_selector(".legend-item[data-id='MACD_12_26_9'][data-value]", timeout=15_000)
    shown = json.loads(
        p.get_attribute(".legend-item[data-id='MACD_12_26_9']", "data-value") or "{}"
    )
    assert set(shown) >= {"macd", "signal", "histogram"}
    hist = get(
        web,
        "/indicators/history",
        key,
        symbol="NIFTY 50",
        timeframe="15m",
        indicator="MACD_12_26_9",
        lookback=3,
    )["series"]
    # The pane's last bar is one of the server's (the forming bar, or the one just closed).
    assert int(p.get_attribute(".legend-item[data-id='MACD_12_26_9']", "data-time") or 0) in {
        pt["time"] for pt in hist
    }


def test_the_chain_shows_the_expirys_strikes_with_the_servers_pcr_and_max_pain(
    tab: Page, web: ServerProcess
) -> None:
    email, _, key = user(web, "chain")
    tab.sign_in(email)
    p = tab.page
    p.click("#nav-chain")
    p.wait_for_selector("#chain-body tr[data-strike]", timeout=15_000)
    expiry = p.get_attribute("#chain-body", "data-expiry")
    chain = get(web, "/fo/option-chain", key, underlying="NIFTY", expiry=expiry)
    strikes = [
        float(s)
        for s in p.eval_on_selector_all("#chain-body tr", "rs => rs.map(r => r.dataset.strike)")
    ]
    assert strikes == [s["strike"] for s in chain["strikes"]]

    def same_stats() -> Any:
        c = get(web, "/fo/option-chain", key, underlying="NIFTY", expiry=expiry)
        pcr = float(p.get_attribute("#c-pcr", "data-value") or "nan")
        pain = float(p.get_attribute("#c-maxpain", "data-value") or "nan")
        return (pcr, pain) if pcr == c["pcr_oi"] and pain == c["max_pain"] else None

    wait_for(same_stats, timeout=20, what="PCR and max pain equal to /fo/option-chain")
    spot = float(p.get_attribute("#c-spot", "data-value") or "nan")
    atm = p.get_attribute("#chain-body tr.atm", "data-strike")
    assert atm is not None
    nearest = min(strikes, key=lambda s: abs(s - spot))
    assert abs(float(atm) - spot) == abs(nearest - spot)
    tab.shot("chain")


def test_an_order_from_the_ticket_shows_in_positions_and_as_a_chart_marker(
    tab: Page, web: ServerProcess
) -> None:
    email, _, key = user(web, "order")
    fut = next(
        i["tradingsymbol"]
        for i in get(web, "/instruments", key, underlying="NIFTY")["instruments"]
        if i["kind"] == "future"
    )
    tab.sign_in(email)
    p = tab.page
    p.click("#nav-account")
    p.wait_for_selector("#funds .card", timeout=10_000)
    p.fill("#t-symbol", fut)
    p.wait_for_selector(f"#t-results li[data-symbol='{fut}']", timeout=10_000)
    p.click(f"#t-results li[data-symbol='{fut}']")
    p.wait_for_function("() => document.querySelector('#t-quote').textContent.includes('LTP')")
    p.fill("#t-lots", "2")
    p.wait_for_function(
        "() => document.querySelector('#t-lotinfo').textContent.includes('= 130 units')"
    )
    p.wait_for_selector("#t-margin[data-value]", timeout=10_000)
    # The preview is the server's margin and charges for this order on this account.
    order = [
        {
            "exchange": "NFO",
            "tradingsymbol": fut,
            "transaction_type": "BUY",
            "variety": "regular",
            "product": "MIS",
            "order_type": "MARKET",
            "quantity": 130,
        }
    ]
    status, _, m = http_call(web.url + "/kite/margins/orders", "POST", order, token=key)
    assert status == 200, m
    shown = float(p.get_attribute("#t-margin", "data-value") or "nan")
    # Prices move between the page's request and ours: the same order's margin within 2 %.
    assert abs(shown - m["data"][0]["total"]) <= 0.02 * m["data"][0]["total"], (shown, m)
    assert float(p.get_attribute("#t-charges", "data-value") or "nan") > 0
    tab.shot("account-ticket")
    submit(p)
    p.wait_for_selector(f"#positions tr[data-symbol='{fut}']", timeout=10_000)
    account = get(web, "/accounts", key)["data"][0]["account_id"]
    positions = get(web, f"/accounts/{account}/positions", key)["data"]
    assert [(x["tradingsymbol"], x["quantity"]) for x in positions] == [(fut, 130)]
    row = p.inner_text(f"#positions tr[data-symbol='{fut}']")
    assert "130" in row
    p.wait_for_selector("#orders tr[data-status='COMPLETE']", timeout=10_000)
    tab.shot("account")
    # The fill is drawn on the instrument's chart.
    p.click(f"#positions tr[data-symbol='{fut}'] a")
    p.wait_for_selector("#chart[data-state=ready]", timeout=15_000)
    wait_for(lambda: int(tab.attr("#chart", "data-markers") or 0) >= 1, what="a fill marker")
    tab.shot("chart-with-fill")


def submit(p: Any) -> None:
    """Send the ticket and require the server's acceptance (its refusal is the failure text)."""
    p.click("#t-submit")
    p.wait_for_selector("#t-result.ok, #t-result.error", timeout=10_000)
    result = p.get_attribute("#t-result", "class"), p.inner_text("#t-result")
    assert result[0] == "ok", f"the order was refused: {result[1]}"


def test_the_views_fit_a_phone(browser: Any, web: ServerProcess) -> None:
    email, _, _ = user(web, "phone")
    t = Page(browser, web.url, width=390, height=844)
    try:
        t.sign_in(email)
        p = t.page
        for view, ready in (
            ("chart", "#chart[data-state=ready]"),
            ("chain", "#chain-body tr[data-strike]"),
            ("account", "#funds .card"),
        ):
            p.click(f"#nav-{view}")
            p.wait_for_selector(ready, timeout=15_000)
            # The page itself never scrolls sideways (wide tables scroll in their own box).
            overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{view}: {overflow}px wider than the screen"
            t.shot(f"phone-{view}")
        assert t.errors == [], t.errors
    finally:
        t.close()


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose access tokens live 3 s."""
    srv = ServerProcess(
        tmp_path_factory.mktemp("web-ttl") / "data",
        ["--demo-clock", "--access-token-ttl-secs", "3"],
    )
    srv.wait_healthy()
    srv.wait_quotes("NIFTY")
    yield srv
    srv.stop()


def test_an_expired_access_token_is_renewed_without_signing_out(
    browser: Any, short_lived: ServerProcess
) -> None:
    email, _, _ = user(short_lived, "ttl")
    t = Page(browser, short_lived.url)
    try:
        t.sign_in(email)
        p = t.page
        p.wait_for_selector("#chart[data-state=ready]", timeout=15_000)
        first = p.evaluate("JSON.parse(sessionStorage.getItem('stocksblitz.session')).access")
        time.sleep(4)  # the token has expired
        p.click("#nav-account")
        p.wait_for_selector("#funds .card", timeout=10_000)
        p.click("#nav-chart")
        p.wait_for_selector("#chart[data-state=ready]", timeout=15_000)
        wait_for(lambda: "live" in p.inner_text("#chart-status"), what="the stream live again")
        second = p.evaluate("JSON.parse(sessionStorage.getItem('stocksblitz.session')).access")
        assert second != first
        assert p.query_selector("#signin-form") is None
        assert t.errors == [], t.errors
    finally:
        t.close()


def test_sign_in_with_an_api_key_and_sign_out(tab: Page, web: ServerProcess) -> None:
    _, _, key = user(web, "key")
    p = tab.page
    p.goto(web.url + "/")
    p.fill("#api-key", key)
    p.click("#use-key")
    p.wait_for_selector("#chart[data-state=ready]", timeout=15_000)
    wait_for(lambda: "live" in p.inner_text("#chart-status"), what="the stream live")
    assert not any(key in u for u in tab.requests)
    p.click("#signout")
    p.wait_for_selector("#signin-form")
    assert p.evaluate("sessionStorage.getItem('stocksblitz.session')") is None
    # A refused key is an error on the sign-in page, not a half-signed-in page.
    p.fill("#api-key", "sb_00000000_" + "x" * 43)
    p.click("#use-key")
    p.wait_for_function("() => document.querySelector('#signin-error').textContent.length > 0")
    assert p.query_selector("#view") is None
    tab.errors = [e for e in tab.errors if "status of 401" not in e]


def test_the_committed_assets_are_what_ui_builds(tmp_path: Path) -> None:
    """server/assets/ is reproducible from ui/ and its lock file (a clean `npm ci` and build)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the committed assets cannot be rebuilt here")
    root = Path(__file__).resolve().parent.parent
    src = tmp_path / "ui"
    shutil.copytree(root / "ui", src, ignore=shutil.ignore_patterns("node_modules"))
    ci = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if ci.returncode != 0:
        pytest.skip(f"npm ci could not fetch the locked packages here: {ci.stderr[-500:]}")
    out = tmp_path / "assets"
    build = subprocess.run(
        ["node", "build.mjs", str(out)], cwd=src, capture_output=True, text=True, timeout=120
    )
    assert build.returncode == 0, build.stderr
    committed = sorted(p.name for p in (root / "server" / "assets").iterdir())
    assert sorted(p.name for p in out.iterdir()) == committed
    stale = [
        n for n in committed if (out / n).read_bytes() != (root / "server/assets" / n).read_bytes()
    ]
    assert stale == [], f"rebuild with `npm --prefix ui ci && npm --prefix ui run build`: {stale}"


def test_a_resting_limit_order_is_modified_and_cancelled_from_the_page(
    tab: Page, web: ServerProcess
) -> None:
    email, _, key = user(web, "modify")
    fut = next(
        i
        for i in get(web, "/instruments", key, underlying="NIFTY")["instruments"]
        if i["kind"] == "future"
    )
    ltp = get(web, "/quote", key, symbol=fut["tradingsymbol"])["ltp"]
    tick = fut["tick_size"]
    below = round(round(ltp * 0.97 / tick) * tick, 2)
    tab.sign_in(email)
    p = tab.page
    p.click("#nav-account")
    p.wait_for_selector("#funds .card", timeout=10_000)
    p.fill("#t-symbol", fut["tradingsymbol"])
    p.click(f"#t-results li[data-symbol='{fut['tradingsymbol']}']")
    p.wait_for_function("() => document.querySelector('#t-quote').textContent.includes('LTP')")
    p.select_option("#t-type", "LIMIT")
    p.fill("#t-price", str(below))
    p.wait_for_selector("#t-margin[data-value]", timeout=10_000)
    submit(p)
    order_id = re.search(r"Order (\d+)", p.inner_text("#t-result"))
    assert order_id is not None
    oid = order_id.group(1)
    row = f"#orders tr[data-order='{oid}']"
    p.wait_for_selector(f"{row}[data-status='OPEN']", timeout=10_000)
    account = get(web, "/accounts", key)["data"][0]["account_id"]

    lower = round(below - 10 * tick, 2)
    p.click(f"{row} button:has-text('Modify')")
    p.fill(f"{row} input[aria-label='Price']", str(lower))
    # Another order arrives while the form is open (its stream update re-reads the book): the
    # form stays, with what was typed in it.
    status, _, placed = http_call(
        f"{web.url}/accounts/{account}/orders",
        method="POST",
        body={
            "tradingsymbol": fut["tradingsymbol"],
            "transaction_type": "BUY",
            "quantity": fut["lot_size"],
            "order_type": "LIMIT",
            "price": round(below - 20 * tick, 2),
            "product": "NRML",
        },
        token=key,
    )
    assert status == 200, placed
    other = placed["data"]["order_id"]
    p.wait_for_selector(f"#orders tr[data-order='{other}'][data-status='OPEN']", timeout=10_000)
    assert p.input_value(f"{row} input[aria-label='Price']") == str(lower)
    p.click(f"{row} button:has-text('Save')")
    wait_for(
        lambda: get(web, f"/accounts/{account}/orders/{oid}", key)["data"]["price"] == lower,
        what="the modified price on the server",
    )
    # The row is drawn again from the server's book, with the new price.
    wait_for(
        lambda: (
            f"{lower:.2f}" in p.inner_text(row).replace(",", "")
            and p.get_attribute(row, "data-status") == "OPEN"
        ),
        what="the modified order in the book",
    )
    p.click(f"{row} button:has-text('Cancel')")
    p.wait_for_selector(f"{row}[data-status='CANCELLED']", timeout=10_000)
    assert get(web, f"/accounts/{account}/orders/{oid}", key)["data"]["status"] == "CANCELLED"
    other_row = f"#orders tr[data-order='{other}']"
    p.click(f"{other_row} button:has-text('Cancel')")
    p.wait_for_selector(f"{other_row}[data-status='CANCELLED']", timeout=10_000)
    assert get(web, f"/accounts/{account}/positions", key)["data"] == []
