"""MqttLink and EmbeddedBroker against a real mosquitto (and amqtt) on the loopback interface."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
import pytest
from conftest_mqtt import make_ca, server_certificate
from facegate.demo_broker import EmbeddedBroker
from facegate.errors import FacegateError
from facegate.mqtt import MqttLink
from facegate.mqtt_backlog import BACKLOG_LIMIT

if TYPE_CHECKING:  # imported by pytest as a plugin; importing it here first would skip rewriting
    from conftest_mqtt import Mosquitto, MosquittoFactory, Received, Subscriber, SubscriberFactory

pytest_plugins = ["conftest_mqtt"]

ADDON = Path(__file__).resolve().parents[2] / "addon"
LOCK_TOPIC = "zigbee2mqtt/front_door_lock/set"
UNLOCK = '{"state":"UNLOCK"}'
STATUS = "facegate/status"
# Long enough for a resend after CONNACK to have arrived many times over on loopback.
SILENCE_S = 2.0


def _event(n: int, **extra: object) -> dict[str, object]:
    return {"id": f"ev-{n}", "door": "front", "result": "denied", "reason": "unknown", **extra}


@pytest.fixture
def make_link() -> Iterator[Callable[..., MqttLink]]:
    links: list[MqttLink] = []

    def make(broker: Mosquitto | EmbeddedBroker, *, connect: bool = True, **kw: Any) -> MqttLink:
        kw.setdefault("client_id", f"facegate-test-{len(links)}")
        link = MqttLink(host=broker.host, port=broker.port, **kw)
        links.append(link)
        link.start()
        if connect:
            assert link.wait_connected(5.0), "link did not connect to the test broker"
        return link

    yield make
    for link in links:
        link.stop()


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _fresh_view(
    subscribe: SubscriberFactory, broker: Mosquitto, topic: str, timeout: float = 2.0
) -> list[Received]:
    """What a client subscribing now sees on ``topic`` (i.e. the retained message, if any)."""
    with subscribe(broker.host, broker.port, topic) as sub:
        sub.wait_for(bool, timeout)
        return sub.messages


def _outage(broker: Mosquitto, link: MqttLink, listener: Subscriber) -> Callable[[], None]:
    """Stop the broker and wait until the link sees it; returns the function that restarts it.

    The restart waits until the test listener has subscribed again and checks that the link
    has not reconnected before that - otherwise an "unlock never arrives" assertion could pass
    only because nobody was listening.
    """
    mark = listener.mark()
    broker.stop()
    assert _wait(lambda: not link.connected, 5.0), "link did not notice the broker going away"

    def restart() -> None:
        broker.start()
        assert listener.wait_ready(5.0, since=mark), "test listener did not resubscribe"
        assert not link.connected, "link reconnected before the listener; result would be vacuous"
        assert link.wait_connected(10.0), "link did not reconnect after the broker came back"

    return restart


# -- status and last will ------------------------------------------------------------------


def test_status_is_online_retained_after_start_and_offline_after_stop(
    mosquitto: Mosquitto, make_link: Callable[..., MqttLink], make_subscriber: SubscriberFactory
) -> None:
    link = make_link(mosquitto)
    [online] = _fresh_view(make_subscriber, mosquitto, STATUS)
    assert (online.text, online.retain, online.qos) == ("online", True, 1)

    link.stop()
    assert not link.connected
    [offline] = _fresh_view(make_subscriber, mosquitto, STATUS)
    assert (offline.text, offline.retain, offline.qos) == ("offline", True, 1)


def test_last_will_publishes_offline_when_the_process_dies(
    mosquitto: Mosquitto, mqtt_listener: Subscriber, make_subscriber: SubscriberFactory
) -> None:
    script = textwrap.dedent(f"""
        import time
        from facegate.mqtt import MqttLink
        link = MqttLink(host={mosquitto.host!r}, port={mosquitto.port}, client_id="doomed")
        link.start()
        time.sleep(30)
    """)
    env = {**os.environ, "PYTHONPATH": str(ADDON)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        assert mqtt_listener.wait_for(lambda ms: any(m.text == "online" for m in ms), 10.0)
        proc.kill()  # no DISCONNECT packet: only the will can tell the world
        proc.wait(5.0)
        assert mqtt_listener.wait_for(
            lambda ms: [m.text for m in ms if m.topic == STATUS][-1:] == ["offline"], 5.0
        )
    finally:
        proc.kill()
        proc.wait(5.0)
    [offline] = _fresh_view(make_subscriber, mosquitto, STATUS)
    assert (offline.text, offline.retain) == ("offline", True)


# -- events and lock commands --------------------------------------------------------------


def test_event_is_delivered_once_with_qos1_not_retained_as_exact_json(
    mosquitto: Mosquitto,
    mqtt_listener: Subscriber,
    make_link: Callable[..., MqttLink],
    make_subscriber: SubscriberFactory,
) -> None:
    link = make_link(mosquitto)
    event = _event(
        1, result="granted", reason="match", person={"id": "p-7f3a", "name": "李京"}, score=0.91
    )
    link.publish_event("front", event)

    topic = "facegate/front/access"
    assert mqtt_listener.wait_for(lambda ms: any(m.topic == topic for m in ms), 5.0)
    [got] = mqtt_listener.on(topic)
    assert (got.qos, got.retain) == (1, False)
    assert json.loads(got.payload) == event
    assert got.payload == json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    assert _fresh_view(make_subscriber, mosquitto, topic, timeout=0.5) == [], (
        "an access event was retained"
    )


def test_publish_lock_while_connected_sends_exactly_one_command(
    mosquitto: Mosquitto, mqtt_listener: Subscriber, make_link: Callable[..., MqttLink]
) -> None:
    link = make_link(mosquitto)
    assert link.publish_lock(LOCK_TOPIC, UNLOCK) is True
    assert mqtt_listener.wait_for(lambda ms: any(m.topic == LOCK_TOPIC for m in ms), 5.0)
    time.sleep(0.5)
    [got] = mqtt_listener.on(LOCK_TOPIC)
    assert (got.text, got.qos, got.retain) == (UNLOCK, 1, False)


def test_bad_topics_are_refused_before_anything_is_sent(
    mosquitto: Mosquitto, make_link: Callable[..., MqttLink]
) -> None:
    link = make_link(mosquitto)
    for door in ("", "a/b", "+", "#"):
        with pytest.raises(FacegateError):
            link.publish_event(door, _event(1))
    with pytest.raises(FacegateError):
        link.publish_lock("locks/+/set", UNLOCK)
    with pytest.raises(FacegateError):
        link.publish_event("front", {"score": float("nan")})
    with pytest.raises(FacegateError):
        MqttLink(host="127.0.0.1", port=1, client_id="x", prefix="a/#")


# -- R12: an unlock is sent now or never ---------------------------------------------------


def test_r12_unlock_refused_while_broker_is_down_is_never_sent_but_held_events_are(
    mosquitto: Mosquitto, mqtt_listener: Subscriber, make_link: Callable[..., MqttLink]
) -> None:
    link = make_link(mosquitto)
    restart = _outage(mosquitto, link, mqtt_listener)

    assert link.publish_lock(LOCK_TOPIC, UNLOCK) is False
    for n in range(3):
        link.publish_event("front", _event(n))
    assert link.held_events == 3

    restart()
    topic = "facegate/front/access"
    assert mqtt_listener.wait_for(lambda ms: sum(m.topic == topic for m in ms) >= 3, 5.0)
    time.sleep(SILENCE_S)
    assert [json.loads(m.payload)["id"] for m in mqtt_listener.on(topic)] == [
        "ev-0",
        "ev-1",
        "ev-2",
    ]
    assert mqtt_listener.on(LOCK_TOPIC) == [], "a refused unlock reached the lock later"
    assert link.held_events == 0


def test_r12_unlock_caught_by_the_link_dropping_mid_send_is_not_resent(
    mosquitto: Mosquitto, mqtt_listener: Subscriber, make_link: Callable[..., MqttLink]
) -> None:
    link = make_link(mosquitto)
    client = link._client
    real_publish = client.publish
    mark = mqtt_listener.mark()

    def publish_as_the_broker_dies(topic: str, *args: Any, **kw: Any) -> mqtt.MQTTMessageInfo:
        if topic == LOCK_TOPIC:
            mosquitto.stop()  # the connection is gone, paho may not have noticed yet
        return real_publish(topic, *args, **kw)

    client.publish = publish_as_the_broker_dies  # type: ignore[method-assign]
    sent = link.publish_lock(LOCK_TOPIC, UNLOCK)
    client.publish = real_publish  # type: ignore[method-assign]
    assert _wait(lambda: not link.connected, 5.0)
    assert link.discarded_commands == 1, f"publish_lock returned {sent}"

    mosquitto.start()
    assert mqtt_listener.wait_ready(5.0, since=mark)
    assert not link.connected
    assert link.wait_connected(10.0)
    link.publish_event("front", _event(1))
    assert mqtt_listener.wait_for(lambda ms: any(m.topic.endswith("/access") for m in ms), 5.0)
    time.sleep(SILENCE_S)
    assert mqtt_listener.on(LOCK_TOPIC) == []


def test_r12_unlock_unacknowledged_is_not_a_grant_and_is_not_resent(
    mosquitto: Mosquitto, mqtt_listener: Subscriber, make_link: Callable[..., MqttLink]
) -> None:
    # The broker hangs: TCP still up, so the unlock is written out, but no PUBACK comes. The
    # grant is not counted: publish_lock waits a bounded time for the acknowledgement and says
    # False (the door reports lock_offline). paho would resend it (DUP) after the reconnect;
    # the link must not.
    link = make_link(mosquitto)
    mark = mqtt_listener.mark()
    mosquitto.freeze()
    link.publish_event("front", _event(0))  # in flight too: must be resent, unlike the unlock
    assert link.publish_lock(LOCK_TOPIC, UNLOCK) is False
    assert link.unacknowledged_commands == 1
    mosquitto.kill()
    assert _wait(lambda: not link.connected, 5.0)
    assert link.discarded_commands == 1
    link.publish_event("front", _event(1))

    mosquitto.start()
    assert mqtt_listener.wait_ready(5.0, since=mark)
    assert not link.connected
    assert link.wait_connected(10.0)
    topic = "facegate/front/access"
    assert mqtt_listener.wait_for(lambda ms: sum(m.topic == topic for m in ms) >= 2, 5.0)
    time.sleep(SILENCE_S)
    assert [json.loads(m.payload)["id"] for m in mqtt_listener.on(topic)] == ["ev-0", "ev-1"]
    assert mqtt_listener.on(LOCK_TOPIC) == []


def test_r12_command_left_in_paho_store_is_dropped_on_reconnect(
    mosquitto: Mosquitto, mqtt_listener: Subscriber, make_link: Callable[..., MqttLink]
) -> None:
    # Bypasses publish_lock entirely: even a QoS 1 publish that reached paho's own resend
    # store while the link was down must be gone after the reconnect.
    link = make_link(mosquitto)
    restart = _outage(mosquitto, link, mqtt_listener)
    link.publish_event("front", _event(1))
    stray = link._client.publish(LOCK_TOPIC, UNLOCK, qos=1, retain=False)
    assert stray.rc == mqtt.MQTT_ERR_NO_CONN  # paho kept it to resend later

    restart()
    assert mqtt_listener.wait_for(lambda ms: any(m.topic.endswith("/access") for m in ms), 5.0)
    time.sleep(SILENCE_S)
    assert mqtt_listener.on(LOCK_TOPIC) == []
    assert link.discarded_commands == 1


def test_r12_canary_plain_paho_would_resend_a_queued_unlock(
    mosquitto: Mosquitto, mqtt_listener: Subscriber
) -> None:
    # Proves the hazard the link defends against is real in this paho version, and that the
    # setup above would see a resend if one happened.
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="naive", clean_session=True)
    client.reconnect_delay_set(1, 1)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    try:
        assert _wait(client.is_connected, 5.0)
        mark = mqtt_listener.mark()
        mosquitto.stop()
        assert _wait(lambda: not client.is_connected(), 5.0)
        assert client.publish(LOCK_TOPIC, UNLOCK, qos=1).rc == mqtt.MQTT_ERR_NO_CONN
        mosquitto.start()
        assert mqtt_listener.wait_ready(5.0, since=mark)
        assert mqtt_listener.wait_for(lambda ms: any(m.topic == LOCK_TOPIC for m in ms), 10.0)
    finally:
        client.disconnect()
        client.loop_stop()


# -- credential input ----------------------------------------------------------------------


def _publish(broker: Mosquitto, topic: str, payload: str, *, retain: bool = False) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"keypad-{time.time_ns()}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5.0)
    finally:
        client.disconnect()
        client.loop_stop()


def test_credential_handler_gets_input_and_survives_a_reconnect_logged_once_each_way(
    mosquitto: Mosquitto,
    mqtt_listener: Subscriber,
    make_link: Callable[..., MqttLink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    link = make_link(mosquitto)
    got: list[tuple[str, bytes]] = []
    link.subscribe("keypad/+/action", lambda topic, payload: got.append((topic, payload)))
    time.sleep(0.2)  # SUBACK

    _publish(mosquitto, "keypad/front/action", "1234")
    assert _wait(lambda: got == [("keypad/front/action", b"1234")], 5.0)

    restart = _outage(mosquitto, link, mqtt_listener)
    time.sleep(2.5)  # several failed reconnect attempts, which must not each log a line
    restart()
    # The resubscription races the keypad's publish; keep typing until it gets through.
    deadline = time.monotonic() + 5.0
    while len(got) < 2 and time.monotonic() < deadline:
        _publish(mosquitto, "keypad/back/action", "5678")
        _wait(lambda: len(got) > 1, 0.3)
    assert got[1] == ("keypad/back/action", b"5678")

    ours = [r for r in caplog.records if r.name == "facegate.mqtt"]
    assert len([r for r in ours if "lost" in r.getMessage()]) == 1
    assert len([r for r in ours if "restored" in r.getMessage()]) == 1
    assert [
        r.getMessage()
        for r in ours
        if r.levelno >= logging.WARNING and "lost" not in r.getMessage()
    ] == []


def test_r12_retained_credential_is_not_replayed_to_the_handler(
    mosquitto: Mosquitto, make_link: Callable[..., MqttLink]
) -> None:
    _publish(mosquitto, "keypad/front/action", "1234", retain=True)
    link = make_link(mosquitto)
    got: list[tuple[str, bytes]] = []
    link.subscribe("keypad/+/action", lambda topic, payload: got.append((topic, payload)))
    time.sleep(0.5)
    assert got == []
    _publish(mosquitto, "keypad/front/action", "4321")
    assert _wait(lambda: got == [("keypad/front/action", b"4321")], 5.0)


def test_a_failing_credential_handler_does_not_break_the_link(
    mosquitto: Mosquitto, make_link: Callable[..., MqttLink], caplog: pytest.LogCaptureFixture
) -> None:
    link = make_link(mosquitto)
    got: list[bytes] = []

    def handler(_topic: str, payload: bytes) -> None:
        got.append(payload)
        if payload == b"0000":
            raise ValueError(f"bad code {payload!r}")

    link.subscribe("keypad/+/action", handler)
    time.sleep(0.2)
    _publish(mosquitto, "keypad/front/action", "0000")
    _publish(mosquitto, "keypad/front/action", "1111")
    assert _wait(lambda: got == [b"0000", b"1111"], 5.0)
    assert link.connected
    assert "0000" not in caplog.text  # a typed code never reaches the log


# -- authentication and TLS ----------------------------------------------------------------


def test_wrong_password_leaves_the_link_down_and_never_logs_the_password(
    tmp_path: Path,
    make_mosquitto: MosquittoFactory,
    make_link: Callable[..., MqttLink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    passwords = tmp_path / "passwd"
    subprocess.run([tool, "-b", "-c", str(passwords), "facegate", "right-Pa55"], check=True)
    broker = make_mosquitto(["allow_anonymous false", f"password_file {passwords}"])
    caplog.set_level(logging.DEBUG)
    wrong = make_link(broker, connect=False, username="facegate", password="wrong-Pa55")
    assert not wrong.wait_connected(2.5)  # covers two reconnect attempts
    assert not wrong.connected
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].name == "facegate.mqtt"

    right = make_link(broker, username="facegate", password="right-Pa55")
    assert right.connected
    assert "wrong-Pa55" not in caplog.text
    assert "right-Pa55" not in caplog.text
    assert "Pa55" not in repr(wrong)


def test_tls_with_the_right_ca_connects_and_with_another_ca_does_not(
    tmp_path: Path, make_mosquitto: MosquittoFactory, make_link: Callable[..., MqttLink]
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    ca_crt, crt, key = server_certificate(tmp_path)
    _, other_ca = make_ca(tmp_path, "other-ca")
    broker = make_mosquitto([f"certfile {crt}", f"keyfile {key}"])
    good = make_link(broker, tls_ca=ca_crt)
    assert good.publish_lock(LOCK_TOPIC, UNLOCK)
    bad = make_link(broker, connect=False, tls_ca=other_ca)
    assert not bad.wait_connected(1.5)


# -- backlog bound ---------------------------------------------------------------------------


def test_backlog_keeps_the_newest_events_in_order_and_counts_the_dropped(
    make_mosquitto: MosquittoFactory,
    make_subscriber: SubscriberFactory,
    make_link: Callable[..., MqttLink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = make_mosquitto(start=False)  # port reserved, nothing listening yet
    link = make_link(broker, connect=False)
    for n in range(BACKLOG_LIMIT + 5):
        link.publish_event("front", _event(n))
    assert (link.held_events, link.dropped_events) == (BACKLOG_LIMIT, 5)
    assert len([r for r in caplog.records if "backlog full" in r.getMessage()]) == 1
    assert link.publish_lock(LOCK_TOPIC, UNLOCK) is False

    broker.start()
    sub = make_subscriber(broker.host, broker.port, "#")
    assert not link.connected, "link connected before the listener"
    assert link.wait_connected(10.0)
    topic = "facegate/front/access"
    assert sub.wait_for(lambda ms: sum(m.topic == topic for m in ms) >= BACKLOG_LIMIT, 10)
    ids = [json.loads(m.payload)["id"] for m in sub.on(topic)]
    assert ids == [f"ev-{n}" for n in range(5, BACKLOG_LIMIT + 5)]
    assert sub.on(LOCK_TOPIC) == []


# -- embedded broker for the demo ----------------------------------------------------------


def test_embedded_broker_carries_publish_and_subscribe_on_loopback(
    make_link: Callable[..., MqttLink], make_subscriber: SubscriberFactory
) -> None:
    broker = EmbeddedBroker()
    broker.start()
    try:
        assert broker.host == "127.0.0.1" and broker.port > 0
        with make_subscriber(broker.host, broker.port, "#") as sub:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="plain")
            client.connect(broker.host, broker.port)
            client.loop_start()
            client.publish("demo/hello", "hi", qos=1).wait_for_publish(5.0)
            client.disconnect()
            client.loop_stop()
            link = make_link(broker)
            link.publish_event("front", _event(1))
            assert link.publish_lock(LOCK_TOPIC, UNLOCK)
            assert sub.wait_for(
                lambda ms: (
                    {"demo/hello", "facegate/front/access", LOCK_TOPIC} <= {m.topic for m in ms}
                ),
                5.0,
            )
            link.stop()
    finally:
        broker.stop()
    with pytest.raises(OSError):
        socket.create_connection((broker.host, broker.port), timeout=0.5).close()
