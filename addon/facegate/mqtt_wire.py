"""What crosses the wire to the broker besides our publishes: the rules for topics, the
socket option that keeps lock commands quick, and how a credential message is handed over."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from facegate.errors import FacegateError

_log = logging.getLogger("facegate.mqtt")

CredentialHandler = Callable[[str, bytes], None]


def check_topic(what: str, topic: str, *, wildcards: bool = False) -> None:
    if not topic or "\0" in topic:
        raise FacegateError(f"MQTT {what} must be a non-empty topic without NUL characters")
    if not wildcards and ("+" in topic or "#" in topic):
        raise FacegateError(f"MQTT {what} {topic!r} must not contain the wildcards + or #")


def no_delay(_client: mqtt.Client, _userdata: Any, sock: object) -> None:
    # paho leaves Nagle's algorithm on. It would hold a lock command back until the broker
    # acknowledged the previous small write - typically the PUBACK for the keypad code that
    # caused the unlock - and the broker's delayed ACK makes that ~40 ms on Linux (R5: a
    # credential must be as quick as a face; measured in benchmarks/latency.py).
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def credential_dispatch(
    topic: str, handler: CredentialHandler, ignored_retained: set[str]
) -> Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]:
    """paho's message callback for one credential topic filter: live messages only."""

    def dispatch(_client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.retain:
            # Only the network thread touches this set, so it needs no lock.
            if message.topic not in ignored_retained:
                ignored_retained.add(message.topic)
                _log.warning("ignoring retained message on credential topic %s", message.topic)
            return
        try:
            handler(message.topic, bytes(message.payload))
        except Exception as exc:
            # Type only: the exception text could carry the code that was typed.
            _log.error("credential handler for %s failed: %s", topic, type(exc).__name__)

    return dispatch
