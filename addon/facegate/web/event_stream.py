"""The WebSocket event stream at GET /api/events, for the Home Assistant integration.

Each client first receives one `{"type": "state", "change": "snapshot", ...}` message with the
doors and people as they are, then `{"type": "decision", "event": {...}}` for every access
decision (the signed event as published over MQTT: a pseudonymous person id and display name,
never an image or an embedding, R10) and `{"type": "state", "change": ...}` whenever people,
consent, templates, credentials or doors change.

Decisions are made on engine threads; the listener hands them to the server's loop with
`call_soon_threadsafe` and never blocks or raises there. Each client has a bounded queue: a
client that falls that far behind is dropped (close code 1013, "try again later") rather than
letting memory grow or slowing anyone else down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, web

_LOGGER = logging.getLogger("facegate.web.event_stream")

QUEUE_SIZE = 256
MAX_CLIENTS = 32
SEND_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0
HEARTBEAT_S = 30.0


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


class Subscription:
    """One client's bounded queue of serialised messages (and, at the end, a Close)."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[str | Close] = asyncio.Queue(maxsize=size + 1)
        self.size = size
        self.dropped = False

    def offer(self, text: str) -> bool:
        """False when the client is already `size` messages behind."""
        if self.queue.qsize() >= self.size:
            return False
        self.queue.put_nowait(text)
        return True

    def end(self, close: Close) -> None:
        # What is still queued is of no use to a client being closed; the Close goes first.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(close)


class EventHub:
    """Fans messages out to the connected clients; lives on the server's event loop."""

    def __init__(self, *, queue_size: int = QUEUE_SIZE, max_clients: int = MAX_CLIENTS) -> None:
        self.queue_size = queue_size
        self.max_clients = max_clients
        self._subscriptions: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.dropped_clients = 0

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._closed = False

    @property
    def clients(self) -> int:
        return len(self._subscriptions)

    def subscribe(self) -> Subscription | None:
        """A new client's subscription; None when the hub is full or closed."""
        if self._closed or len(self._subscriptions) >= self.max_clients:
            return None
        subscription = Subscription(self.queue_size)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, message: Mapping[str, Any]) -> None:
        """On the loop: queue `message` for every client, dropping any that is too far behind."""
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        for subscription in list(self._subscriptions):
            if not subscription.offer(text):
                subscription.dropped = True
                self._subscriptions.discard(subscription)
                self.dropped_clients += 1
                subscription.end(Close(WSCloseCode.TRY_AGAIN_LATER, "client too slow"))
                _LOGGER.warning("events: dropped a client %d messages behind", self.queue_size)

    def publish_threadsafe(self, message: Mapping[str, Any]) -> None:
        """From any thread: hands `message` to the loop; a stopped server just ignores it."""
        loop = self._loop
        if loop is None or self._closed or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed in between
            loop.call_soon_threadsafe(self.publish, message)

    def on_decision(self, event: Mapping[str, object]) -> None:
        """The engine's decision listener: runs on engine threads, must never raise there."""
        try:
            self.publish_threadsafe({"type": "decision", "event": dict(event)})
        except Exception:  # a listener that raised would take the decision path down with it
            _LOGGER.exception("events: could not queue a decision")

    def state(self, change: str, **fields: Any) -> None:
        """On the loop: a change of people, consent, templates, credentials or doors."""
        self.publish(_state(change, fields))

    def state_threadsafe(self, change: str, **fields: Any) -> None:
        """From an engine thread: a change the engine made itself (a door locked out)."""
        self.publish_threadsafe(_state(change, fields))

    def close(self) -> None:
        """On the loop, at shutdown: every client is told the server is going away."""
        self._closed = True
        for subscription in list(self._subscriptions):
            subscription.end(Close(WSCloseCode.GOING_AWAY, "server shutting down"))
        self._subscriptions.clear()


Snapshot = Callable[[], Awaitable[dict[str, Any]]]


def events_handler(
    hub: EventHub, snapshot: Snapshot
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        subscription = hub.subscribe()
        if subscription is None:
            raise web.HTTPServiceUnavailable(
                reason=f"too many event stream clients (at most {hub.max_clients})"
            )
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096)
        try:
            await ws.prepare(request)
        except BaseException:
            hub.unsubscribe(subscription)
            raise

        async def pump() -> None:
            try:
                first = {"type": "state", "change": "snapshot", **(await snapshot())}
                await asyncio.wait_for(ws.send_json(first), SEND_TIMEOUT_S)
                while True:
                    item = await subscription.queue.get()
                    if isinstance(item, Close):
                        await _close(ws, request, item)
                        return
                    await asyncio.wait_for(ws.send_str(item), SEND_TIMEOUT_S)
            except (TimeoutError, ConnectionError):
                # A client that does not read at all: cut it off instead of waiting on it.
                _abort(request)

        task = asyncio.create_task(pump())
        try:
            async for _message in ws:
                pass  # one-way stream: anything a client sends is ignored
        finally:
            hub.unsubscribe(subscription)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return ws

    return handle


async def _close(ws: web.WebSocketResponse, request: web.Request, close: Close) -> None:
    try:
        await asyncio.wait_for(
            ws.close(code=close.code, message=close.reason.encode()), CLOSE_TIMEOUT_S
        )
    except (TimeoutError, ConnectionError):
        _abort(request)


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def _state(change: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "state", "change": change, "ts": round(time.time(), 3), **fields}
