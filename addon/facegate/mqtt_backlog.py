"""Access events on their way to the broker: at least once, in order, in bounded memory.

While the link is down events wait here (the oldest dropped past BACKLOG_LIMIT, with one
warning per outage); once it is back they go out in order. Events paho had taken but the
broker had not acknowledged when the link dropped come back to the front (see mqtt.py for
why paho's own resend cannot be trusted with lock commands). The link's lock is held around
every call.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

_log = logging.getLogger("facegate.mqtt")

BACKLOG_LIMIT = 1000
_QOS = 1


def acked(info: mqtt.MQTTMessageInfo) -> bool:
    """Whether the broker acknowledged a publish (False for one paho refused)."""
    # is_published() raises for messages paho refused; those are not acknowledged either.
    try:
        return info.is_published()
    except (ValueError, RuntimeError):
        return False


class EventBacklog:
    def __init__(self) -> None:
        self._held: deque[tuple[str, bytes]] = deque()
        self._sent: dict[int, mqtt.MQTTMessageInfo] = {}
        self.dropped_total = 0
        self._dropped_since_up = 0

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, topic: str, payload: bytes) -> None:
        self._held.append((topic, payload))
        self._trim()

    def is_ours(self, message: mqtt.MQTTMessage) -> bool:
        """Whether paho's leftover `message` is an event this backlog sent (identity, not
        just the mid: mids wrap)."""
        sent = self._sent.get(message.mid)
        return sent is not None and sent is message.info

    def put_back(self, events: Iterable[tuple[str, bytes]]) -> None:
        """Events paho held unacknowledged go back to the front, in their order."""
        self._sent.clear()
        self._held.extendleft(reversed(list(events)))
        self._trim()

    def take_dropped_since_up(self) -> int:
        dropped, self._dropped_since_up = self._dropped_since_up, 0
        return dropped

    def flush(self, client: mqtt.Client) -> None:
        while self._held:
            topic, payload = self._held[0]
            info = client.publish(topic, payload, qos=_QOS, retain=False)
            if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
                # paho kept it; the reclaim on disconnect puts it back ahead of the rest.
                self._sent[info.mid] = info
                self._held.popleft()
                return
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return  # stays held; retried on the next publish or reconnect
            self._sent[info.mid] = info
            self._held.popleft()
        if len(self._sent) > 4 * BACKLOG_LIMIT:
            self._sent = {m: i for m, i in self._sent.items() if not acked(i)}

    def _trim(self) -> None:
        excess = len(self._held) - BACKLOG_LIMIT
        if excess <= 0:
            return
        for _ in range(excess):
            self._held.popleft()
        if self._dropped_since_up == 0:
            _log.warning(
                "MQTT event backlog full (%d): dropping the oldest held events", BACKLOG_LIMIT
            )
        self._dropped_since_up += excess
        self.dropped_total += excess
