"""Keypads and card readers on MQTT: codes in, decisions out (R4, R5).

Each door lists its readers under ``credential_inputs``: a topic, the kind of code it carries
and, for devices that publish JSON (a zigbee2mqtt keypad sends
``{"action": "arm_all_zones", "action_code": "123456", ...}``), the key holding the code.
Messages without that key (battery and state reports) are not attempts and are ignored, as
are malformed payloads; retained messages never get this far (MqttLink drops them, R12).

The MQTT network thread only notes the arrival time and queues the code: the decision hashes
a PIN (tens of milliseconds of scrypt), and the network thread must stay free for everything
else - including a face unlock's lock command, which would otherwise wait behind the hash.
A code that waited too long is refused as stale by the actuator, never acted on late.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from facegate.config import CredentialInputConfig, DoorConfig
from facegate.config_checks import check_credential_inputs

_LOGGER = logging.getLogger("facegate.credential_input")
QUEUE_LIMIT = 64
FLOOD_LOG_INTERVAL_S = 60.0
MAX_PAYLOAD_BYTES = 16 * 1024  # a zigbee2mqtt keypad report is well under 1 KiB
MAX_CODE_CHARS = 128


class Present(Protocol):
    def __call__(
        self, door_id: str, kind: str, value: str, *, arrived: float | None = None
    ) -> Mapping[str, object]: ...


@runtime_checkable
class Subscribable(Protocol):
    def subscribe(self, topic: str, handler: Callable[[str, bytes], None]) -> None: ...


@dataclass(frozen=True)
class _Attempt:
    door: str
    kind: str
    code: str
    arrived: float


def extract_code(payload: bytes, json_key: str | None) -> str | None:
    """The code in one message, or None when the message holds none or is malformed."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if json_key is not None:
        try:
            document = json.loads(text)
        except ValueError:
            return None
        if not isinstance(document, dict):
            return None
        value = document.get(json_key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None
        text = value
    code = text.strip()
    if not code or len(code) > MAX_CODE_CHARS:
        return None
    return code


class CredentialInputs:
    """Subscribes every configured reader and feeds its codes to ``present`` on one worker."""

    def __init__(self, doors: Iterable[DoorConfig], present: Present) -> None:
        self._doors = list(doors)
        # Readers built outside a configuration file are held to the same rules.
        check_credential_inputs(self._doors)
        self._present = present
        self._queue: queue.Queue[_Attempt | None] = queue.Queue(QUEUE_LIMIT)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.ignored = 0
        self.dropped = 0
        self._flood_logged_at = float("-inf")

    @property
    def count(self) -> int:
        return sum(len(door.credential_inputs) for door in self._doors)

    def start(self, link: Subscribable) -> None:
        self._thread = threading.Thread(target=self._run, name="credential-input", daemon=True)
        self._thread.start()
        for door in self._doors:
            for item in door.credential_inputs:
                link.subscribe(item.topic, self._handler(door.id, item))
        if self.count:
            _LOGGER.info("listening for credentials on %d reader topic(s)", self.count)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is None:
            return
        # When full, the worker sees _stopping after its current attempt instead.
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=1.0)
        self._thread.join(timeout=5.0)

    def _handler(self, door_id: str, item: CredentialInputConfig) -> Callable[[str, bytes], None]:
        def handle(topic: str, payload: bytes) -> None:
            arrived = time.monotonic()
            if self._stopping.is_set():
                return
            code = extract_code(payload, item.json_key)
            if code is None:
                # Never the payload: it may hold a code with a typo in it.
                self.ignored += 1
                _LOGGER.debug("ignored a message without a usable code on %s", topic)
                return
            try:
                self._queue.put_nowait(_Attempt(door_id, item.kind, code, arrived))
            except queue.Full:
                self.dropped += 1
                # One line a minute at most: a flood must not fill the log either.
                if arrived - self._flood_logged_at >= FLOOD_LOG_INTERVAL_S:
                    self._flood_logged_at = arrived
                    _LOGGER.warning(
                        "door %s: credential input flooded; %d code(s) dropped so far",
                        door_id,
                        self.dropped,
                    )

        return handle

    def _run(self) -> None:
        while True:
            attempt = self._queue.get()
            if attempt is None or self._stopping.is_set():
                return
            try:
                self._present(attempt.door, attempt.kind, attempt.code, arrived=attempt.arrived)
            except Exception as error:
                # Type only: the message could carry the code.
                _LOGGER.error(
                    "door %s: credential decision failed: %s", attempt.door, type(error).__name__
                )
