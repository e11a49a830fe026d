"""The engine's MQTT link: status with last will, access events, lock commands, credential input.

Two kinds of outgoing message get opposite delivery guarantees on purpose:

- access events are at-least-once. While the broker is unreachable they wait in a bounded
  backlog and go out in order when the link is back, so the record of who was let in (or not)
  is never lost silently.
- lock commands are at-most-once and only *now* (R12). An unlock that cannot be handed to a live
  connection is refused, and one that was handed over but not acknowledged when the link
  dropped is discarded, never resent: a door must not open minutes later because a broker
  came back.

Why that needs care with paho: paho keeps every QoS>0 publish it has not seen acknowledged in
its own store (``Client._out_messages``) and resends it after the next CONNACK, and it does
so whatever the clean-session flag says - clean session only tells the *broker* to forget
the session; paho's client-side store is untouched. Publishing with QoS 0 would avoid the
store but the lock contract is QoS 1; message-expiry (MQTT 5) is counted from when the
broker receives the resent copy, so it does not help either; a second client recreated on
every drop would work but doubles the connections and the reconnect logic. So this link
empties paho's store through its public ``drop_out_messages()`` (paho >= 2.2) whenever the
connection is lost and again in ``on_connect``, which paho calls before its resend loop. Events
found there go back to the front of the backlog (the link republishes them itself); anything
else - lock commands, stale status - is dropped and counted. The ``_lock`` below serialises
our publishes with that reclaim so that no unlock can slip in between.
"""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from facegate.errors import FacegateError
from facegate.mqtt_backlog import EventBacklog, acked
from facegate.mqtt_wire import CredentialHandler, check_topic, credential_dispatch, no_delay

_log = logging.getLogger("facegate.mqtt")
_paho_log = logging.getLogger("facegate.mqtt.paho")

_QOS = 1
_CONNECT_TIMEOUT_S = 5.0
_RECONNECT_MIN_S = 1
_RECONNECT_MAX_S = 30
_STOP_TIMEOUT_S = 5.0
# How long a grant waits for the broker to acknowledge the lock command (PUBACK). On loopback
# it takes about a millisecond; a broker that has not taken it by now is not trusted with it.
PUBACK_WAIT_S = 1.0


class MqttLink:
    """One paho client to the configured broker, reconnecting on its own until ``stop()``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        prefix: str = "facegate",
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        tls_ca: Path | None = None,
        keepalive: int = 30,
    ) -> None:
        check_topic("prefix", prefix)
        if prefix.startswith("/") or prefix.endswith("/"):
            raise FacegateError(f"MQTT prefix {prefix!r} must not start or end with '/'")
        if tls_ca is not None and not tls_ca.is_file():
            raise FacegateError(f"MQTT tls_ca {tls_ca} is not a readable file")
        if not hasattr(mqtt.Client, "drop_out_messages"):
            # Without it paho would resend unacknowledged unlocks after a reconnect (R12).
            raise FacegateError("paho-mqtt >= 2.2 is required (R12: stale unlocks must be dropped)")
        self._host = host
        self._port = port
        self._prefix = prefix
        self._status_topic = f"{prefix}/status"
        self._keepalive = keepalive

        # Guards everything below and orders our paho publishes against the reclaim.
        # Never held by paho's thread while it holds one of paho's own mutexes: the callbacks
        # that take it (connect, disconnect) run outside them, and no on_publish is installed.
        self._lock = threading.Lock()
        self._up = threading.Event()
        self._events = EventBacklog()
        self._discarded_commands = 0
        self._unacknowledged_commands = 0
        self._subscriptions: dict[str, CredentialHandler] = {}
        self._ignored_retained: set[str] = set()
        self._started = False
        self._stopping = False
        self._ever_up = False
        self._problem: str | None = None

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            # The broker must not keep queued credential input for us across an outage
            # either: a keypad code typed during it would be replayed on reconnect.
            clean_session=True,
        )
        # Unlimited in-flight window: otherwise an unlock could wait behind a burst of
        # events in paho's "queued" state. The backlog above is what bounds memory.
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(_RECONNECT_MIN_S, _RECONNECT_MAX_S)
        client.connect_timeout = _CONNECT_TIMEOUT_S
        # A bug in a callback must not kill the network thread and, with it, the door.
        client.suppress_exceptions = True
        client.on_log = self._on_log
        if username is not None:
            # The password lives only inside paho; it is never stored here or logged.
            client.username_pw_set(username, password)
        if tls_ca is not None:
            client.tls_set_context(ssl.create_default_context(cafile=str(tls_ca)))
        client.will_set(self._status_topic, "offline", qos=_QOS, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_socket_open = no_delay
        self._client = client

    def __repr__(self) -> str:
        return f"MqttLink({self._host}:{self._port}, prefix={self._prefix!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; the link keeps reconnecting (1 s .. 30 s) until stop()."""
        with self._lock:
            if self._started:
                raise FacegateError("MqttLink.start() was already called")
            self._started = True
        self._client.connect_async(self._host, self._port, keepalive=self._keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        """Announce ``offline``, disconnect and stop the network thread, within a few seconds."""
        with self._lock:
            if not self._started or self._stopping:
                return
            self._stopping = True
            up = self._up.is_set()
        if up:
            info = self._client.publish(self._status_topic, "offline", qos=_QOS, retain=True)
            # If the link dies meanwhile the broker publishes the same word as our will.
            with contextlib.suppress(ValueError, RuntimeError):
                info.wait_for_publish(timeout=2.0)
        self._client.disconnect()
        # loop_stop() joins without a timeout; a connect attempt in progress could hold it up.
        stopper = threading.Thread(target=self._client.loop_stop, name="mqtt-stop", daemon=True)
        stopper.start()
        stopper.join(_STOP_TIMEOUT_S)
        if stopper.is_alive():
            _log.warning("MQTT network thread did not stop within %.0f s", _STOP_TIMEOUT_S)
        self._up.clear()
        held = self.held_events
        if held:
            _log.warning("stopped with %d access event(s) held and not delivered", held)

    def wait_connected(self, timeout: float) -> bool:
        """Block until the link is up (or ``timeout`` seconds pass); True if it is up."""
        return self._up.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._up.is_set() and self._client.is_connected()

    @property
    def held_events(self) -> int:
        """Access events waiting for the link to come back."""
        with self._lock:
            return len(self._events)

    @property
    def dropped_events(self) -> int:
        """Access events dropped because the backlog was full (oldest first)."""
        with self._lock:
            return self._events.dropped_total

    @property
    def discarded_commands(self) -> int:
        """Unacknowledged lock commands thrown away on a link drop instead of being resent."""
        with self._lock:
            return self._discarded_commands

    @property
    def unacknowledged_commands(self) -> int:
        """Lock commands the broker did not acknowledge in time (reported as lock_offline)."""
        with self._lock:
            return self._unacknowledged_commands

    # -- outgoing ----------------------------------------------------------------------------

    def publish_event(
        self, door: str, event: Mapping[str, object], channel: str = "access"
    ) -> None:
        """Publish one access decision to ``<prefix>/<door>/access`` (QoS 1, not retained), or
        an alert to ``<prefix>/<door>/alert``.

        Never blocks on the network: while the link is down the event is held (up to
        BACKLOG_LIMIT, oldest dropped with a warning) and sent in order once it is back.
        """
        if not door or any(c in door for c in "/+#\0"):
            raise FacegateError(f"door name {door!r} cannot be used in an MQTT topic")
        try:
            payload = json.dumps(
                dict(event), ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
        except (TypeError, ValueError) as exc:
            raise FacegateError(f"access event for door {door!r} is not valid JSON: {exc}") from exc
        topic = f"{self._prefix}/{door}/{channel}"
        with self._lock:
            self._events.hold(topic, payload)
            if self._up.is_set():
                self._events.flush(self._client)

    def publish_lock(self, topic: str, payload: str) -> bool:
        """Send a lock command (QoS 1, not retained) now, or not at all.

        True means the broker acknowledged it (PUBACK) within PUBACK_WAIT_S. False means the
        link is down, or the broker did not acknowledge in time: the caller reports the door
        as ``lock_offline``, and nothing is queued to be resent (R12). If the link drops
        before the broker acknowledges it, the command is discarded, not resent after the
        reconnect - at most once, and only now. (A command already on the wire to a broker
        that stalls may still reach the lock when the broker wakes: no client can take a
        packet back. The decision then says ``lock_offline``, the safe side of the record.)
        """
        check_topic("lock command topic", topic)
        with self._lock:
            if not (self._up.is_set() and self._client.is_connected()):
                _log.warning("lock command to %s refused: broker link is down (R12)", topic)
                return False
            info = self._client.publish(topic, payload, qos=_QOS, retain=False)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                # The link dropped between the check and the send and paho kept a copy to
                # resend later; take it back now instead of waiting for the disconnect callback.
                self._reclaim_locked()
                _log.warning(
                    "lock command to %s not sent: %s (R12)", topic, mqtt.error_string(info.rc)
                )
                return False
        # Outside the lock: the network thread takes it to handle the PUBACK or a disconnect.
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(timeout=PUBACK_WAIT_S)
        if not acked(info):
            with self._lock:
                self._unacknowledged_commands += 1
            _log.warning(
                "lock command to %s not acknowledged by the broker within %.1f s: "
                "reported as lock_offline (R12)",
                topic,
                PUBACK_WAIT_S,
            )
            return False
        return True

    # -- incoming ----------------------------------------------------------------------------

    def subscribe(self, topic: str, handler: CredentialHandler) -> None:
        """Call ``handler(topic, payload)`` for each live message on ``topic`` (a filter).

        Kept across reconnects. Retained messages are ignored: a code replayed by the broker
        on (re)subscription is not a person at the keypad now (R12). Handlers run on the
        network thread and must return quickly.
        """
        check_topic("credential topic", topic, wildcards=True)

        dispatch = credential_dispatch(topic, handler, self._ignored_retained)

        with self._lock:
            self._subscriptions[topic] = handler
            self._client.message_callback_add(topic, dispatch)
            if self._up.is_set():
                self._client.subscribe(topic, qos=_QOS)

    # -- paho callbacks (network thread) ------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._note_problem(
                f"refused:{reason}",
                f"MQTT broker {self._host}:{self._port} refused the connection: {reason}",
            )
            return
        with self._lock:
            self._reclaim_locked()
            for topic in self._subscriptions:
                client.subscribe(topic, qos=_QOS)
            client.publish(self._status_topic, "online", qos=_QOS, retain=True)
            held = len(self._events)
            dropped = self._events.take_dropped_since_up()
            self._up.set()
            self._events.flush(self._client)
            again = self._ever_up
            self._ever_up = True
            self._problem = None
        if again:
            _log.info(
                "MQTT link to %s:%d restored; %d held event(s) sent, %d dropped",
                self._host,
                self._port,
                held,
                dropped,
            )
        else:
            _log.info("MQTT link to %s:%d is up", self._host, self._port)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        with self._lock:
            was_up = self._up.is_set()
            self._up.clear()
            self._reclaim_locked()
            stopping = self._stopping
            if was_up:
                self._problem = "unreachable"
        if was_up and not stopping:
            _log.warning(
                "MQTT link to %s:%d lost (%s); holding events and refusing lock commands",
                self._host,
                self._port,
                reason,
            )

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        # paho does not say why; a refused TCP connection and a failed TLS handshake look alike.
        self._note_problem(
            "unreachable",
            f"cannot connect to MQTT broker at {self._host}:{self._port} "
            "(not reachable, or the TLS handshake failed)",
        )

    def _on_log(self, _client: mqtt.Client, _userdata: Any, level: int, text: str) -> None:
        # paho reports every failed reconnect attempt at ERROR; the link logs outages itself,
        # once. Only swallowed callback exceptions are worth an error line of their own.
        if level == mqtt.MQTT_LOG_ERR and text.startswith("Caught exception"):
            _log.error("paho: %s", text)
        else:
            _paho_log.debug("%s", text)

    def _note_problem(self, key: str, text: str) -> None:
        # One line per distinct problem per outage, not one per reconnect attempt.
        with self._lock:
            if self._problem == key or self._stopping:
                return
            self._problem = key
        _log.warning("%s", text)

    # -- helpers (caller holds self._lock) ------------------------------------------------------

    def _reclaim_locked(self) -> None:
        leftovers = self._client.drop_out_messages()
        events: list[tuple[str, bytes]] = []
        discarded = 0
        for message in leftovers:
            # Only our own event publishes go back.
            if self._events.is_ours(message):
                events.append((message.topic, bytes(message.payload)))
            elif message.topic != self._status_topic:
                discarded += 1
        self._events.put_back(events)
        if discarded:
            self._discarded_commands += discarded
            _log.warning(
                "discarded %d unacknowledged lock command(s); they will not be resent (R12)",
                discarded,
            )
