"""The SDK's asyncio client and live streams through the real wheel against real servers:
awaited reads equal the sync client's, 200 concurrent awaits share one event loop, a cancelled
await closes its request, and a stream delivers every bar close exactly once and in order across
a kill -9 restart of the server and across a connection that goes silent (found dead by the
heartbeat) — with 5-second access tokens expiring underneath. ``Order.wait`` rides the order
stream."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import stocksblitz as sb
from conftest import Proxy, ServerProcess, http_call, http_get, new_user, wait_for

DEMO = ["--demo-clock", "--demo-speed", "30", "--tick-interval-ms", "200", "--bar-grace-ms", "0"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    s = ServerProcess(tmp_path_factory.mktemp("async") / "data", [*DEMO, "--backfill-days", "1"])
    s.wait_healthy()
    s.wait_backfilled()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory):
    """A server whose quotes stay put (one simulator round a minute)."""
    s = ServerProcess(
        tmp_path_factory.mktemp("still") / "data",
        ["--tick-interval-ms", "60000", "--backfill-days", "1"],
    )
    s.wait_healthy()
    s.wait_backfilled()
    s.wait_quotes("NIFTY")
    yield s
    s.stop()


def settled(read_sync, read_async, attempts: int = 5) -> tuple[Any, Any]:
    """(sync value, async value) read back to back, once the sync reads before and after the
    async one agree (a bar may close between reads)."""
    for _ in range(attempts):
        before = read_sync()
        got = asyncio.run(read_async())
        if read_sync() == before:
            return before, got
    raise AssertionError("the data kept moving")


def test_awaited_reads_equal_the_sync_clients(still: ServerProcess) -> None:
    key = still.api_key()
    sync = sb.TradingClient(still.url, api_key=key)
    aclient = sb.AsyncTradingClient(still.url, api_key=key)
    nifty, anifty = sync.Instrument("NIFTY 50"), aclient.Instrument("NIFTY 50")
    assert anifty.tradingsymbol == nifty.tradingsymbol and anifty.kind == nifty.kind

    want, got = settled(lambda: nifty.ltp, anifty.ltp)
    assert isinstance(got, float) and got == want

    want, got = settled(
        lambda: [c.to_dict() for c in nifty["5m"].candles(30, as_frame=False)],
        lambda: anifty["5m"].candles(30, as_frame=False),
    )
    assert len(got) == 30 and got == want

    want, got = settled(lambda: nifty["5m"].rsi[14], lambda: anifty["5m"].rsi[14])
    assert 0 < got < 100 and got == want
    want, got = settled(lambda: nifty["5m"].rsi(14), lambda: anifty["5m"].indicator("RSI_14"))
    assert got == want
    # 5m, not 15m: one back-filled session has 25 bars of 15m (MACD needs 34), and whether an
    # older session is there depends on the hour the test runs.
    want, got = settled(lambda: nifty["5m"].macd(12, 26, 9), lambda: anifty["5m"].macd(12, 26, 9))
    assert set(got) == {"macd", "signal", "histogram"} and got == want
    want, got = settled(
        lambda: list(nifty["5m"].sma.history(20, 10)),
        lambda: anifty["5m"].sma.history(20, 10),
    )
    assert list(got) == want

    async def errors() -> None:
        with pytest.raises(ValueError, match="timeframe"):
            anifty["7x"]
        with pytest.raises(AttributeError, match="no attribute"):
            _ = anifty["5m"].not_an_indicator
        with pytest.raises(sb.APIError):
            await aclient.Instrument("NIFTY 50").__getitem__("5m").indicator("NOPE_3")
        with pytest.raises(ValueError, match="between"):
            await anifty["5m"].candles(0)

    asyncio.run(errors())


def test_two_hundred_awaits_run_concurrently_on_one_loop(still: ServerProcess) -> None:
    # Every response is held 0.3 s on its way back: 200 reads one after another would take a
    # minute; together they take about one delay, and the loop keeps turning meanwhile.
    proxy = Proxy(("127.0.0.1", still.port), delay=0.3)
    proxy.start()
    key = still.api_key()
    want = sb.TradingClient(still.url, api_key=key).Instrument("NIFTY 50").ltp
    symbols = ["NIFTY 50", "NIFTY BANK"]

    async def main() -> tuple[list[Any], int, float]:
        client = sb.AsyncTradingClient(f"http://127.0.0.1:{proxy.port}", api_key=key)
        client.clear_cache()
        beats = 0
        done = asyncio.Event()

        async def heartbeat() -> None:
            nonlocal beats
            while not done.is_set():
                beats += 1
                await asyncio.sleep(0.01)

        hb = asyncio.create_task(heartbeat())
        t0 = time.monotonic()
        # Distinct requests (the candles route with different limits), not one cached answer.
        reads = [
            client.Instrument(symbols[i % 2])["1m"].candles(i + 1, as_frame=False)
            for i in range(198)
        ]
        got = await asyncio.gather(
            client.Instrument("NIFTY 50").ltp(), *reads, client.get("/health")
        )
        took = time.monotonic() - t0
        done.set()
        await hb
        return got, beats, took

    got, beats, took = asyncio.run(main())
    assert got[0] == want
    assert [len(c) for c in got[1:-1]] == [i + 1 for i in range(198)]
    assert got[-1]["status"] == "healthy"
    assert took < 20, f"200 reads took {took:.1f} s: they ran one after another"
    assert beats >= 10, f"the event loop turned only {beats} times while waiting"


def test_a_cancelled_await_closes_its_request(still: ServerProcess) -> None:
    proxy = Proxy(("127.0.0.1", still.port), delay=30)
    proxy.start()
    key = still.api_key()

    async def main() -> None:
        client = sb.AsyncTradingClient(f"http://127.0.0.1:{proxy.port}", api_key=key)
        t0 = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.Instrument("NIFTY 50").ltp(), 0.3)
        assert time.monotonic() - t0 < 2
        task = asyncio.ensure_future(
            client.get("/candles", {"symbol": "NIFTY 50", "timeframe": "1m"})
        )
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    # Both requests' connections are closed by the client, not left waiting for the answer.
    wait_for(
        lambda: proxy.open_connections() == 0, timeout=5, what="the proxied connections closed"
    )
    # The client is still usable (a direct one, the proxy keeps holding answers).
    direct = sb.AsyncTradingClient(still.url, api_key=key)
    assert asyncio.run(direct.Instrument("NIFTY 50").ltp()) > 0


def collect(s: Any, got: list[Any], done, timeout: float, what: str) -> None:
    """Read the stream into ``got`` until ``done()``."""
    deadline = time.monotonic() + timeout
    while not done():
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {what}: {got[-5:]}"
        u = s.next(min(left, 0.5))
        if u is not None:
            got.append(u)


def bars_in(updates: list[Any], symbol: str = "NIFTY 50", tf: str = "1m") -> list[Any]:
    return [u for u in updates if u.type == "bar" and u.symbol == symbol and u.timeframe == tf]


def assert_every_bar_once(bars: list[Any], step: int = 60) -> None:
    times = [b.time for b in bars]
    assert times == sorted(set(times)), f"bar closes duplicated or out of order: {times}"
    gaps = [(a, b) for a, b in zip(times, times[1:]) if b - a != step]
    assert not gaps, f"bar closes missed between {gaps}"


def assert_bars_match_the_store(srv: ServerProcess, bars: list[Any], key: str) -> None:
    _, _, body = http_call(
        srv.url + f"/candles?symbol=NIFTY%2050&timeframe=1m&from={bars[0].time}&limit=5000",
        token=key,
    )
    stored = {c["time"]: c for c in body["candles"]}
    for b in bars:
        c = stored[b.time]
        assert (b.open, b.high, b.low, b.close) == (c["open"], c["high"], c["low"], c["close"]), b


def test_a_stream_delivers_every_bar_close_once_across_a_kill_9_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data, [*DEMO, "--backfill-days", "0"])
    servers = [first]
    restarted = None
    try:
        first.wait_healthy()
        first.wait_quotes("NIFTY")
        port = first.port
        key = new_user(first, "streamer@example.com")[1]
        client = sb.TradingClient(first.url, api_key=key)
        got: list[Any] = []
        account = client.Account()
        sym = atm_call(first)
        placed: list[str] = []

        def order_events_in(updates: list[Any]) -> list[tuple[str, str]]:
            return [(u.order_id, u.status) for u in updates if u.type == "order"]

        def every_order_complete() -> bool:
            done = {oid for oid, st in order_events_in(got) if st == "COMPLETE"}
            return all(oid in done for oid in placed)

        with client.stream(
            bars=[("NIFTY 50", "1m")], indicators=[("NIFTY 50", "1m", "SMA_3")], orders=True
        ) as s:
            placed.append(account.buy(sym, 65, product="MIS").order_id)
            collect(
                s,
                got,
                lambda: len(bars_in(got)) >= 3 and every_order_complete(),
                30,
                "three bar closes and the first order's fill",
            )
            first.stop(__import__("signal").SIGKILL)
            try:
                restarted = ServerProcess(data, [*DEMO, "--backfill-days", "0"], port=port)
                servers.append(restarted)
                restarted.wait_healthy()
                restarted.wait_quotes("NIFTY")
                # Placed while the stream is still reconnecting: its events come by the gap fill
                # or live, once either way.
                placed.append(account.sell(sym, 65, product="MIS").order_id)
                before = len(bars_in(got))
                collect(
                    s,
                    got,
                    lambda: (
                        len(bars_in(got)) >= before + 4
                        and got[-1].type == "indicator"
                        and got[-1].candle_time == bars_in(got)[-1].time
                        and every_order_complete()
                    ),
                    60,
                    "four more bar closes, their values and the second order's fill",
                )
                stats = s.stats
            finally:
                s.close()
        assert restarted is not None
        bars = bars_in(got)
        assert_every_bar_once(bars)
        assert stats["reconnects"] >= 1 and stats["gap_fills"] >= 1
        # Each order's events once each, ending COMPLETE; the book agrees.
        events = order_events_in(got)
        assert len(events) == len(set(events)), events
        assert [oid for oid, st in events if st == "COMPLETE"] == placed
        book = {o.order_id: o.status for o in client.Account().orders}
        assert all(book[oid] == "COMPLETE" for oid in placed)
        states = [(u.stream, u.state) for u in got if u.type == "status"]
        assert ("indicators", "reconnecting") in states
        last_state = dict(states)  # each stream's latest
        assert last_state == {"indicators": "live", "orders": "live"}, states
        # The values are the store's, and each bar's SMA_3 is the mean of its last 3 closes.
        assert_bars_match_the_store(restarted, bars, key)
        sma = {u.candle_time: u.value for u in got if u.type == "indicator"}
        assert sorted(sma) == [b.time for b in bars]
        _, _, body = http_call(
            restarted.url + f"/candles?symbol=NIFTY%2050&timeframe=1m&to={bars[-1].time}&limit=200",
            token=key,
        )
        closes = {c["time"]: c["close"] for c in body["candles"]}
        ts = sorted(closes)
        for b in bars:
            i = ts.index(b.time)
            if i < 2:  # the day's first bars: not three closes yet
                assert sma[b.time] is None
            else:
                want = sum(closes[t] for t in ts[i - 2 : i + 1]) / 3
                assert sma[b.time] == pytest.approx(want)
    finally:
        for server in servers:
            server.stop()


def test_a_silent_connection_is_found_dead_and_the_gap_filled(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", [*DEMO, "--access-token-ttl-secs", "5"])
    srv.wait_healthy()
    srv.wait_quotes("NIFTY")
    new_user(srv, "silent@example.com")
    proxy = Proxy(("127.0.0.1", srv.port))
    proxy.start()
    try:
        # A JWT session of 5-second tokens: every reconnect needs a fresh one.
        client = sb.TradingClient.from_credentials(
            f"http://127.0.0.1:{proxy.port}",
            f"http://127.0.0.1:{proxy.port}",
            "silent@example.com",
            "Test-User-Password-123!",
            persist_session=False,
        )
        got: list[Any] = []
        with client.stream(bars=[("NIFTY 50", "1m")], quotes=["NIFTY 50"], orders=True) as s:
            collect(s, got, lambda: len(bars_in(got)) >= 2, 30, "two bar closes")
            time.sleep(6)  # the first token has expired
            proxy.stall()  # every open connection goes silent, without a FIN
            stalled_at = time.monotonic()

            def reconnected() -> bool:
                while (u := s.next(0.2)) is not None:
                    got.append(u)
                return s.stats["dead"] >= 1 and s.stats["reconnects"] >= 1

            wait_for(reconnected, timeout=30, what="the dead connection replaced")
            found = time.monotonic() - stalled_at
            before = len(bars_in(got))
            collect(
                s,
                got,
                lambda: len(bars_in(got)) >= before + 3,
                30,
                "bar closes after the reconnect",
            )
            stats = s.stats
        assert found < 12, f"the silent connection was found dead after {found:.1f} s"
        assert_every_bar_once(bars_in(got))
        assert stats["gap_fills"] >= 1
        reasons = {u.reason for u in got if u.type == "status" and u.state == "reconnecting"}
        assert any(r and "heartbeat" in r for r in reasons), reasons
        quotes = [u for u in got if u.type == "quote"]
        assert quotes and quotes[-1].symbol == "NIFTY 50" and quotes[-1].ltp > 0
    finally:
        proxy.cut()
        srv.stop()


def test_sync_iteration_callbacks_and_subscription_errors(srv: ServerProcess) -> None:
    client = sb.TradingClient(srv.url, api_key=srv.api_key())
    with client.stream() as s:
        with pytest.raises(sb.APIError):
            s.subscribe(indicators=[("NIFTY 50", "1m", "NOPE_3")])
        with pytest.raises(sb.APIError):
            s.subscribe(bars=[("NIFTY25DEC26000XE", "1m")])  # malformed option
        with pytest.raises(ValueError, match="timeframe"):
            s.subscribe(bars=[("NIFTY 50", "7x")])
        with pytest.raises(ValueError, match="kind"):
            s.on("bars", print)
        with pytest.raises(ValueError, match="trailing"):
            s.subscribe(quotes=["RELIANCE*"])
        seen: list[Any] = []
        lock = threading.Lock()

        def on_bar(u: Any) -> None:
            with lock:
                seen.append(u)

        s.subscribe(bars=[(client.Instrument("NIFTY 50"), "1m")], quotes=["NIFTY 50"])
        s.on("bar", on_bar).on("quote", lambda u: 1 / 0).start()
        wait_for(lambda: len(seen) >= 2, timeout=30, what="bar callbacks")
        assert all(isinstance(u, sb.BarUpdate) for u in seen)
        assert_every_bar_once(seen)
        assert s.errors and isinstance(s.errors[0], ZeroDivisionError)
    assert s.closed
    with pytest.raises(StopIteration):
        next(iter(s))

    # A plain for-loop over a fresh stream; a bar's datetime is in IST.
    with client.stream(bars=[("NIFTY 50", "1m")]) as s2:
        for u in s2:
            if isinstance(u, sb.BarUpdate):
                assert u.datetime.utcoffset().total_seconds() == 19800
                assert u.datetime.second == 0 and u.low <= min(u.open, u.close)
                break


def atm_call(srv: ServerProcess) -> str:
    _, _, chain = http_get(srv.url + "/fo/option-chain?underlying=NIFTY")
    row = min(chain["strikes"], key=lambda r: abs(r["strike"] - chain["spot"]))
    return str(row["call"]["tradingsymbol"])


def test_order_wait_returns_when_the_stream_says(srv: ServerProcess) -> None:
    key = new_user(srv, "waiter@example.com")[1]
    client = sb.TradingClient(srv.url, api_key=key)
    account = client.Account()
    sym = atm_call(srv)
    resting = account.buy(sym, 65, order_type="LIMIT", price=0.05, product="MIS")
    assert resting.status == "OPEN"
    threading.Timer(1.0, lambda: client.Account().cancel_order(resting.order_id)).start()
    t0 = time.monotonic()
    assert resting.wait(timeout=20).status == "CANCELLED"
    assert 0.9 < time.monotonic() - t0 < 10
    with pytest.raises(sb.TimeoutError):
        account.buy(sym, 65, order_type="LIMIT", price=0.05, product="MIS").wait(timeout=1)

    async def main() -> None:
        aclient = sb.AsyncTradingClient(srv.url, api_key=key)
        acct = aclient.Account()
        order = await acct.buy(sym, 65, product="MIS")
        assert order.is_complete and (await order.wait(5)).status == "COMPLETE"
        rest = await acct.buy(aclient.Instrument(sym), 65, order_type="LIMIT", price=0.05)
        assert rest.is_pending

        async def later() -> None:
            await asyncio.sleep(1.0)
            await rest.cancel()

        canceller = asyncio.create_task(later())
        assert (await rest.wait(20)).status == "CANCELLED"
        await canceller
        with pytest.raises(sb.TimeoutError):
            await (await acct.buy(sym, 65, order_type="LIMIT", price=0.05)).wait(0.5)
        positions = await acct.positions()
        assert [p.quantity for p in positions if p.tradingsymbol == sym] == [65]
        closing = await positions[0].close()
        assert closing is not None and closing.is_complete
        funds = await acct.funds()
        # The round trip moved cash (P&L and charges), and the async view is the sync one.
        assert funds.available_cash != 1_000_000
        assert funds.available_cash == client.Account().funds.available_cash

    asyncio.run(main())


def test_async_stream_and_its_cancellation(srv: ServerProcess) -> None:
    key = new_user(srv, "astream@example.com")[1]

    async def main() -> None:
        client = sb.AsyncTradingClient(srv.url, api_key=key)
        got: list[Any] = []
        async with client.stream(
            bars=[("NIFTY 50", "1m")], indicators=[("NIFTY 50", "1m", "RSI_14")], orders=True
        ) as s:
            async for u in s:
                got.append(u)
                if len(bars_in(got)) >= 2 and sum(u.type == "indicator" for u in got) >= 2:
                    break
            # A waiting next() that is cancelled leaves the stream usable.
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(s.next(), 0.001)
            u = await asyncio.wait_for(s.next(), 10)
            assert u is not None
        assert s.closed and await s.next() is None
        bars = bars_in(got)
        assert_every_bar_once(bars)
        rsi = [u for u in got if u.type == "indicator"]
        assert all(0 < u.value < 100 for u in rsi)
        assert {u.candle_time for u in rsi} <= {b.time for b in bars} | {bars[0].time - 60}

    asyncio.run(main())


def test_a_star_streams_every_contract_of_the_underlying(srv: ServerProcess) -> None:
    client = sb.TradingClient(srv.url, api_key=srv.api_key())
    seen: set[str] = set()
    with client.stream(quotes=["NIFTY*"]) as s:
        deadline = time.monotonic() + 30
        while len(seen) < 20 and time.monotonic() < deadline:
            u = s.next(0.5)
            if u is not None and u.type == "quote":
                assert u.ltp is None or u.ltp > 0
                seen.add(u.symbol)
    options = {x for x in seen if x.endswith(("CE", "PE"))}
    assert len(seen) >= 20 and len(options) >= 10, seen
    assert all(sb.parse_symbol(x).underlying == "NIFTY" for x in seen)


def test_a_script_that_leaves_its_stream_open_exits_cleanly(srv: ServerProcess) -> None:
    """The last reference to a client can go away inside one of its own stream tasks (at
    interpreter exit): the process ends quietly, with no panic."""
    script = f"""
import asyncio, stocksblitz as sb
c = sb.TradingClient({srv.url!r}, api_key={srv.api_key()!r})
s = c.stream(bars=[("NIFTY 50", "1m")], quotes=["NIFTY 50"], orders=True)
s.next(2)
async def main():
    a = sb.AsyncTradingClient({srv.url!r}, api_key={srv.api_key()!r})
    st = a.stream(quotes=["NIFTY 50"])
    await st.subscribe(quotes=["NIFTY 50"])
    await asyncio.wait_for(st.next(), 5)
asyncio.run(main())
del c
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "panicked" not in out.stderr, out.stderr[-3000:]


def test_scripts_ending_right_after_an_await_exit_cleanly(srv: ServerProcess) -> None:
    """The result of an await reaches the event loop from a runtime thread; a script that
    ends right after its last await must not have that thread cut off by the interpreter's
    finalization (it aborted with "PyGILState_Release: thread state must be current" in
    about one run in ten on a loaded machine). Several runs, each must exit 0."""
    script = f"""
import asyncio, stocksblitz as sb
async def main():
    a = sb.AsyncTradingClient({srv.url!r}, api_key={srv.api_key()!r})
    await a.Instrument("NIFTY 50").ltp()
    st = a.stream(quotes=["NIFTY 50"])
    await st.subscribe(quotes=["NIFTY 50"])
asyncio.run(main())
"""
    failures = []
    for _ in range(12):
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
        )
        if out.returncode != 0:
            failures.append((out.returncode, out.stderr[-800:]))
    assert not failures, failures
