"""pytest plugin: a keypad door — a real engine with PIN, card and tag inputs on a real mosquitto.

Load it with ``pytest_plugins = ["conftest_mqtt", "conftest_keypad"]``. ``make_door(**limits)``
builds a Door on the test's data directory (a second call reopens the same one, as a restart
would); the constants name its door, topics and a resident's values.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from conftest_mqtt import Mosquitto, Received, Subscriber
from facegate.config import Config, parse
from facegate.engine import Engine
from facegate.mqtt import MqttLink

DOOR = "front_door"
LOCK_TOPIC = "test/front_lock/set"
ACCESS_TOPIC = f"facegate/{DOOR}/access"
KEYPAD = "zigbee2mqtt/front_keypad"
READER = "readers/front"
TAGS = "readers/front_nfc"
INPUTS = {"pin": KEYPAD, "card": READER, "tag": TAGS}

PIN = "482913"
WRONG_PIN = "135792"
CARD = "04:A2:B3:C4:D5:E6:80"
TAG = "TAG-7F3A-0001"
VALUES = {"pin": PIN, "card": CARD, "tag": TAG}
TEST_LIMIT_S = 60


def _config(tmp_path: Path, models_dir: Path, port: int, **credentials: float) -> Config:
    return parse(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(models_dir),
            "mqtt": {"host": "127.0.0.1", "port": port},
            "doors": {
                DOOR: {
                    "methods": ["pin", "card", "tag"],
                    "lock": {"command_topic": LOCK_TOPIC, "payload_unlock": "UNLOCK"},
                    "credential_inputs": [
                        {"topic": KEYPAD, "kind": "pin", "json_key": "action_code"},
                        {"topic": READER, "kind": "card"},
                        {"topic": TAGS, "kind": "tag"},
                    ],
                }
            },
            "credentials": credentials,
        }
    )


class Publisher:
    """The keypad and the readers: a separate paho client, each publish acknowledged."""

    def __init__(self, port: int) -> None:
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-keypad")
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(5)
        assert info.is_published()

    def keypad(self, code: str, **extra: object) -> None:
        # What a zigbee2mqtt keypad publishes when a code is typed and a mode chosen.
        self.publish(
            KEYPAD,
            json.dumps({"action": "disarm", "action_code": code, "battery": 88, **extra}),
        )

    def present(self, kind: str, value: str) -> None:
        if kind == "pin":
            self.keypad(value)
        else:
            self.publish(INPUTS[kind], value)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class Door:
    def __init__(
        self, config: Config, mosquitto: Mosquitto, clock: Callable[[], float] = time.time
    ) -> None:
        """`clock`: the wall clock access decisions read (a test sets the moment)."""
        self.link = MqttLink(host="127.0.0.1", port=mosquitto.port, client_id="facegate-test")
        self.engine = Engine(config, self.link, clock=clock)
        self.store = self.engine.store
        self.watch = Subscriber("127.0.0.1", mosquitto.port, "#")
        assert self.watch.wait_ready(5)
        self.keys = Publisher(mosquitto.port)
        self.started = False
        self.stopped = False

    def resident(self, name: str = "Li Wei", **values: str) -> str:
        person = self.store.add_person(name)
        for kind, value in values.items():
            self.store.add_credential(person.id, kind, value)  # type: ignore[arg-type]
        return person.id

    def start(self) -> None:
        self.link.start()
        assert self.link.wait_connected(5)
        self.engine.start()
        self.started = True
        self._wait_listening()

    def _wait_listening(self) -> None:
        # Subscriptions are asynchronous: an empty message is ignored (not an attempt) once the
        # engine listens on a topic, which the input's counter shows.
        inputs = self.engine.credential_inputs
        assert inputs is not None
        topics = [i.topic for d in self.engine.config.doors.values() for i in d.credential_inputs]
        for topic in topics:
            before = inputs.ignored
            deadline = time.monotonic() + 5
            while inputs.ignored == before:
                assert time.monotonic() < deadline, f"engine never subscribed to {topic}"
                self.keys.publish(topic, b"")
                time.sleep(0.05)
        time.sleep(0.1)  # any probe still in flight lands before the test acts
        self.watch.clear()

    def locks(self) -> list[Received]:
        return self.watch.on(LOCK_TOPIC)

    def events(self) -> list[dict[str, object]]:
        return [json.loads(m.text) for m in self.watch.on(ACCESS_TOPIC)]

    def next_event(self, seen: int, timeout: float = 5.0) -> dict[str, object]:
        assert self.watch.wait_for(
            lambda m: len([x for x in m if x.topic == ACCESS_TOPIC]) > seen, timeout
        ), "no access event"
        return self.events()[seen]

    def present_and_wait(self, kind: str, value: str) -> dict[str, object]:
        seen = len(self.events())
        self.keys.present(kind, value)
        return self.next_event(seen)

    def stats(self) -> dict[str, float | int | bool]:
        gate = self.engine.credential_gate
        assert gate is not None
        return gate.stats(DOOR)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.started:
            self.engine.stop()
        else:
            self.engine.store.close()
        self.link.stop()
        self.watch.close()
        self.keys.close()


@pytest.fixture
def make_door(tmp_path: Path, models_dir: Path, mosquitto: Mosquitto) -> Iterator[Callable]:
    doors: list[Door] = []

    def make(**credentials: float) -> Door:
        door = Door(_config(tmp_path, models_dir, mosquitto.port, **credentials), mosquitto)
        doors.append(door)
        return door

    yield make
    for door in doors:
        door.stop()
