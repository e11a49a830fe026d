"""A deadline for a request's headers: a client that sends them a byte at a time is cut off.

aiohttp limits how large headers may be, not how long they may take, so a few hundred
connections each trickling a header line every few seconds would hold the API (and the threads
and sockets behind it) for as long as they like. Each connection's protocol is wrapped: from
the first byte of a request (or from the moment the connection opens) its headers must be
complete within HEADER_DEADLINE_S, or the connection is dropped. The body that follows is
counted by its Content-Length, so every request on a kept-alive connection gets the same
deadline. Upgraded connections (the event WebSocket) and chunked bodies leave the deadline
behind once their headers are in; the handlers bound how long a body may take.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

_LOGGER = logging.getLogger("facegate.web")
HEADER_DEADLINE_S = 10.0
_END = b"\r\n\r\n"
_MAX_HEAD = 64 * 1024  # aiohttp refuses larger headers itself (431); we stop looking
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,18})[ \t]*(?=\r\n|$)")


class HeaderDeadline(asyncio.Protocol):
    """Wraps aiohttp's request handler; everything but the deadline passes straight through."""

    def __init__(self, inner: Any, deadline_s: float | None = None) -> None:
        self._inner = inner
        self._deadline_s = HEADER_DEADLINE_S if deadline_s is None else deadline_s
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._head = bytearray()
        self._body_left = 0
        self._in_headers = True
        self._tracking = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._arm()  # a connection that never sends a byte is held to the deadline too
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._tracking:
            self._follow(data)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return bool(self._inner.eof_received())

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def _follow(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self._tracking:
            if not self._in_headers:
                taken = min(self._body_left, len(view))
                self._body_left -= taken
                view = view[taken:]
                if not self._body_left:
                    self._in_headers = True
                continue
            self._arm()
            self._head += view
            end = self._head.find(_END)
            if end < 0:
                if len(self._head) > _MAX_HEAD:
                    self._stop_tracking()
                return
            head, rest = bytes(self._head[:end]).lower(), bytes(self._head[end + len(_END) :])
            self._head.clear()
            self._disarm()
            if b"\r\nupgrade:" in head or b"\r\ntransfer-encoding:" in head:
                self._stop_tracking()
                return
            length = _LENGTH.search(head)
            self._body_left = int(length.group(1)) if length else 0
            self._in_headers = not self._body_left
            view = memoryview(rest)

    def _arm(self) -> None:
        if self._timer is None and self._transport is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._deadline_s, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _stop_tracking(self) -> None:
        self._tracking = False
        self._disarm()

    def _expire(self) -> None:
        self._timer = None
        if self._transport is not None and not self._transport.is_closing():
            _LOGGER.info(
                "API: a request's headers took over %.0f s; connection dropped", self._deadline_s
            )
            self._transport.abort()
