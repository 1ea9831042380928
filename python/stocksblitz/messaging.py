"""Messaging between your own clients and strategies through the server (the old SDK's
``client.messaging``), sync and async.

Messages are stored and delivered by the server (through Redis when it runs several replicas),
so two processes of one user — a notebook and a strategy, two strategies — can talk; another
user's processes never see them.

- ``publish(topic, content)`` reaches every subscriber of ``topic`` in every process of yours;
  ``broadcast(content)`` reaches every subscriber of every topic (topic ``"*"``);
- ``send(content, recipient=...)`` leaves a message in ``recipient``'s mailbox, read with
  ``receive(recipient)`` (and live by subscribers of ``"@<recipient>"``);
- ``subscribe(topic, callback)`` calls ``callback(message)`` on a background thread (sync) or
  the event loop (async) for each message of ``topic`` (``"*"``: all).

    bus = client.messaging
    bus.subscribe("signals", lambda m: print(m.content))
    bus.publish("signals", {"symbol": "NIFTY 50", "side": "BUY"})
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from .enums import MessageType
from .streams import AsyncStream, Message, Stream, _live_stream

if TYPE_CHECKING:
    from .aio import AsyncTradingClient
    from .client import TradingClient

__all__ = ["AsyncMessaging", "Message", "Messaging"]

BROADCAST = "*"

Callback = Callable[[Message], Any]


def _body(
    content: Any,
    topic: Optional[str],
    recipient: Optional[str],
    message_type: Union[MessageType, str],
    metadata: Optional[dict[str, Any]],
    sender: Optional[str],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "content": content,
        "message_type": str(getattr(message_type, "value", message_type)),
        "metadata": metadata or {},
    }
    if topic is not None:
        body["topic"] = topic
    if recipient is not None:
        body["recipient"] = recipient
    if sender is not None:
        body["sender"] = sender
    return body


class _Topics:
    def __init__(self) -> None:
        self._by_topic: dict[str, list[Callback]] = {}
        self._lock = threading.Lock()
        self.errors: list[BaseException] = []

    def add(self, topic: str, callback: Callback) -> None:
        if not callable(callback):
            raise TypeError("callback must be callable")
        if not isinstance(topic, str) or not topic.strip():
            raise ValueError("topic must be a non-empty string ('*': every topic)")
        with self._lock:
            self._by_topic.setdefault(topic, []).append(callback)

    def remove(self, topic: str, callback: Optional[Callback]) -> None:
        with self._lock:
            if callback is None:
                self._by_topic.pop(topic, None)
            else:
                self._by_topic[topic] = [c for c in self._by_topic.get(topic, []) if c != callback]

    def targets(self, m: Message) -> list[Callback]:
        with self._lock:
            if m.topic == BROADCAST:
                # A broadcast reaches every subscriber once.
                seen: list[Callback] = []
                for cbs in self._by_topic.values():
                    for c in cbs:
                        if c not in seen:
                            seen.append(c)
                return seen
            key = m.topic if m.topic is not None else f"@{m.recipient}"
            return [*self._by_topic.get(key, []), *self._by_topic.get(BROADCAST, [])]


class Messaging:
    """``client.messaging``: publish and subscribe to topics, send and receive direct messages."""

    def __init__(self, client: TradingClient) -> None:
        self._client = client
        self._topics = _Topics()
        self._stream: Optional[Stream] = None
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        text = None if body is None else json.dumps(body)
        return self._client._api._native.request(method, path, text)["data"]

    def publish(
        self,
        topic: str,
        content: Any,
        message_type: Union[MessageType, str] = MessageType.JSON,
        metadata: Optional[dict[str, Any]] = None,
        sender: Optional[str] = None,
    ) -> Message:
        """Publish ``content`` (any JSON value) to ``topic``'s subscribers."""
        body = _body(content, topic, None, message_type, metadata, sender)
        return Message._from_json(self._call("POST", "/messages", body))

    def broadcast(
        self,
        content: Any,
        message_type: Union[MessageType, str] = MessageType.JSON,
        metadata: Optional[dict[str, Any]] = None,
        sender: Optional[str] = None,
    ) -> Message:
        """Publish to every subscriber of every topic."""
        return self.publish(BROADCAST, content, message_type, metadata, sender)

    def send(
        self,
        content: Any,
        recipient: str,
        message_type: Union[MessageType, str] = MessageType.JSON,
        metadata: Optional[dict[str, Any]] = None,
        sender: Optional[str] = None,
    ) -> Message:
        """Leave ``content`` in ``recipient``'s mailbox (read with :meth:`receive`)."""
        body = _body(content, None, recipient, message_type, metadata, sender)
        return Message._from_json(self._call("POST", "/messages", body))

    def receive(self, recipient: str, mark_read: bool = True, limit: int = 100) -> list[Message]:
        """``recipient``'s unread messages, oldest first (then read, unless ``mark_read`` is
        False)."""
        body = {"recipient": recipient, "mark_read": bool(mark_read), "limit": int(limit)}
        return [Message._from_json(m) for m in self._call("POST", "/messages/receive", body)]

    def get_messages(
        self,
        topic: Optional[str] = None,
        limit: int = 100,
        recipient: Optional[str] = None,
        unread_only: bool = False,
    ) -> list[Message]:
        """Stored messages, newest first."""
        params: dict[str, Any] = {"limit": int(limit)}
        if topic is not None:
            params["topic"] = topic
        if recipient is not None:
            params["recipient"] = recipient
        if unread_only:
            params["unread"] = "true"
        rows = self._client._api._native.get("/messages", params)["data"]
        return [Message._from_json(m) for m in rows]

    def clear_messages(self, topic: Optional[str] = None) -> int:
        """Delete stored messages (of ``topic``, or all); returns how many."""
        from urllib.parse import quote

        path = "/messages" + ("" if topic is None else f"?topic={quote(topic)}")
        return int(self._call("DELETE", path)["deleted"])

    def subscribe(self, topic: str, callback: Callback) -> None:
        """Call ``callback(message)`` for each message of ``topic`` from now on (``"*"``: all;
        ``"@name"``: messages sent to ``name``), on a background thread. Returns once the
        stream is connected."""
        self._topics.add(topic, callback)
        self._ensure_listening()

    def unsubscribe(self, topic: str, callback: Optional[Callback] = None) -> None:
        self._topics.remove(topic, callback)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions the callbacks raised (they never stop the delivery)."""
        return self._topics.errors

    def _ensure_listening(self) -> None:
        with self._lock:
            if self._stream is not None and not self._stream.closed:
                return
            native = self._client._api._native.stream()
            self._stream = _live_stream(native, "messages", "message", self._dispatch)

    def _dispatch(self, m: Any) -> None:
        if not isinstance(m, Message):
            return
        for cb in self._topics.targets(m):
            try:
                cb(m)
            except Exception as e:  # a callback's error must not stop the delivery
                self._topics.errors.append(e)

    def close(self) -> None:
        """Stop the background delivery."""
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None

    def __repr__(self) -> str:
        return f"<Messaging listening={self._stream is not None}>"


class AsyncMessaging:
    """``aclient.messaging``: :class:`Messaging` with awaitables; callbacks run on the event
    loop (coroutine functions are awaited)."""

    def __init__(self, client: AsyncTradingClient) -> None:
        self._client = client
        self._topics = _Topics()
        self._stream: Optional[AsyncStream] = None
        self._task: Optional[asyncio.Task[None]] = None

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        text = None if body is None else json.dumps(body)
        return (await self._client._native.request_async(method, path, text))["data"]

    async def publish(
        self,
        topic: str,
        content: Any,
        message_type: Union[MessageType, str] = MessageType.JSON,
        metadata: Optional[dict[str, Any]] = None,
        sender: Optional[str] = None,
    ) -> Message:
        body = _body(content, topic, None, message_type, metadata, sender)
        return Message._from_json(await self._call("POST", "/messages", body))

    async def broadcast(
        self,
        content: Any,
        message_type: Union[MessageType, str] = MessageType.JSON,
        metadata: Optional[dict[str, Any]] = None,
        sender: Optional[str] = None,
    ) -> Message:
        return await self.publish(BROADCAST, content, message_type, metadata, sender)

    async def send(
        self,
        content: Any,
        recipient: str,
        message_type: Union[MessageType, str] = MessageType.JSON,
        metadata: Optional[dict[str, Any]] = None,
        sender: Optional[str] = None,
    ) -> Message:
        body = _body(content, None, recipient, message_type, metadata, sender)
        return Message._from_json(await self._call("POST", "/messages", body))

    async def receive(
        self, recipient: str, mark_read: bool = True, limit: int = 100
    ) -> list[Message]:
        body = {"recipient": recipient, "mark_read": bool(mark_read), "limit": int(limit)}
        rows = await self._call("POST", "/messages/receive", body)
        return [Message._from_json(m) for m in rows]

    async def get_messages(self, topic: Optional[str] = None, limit: int = 100) -> list[Message]:
        params: dict[str, Any] = {"limit": int(limit)}
        if topic is not None:
            params["topic"] = topic
        rows = (await self._client._native.get_async("/messages", params))["data"]
        return [Message._from_json(m) for m in rows]

    async def clear_messages(self, topic: Optional[str] = None) -> int:
        from urllib.parse import quote

        path = "/messages" + ("" if topic is None else f"?topic={quote(topic)}")
        return int((await self._call("DELETE", path))["deleted"])

    async def subscribe(self, topic: str, callback: Callback) -> None:
        """As :meth:`Messaging.subscribe`; the delivery runs in a task on the running loop."""
        self._topics.add(topic, callback)
        if self._task is not None and not self._task.done():
            return
        s = self._client.stream()
        await s.subscribe(messages=True)
        self._stream = s
        live = asyncio.Event()

        async def pump() -> None:
            async for u in s:
                if getattr(u, "type", None) == "status" and getattr(u, "stream", "") == "messages":
                    if getattr(u, "state", "") == "live":
                        live.set()
                    continue
                if isinstance(u, Message):
                    for cb in self._topics.targets(u):
                        try:
                            r = cb(u)
                            if asyncio.iscoroutine(r):
                                await r
                        except Exception as err:
                            self._topics.errors.append(err)

        self._task = asyncio.get_running_loop().create_task(pump())
        try:
            await asyncio.wait_for(live.wait(), timeout=15)
        except asyncio.TimeoutError:
            await self.close()
            from .exceptions import TimeoutError as SbTimeout

            raise SbTimeout("the message stream did not connect within 15 s") from None

    def unsubscribe(self, topic: str, callback: Optional[Callback] = None) -> None:
        self._topics.remove(topic, callback)

    async def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
