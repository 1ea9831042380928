"""Messaging between one user's own processes through the server (issue 19): a real second
Python process, another user who must see nothing, mailboxes, broadcasts, limits, async."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import stocksblitz as sb
from conftest import ServerProcess, http_call, new_user, wait_for

PEER = textwrap.dedent(
    """
    import sys, threading
    import stocksblitz as sb
    url, key = sys.argv[1], sys.argv[2]
    bus = sb.TradingClient(url, api_key=key).messaging
    done = threading.Event()
    def on_signal(m):
        bus.publish("acks", {"got": m.content, "id": m.message_id}, sender="peer")
        if m.content.get("last"):
            done.set()
    bus.subscribe("signals", on_signal)
    print("ready", flush=True)
    done.wait(30)
    bus.close()
    """
)


def test_two_processes_of_a_user_talk_and_another_user_hears_nothing(
    server: ServerProcess, tmp_path: Path
) -> None:
    key = new_user(server, "bus-owner@example.com")[1]
    stranger_key = new_user(server, "bus-stranger@example.com")[1]
    me = sb.TradingClient(server.url, api_key=key).messaging
    stranger = sb.TradingClient(server.url, api_key=stranger_key).messaging
    acks: list[sb.Message] = []
    overheard: list[sb.Message] = []
    got_all = threading.Event()

    def on_ack(m: sb.Message) -> None:
        acks.append(m)
        if len(acks) == 3:
            got_all.set()

    me.subscribe("acks", on_ack)
    stranger.subscribe("*", overheard.append)
    stranger.subscribe("signals", overheard.append)
    script = tmp_path / "peer.py"
    script.write_text(PEER)
    peer = subprocess.Popen(
        [sys.executable, str(script), server.url, key],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert peer.stdout is not None
        assert peer.stdout.readline().strip() == "ready"
        sent = [
            me.publish("signals", {"n": 1, "side": "BUY"}),
            me.publish("signals", {"n": 2, "side": "SELL"}, sb.MessageType.SIGNAL),
            me.publish("signals", {"n": 3, "last": True}, metadata={"strategy": "s1"}),
        ]
        assert got_all.wait(20), (acks, peer.stdout.read() if peer.poll() is not None else "")
        assert [a.content["got"]["n"] for a in acks] == [1, 2, 3]
        assert [a.content["id"] for a in acks] == [m.message_id for m in sent]
        assert all(a.sender == "peer" and a.topic == "acks" for a in acks)
        assert sent[1].message_type == "signal" and sent[2].metadata == {"strategy": "s1"}
        assert peer.wait(20) == 0
    finally:
        if peer.poll() is None:
            peer.kill()
        me.close()
    stranger.close()
    assert overheard == []
    assert stranger.get_messages() == []
    assert len(me.get_messages(topic="signals")) == 3
    assert me.errors == [] and stranger.errors == []


def test_mailboxes_broadcasts_and_clearing(server: ServerProcess) -> None:
    key = new_user(server, "bus-mail@example.com")[1]
    bus = sb.TradingClient(server.url, api_key=key).messaging
    a: list[sb.Message] = []
    b: list[sb.Message] = []
    direct: list[sb.Message] = []
    bus.subscribe("prices", a.append)
    bus.subscribe("orders", b.append)
    bus.subscribe("orders", a.append)  # one callback on two topics: a broadcast reaches it once
    bus.subscribe("@risk", direct.append)
    try:
        bus.broadcast({"halt": True}, sb.MessageType.WARNING)
        bus.send({"exposure": 1.2}, recipient="risk")
        bus.send({"exposure": 1.4}, recipient="risk", sender="strategy-b")
        wait_for(lambda: len(direct) == 3 and len(a) == 1 and len(b) == 1, what="deliveries")
        # The broadcast reaches every subscriber, the mailbox's too; direct messages only it.
        assert [m.recipient for m in direct] == [None, "risk", "risk"]
        assert a[0].topic == "*" and a[0].content == {"halt": True}
        assert a[0].message_type == "warning" and b[0].message_id == a[0].message_id
        mail = bus.receive("risk")
        assert [m.content["exposure"] for m in mail] == [1.2, 1.4]
        assert mail[1].sender == "strategy-b" and not mail[0].read
        assert bus.receive("risk") == [], "read messages are not received again"
        bus.send("peek", recipient="risk")
        assert [m.content for m in bus.receive("risk", mark_read=False)] == ["peek"]
        assert [m.content for m in bus.receive("risk")] == ["peek"]
        assert bus.receive("nobody") == []
        assert len(bus.get_messages()) == 4
        assert bus.clear_messages("*") == 1
        assert bus.clear_messages() == 3 and bus.get_messages() == []
    finally:
        bus.close()


def test_bad_messages_are_refused_with_the_reason(server: ServerProcess) -> None:
    key = new_user(server, "bus-bad@example.com")[1]
    url = server.url + "/messages"
    for body, needle in [
        ({"content": 1}, "topic"),
        ({"topic": "x", "content": "y" * 70_000}, "content"),
        ({"topic": "x", "content": 1, "message_type": "carrier-pigeon"}, "message_type"),
        ({"topic": "x", "content": 1, "metadata": [1]}, "metadata"),
        ({"topic": "x" * 200, "content": 1}, "topic"),
    ]:
        status, _, out = http_call(url, "POST", body, token=key)
        assert status == 400 and needle in out["detail"], (body, out)
    status, _, out = http_call(url, "POST", {"topic": "x"}, token=key)
    assert status == 422, out
    status, _, out = http_call(url, "GET", auth=False)
    assert status == 401, out
    assert http_call(url, token=key)[2]["data"] == []


def test_async_subscribers_receive_on_the_event_loop(server: ServerProcess) -> None:
    key = new_user(server, "bus-async@example.com")[1]
    sync_bus = sb.TradingClient(server.url, api_key=key).messaging

    async def main() -> list[sb.Message]:
        got: list[sb.Message] = []
        done = asyncio.Event()

        async def on(m: sb.Message) -> None:
            got.append(m)
            done.set()

        async with sb.AsyncTradingClient(server.url, api_key=key) as client:
            await client.messaging.subscribe("fills", on)
            await asyncio.to_thread(sync_bus.publish, "fills", {"qty": 65})
            await asyncio.wait_for(done.wait(), 15)
            sent = await client.messaging.send("hi", recipient="me")
            mail = await client.messaging.receive("me")
            assert [m.message_id for m in mail] == [sent.message_id]
            assert len(await client.messaging.get_messages(topic="fills")) == 1
            assert await client.messaging.clear_messages() == 2
            await client.messaging.close()
        return got

    got = asyncio.run(main())
    assert [m.content for m in got] == [{"qty": 65}]


@pytest.mark.parametrize("path", ["/messages/stream", "/alerts/stream"])
def test_user_streams_refuse_a_bad_token_and_plain_http(server: ServerProcess, path: str) -> None:
    status, _, body = http_call(server.url + path, auth=False)
    assert status == 426, body
    websockets = pytest.importorskip("websockets.sync.client")
    url = server.url.replace("http://", "ws://") + path + "?token=sb_not_a_key"
    with websockets.connect(url) as ws:
        with pytest.raises(Exception) as closed:
            ws.recv(timeout=5)
    assert "1008" in str(closed.value)
