"""Pytest plugin: a face door end to end for one test (a real RTSP camera playing a clip, the real
engine, a real mosquitto and lock topic), with people enrolled the way a resident is.

Load it with `pytest_plugins = ["conftest_mqtt", "conftest_door"]`. Fixtures: `door_factory`
(make a `Door` for a clip, with decision settings) and `lock_and_events` (an MQTT subscriber to
every topic).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest_mqtt import Mosquitto, Subscriber
from facegate.config import Config, parse
from facegate.engine import Engine
from facegate.enrol import Enrolment, enrol_images, read_image
from facegate.mqtt import MqttLink
from facegate.simulated_camera import RtspServer
from facegate.vision.analyzer import FaceAnalyzer

LOCK_TOPIC = "test/front_lock/set"
ACCESS_TOPIC = "facegate/front_door/access"


def _config(
    tmp_path: Path, models_dir: Path, rtsp_url: str, port: int, liveness: str, **decision: Any
) -> Config:
    return parse(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(models_dir),
            "mqtt": {"host": "127.0.0.1", "port": port},
            "cameras": {"front_cam": {"source": rtsp_url}},
            "doors": {
                "front_door": {
                    "camera": "front_cam",
                    "methods": ["face", "pin"],
                    "lock": {"command_topic": LOCK_TOPIC, "payload_unlock": "UNLOCK"},
                    "liveness": liveness,
                }
            },
            "decision": decision,
        }
    )


class NoLink:
    """For an engine that is only built, never started: nothing may be published."""

    def publish_lock(self, topic: str, payload: str) -> bool:
        raise AssertionError("no lock command expected")

    def publish_event(self, door: str, event: object) -> None:
        raise AssertionError("no event expected")


class Door:
    """The engine and its link for one test, with the person's enrolment done the real way."""

    def __init__(self, config: Config, *, stop_at_end: bool) -> None:
        self.events: list[dict[str, object]] = []
        self.link = MqttLink(
            host=config.mqtt.host, port=config.mqtt.port, client_id="facegate-test"
        )
        self.engine = Engine(
            config, self.link, stop_at_end=stop_at_end, listeners=[self.events.append]
        )
        self._analyzer: FaceAnalyzer | None = None

    @property
    def data_dir(self) -> Path:
        return self.engine.config.data_dir

    def enrol(self, name: str, photo: Path, *, consent: bool = True) -> str:
        return self.enrol_many(name, [photo], consent=consent)[0]

    def enrol_many(
        self, name: str, photos: list[Path], *, consent: bool = True
    ) -> tuple[str, Enrolment]:
        """One resident from several photos, through the enrolment path."""
        if self._analyzer is None:
            self._analyzer = self.engine.analyzer("short")
        store = self.engine.store
        person = store.add_person(name)
        if consent:
            store.give_consent(
                person.id,
                notice_version=self.engine.notice.version,
                method="signed_name",
                signer=name,
            )
        enrolment = enrol_images(
            store,
            self._analyzer,
            person.id,
            [(photo.name, read_image(photo)) for photo in photos],
            max_spread=self.engine.max_spread,
        )
        return person.id, enrolment

    def start(self) -> None:
        self.link.start()
        assert self.link.wait_connected(5)
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()
        self.link.stop()


@pytest.fixture
def door_factory(tmp_path, models_dir, mosquitto: Mosquitto) -> Iterator:
    doors: list[Door] = []
    servers: list[RtspServer] = []

    def make(
        clip: Path, *, loop: bool = False, liveness: str = "off", **decision: Any
    ) -> tuple[Door, RtspServer]:
        """A door for `clip`. Liveness is off unless asked for: most clips here are photos that
        stand in for a resident, to test what happens after liveness (test_liveness.py tests
        liveness itself, with live video and attacks)."""
        server = RtspServer(clip, loop=loop).start()
        servers.append(server)
        config = _config(
            tmp_path / f"door{len(doors)}",
            models_dir,
            server.url,
            mosquitto.port,
            liveness,
            **decision,
        )
        door = Door(config, stop_at_end=not loop)
        doors.append(door)
        return door, server

    yield make
    for door in doors:
        door.stop()
    for server in servers:
        server.stop()


@pytest.fixture
def lock_and_events(mosquitto: Mosquitto) -> Iterator[Subscriber]:
    subscriber = Subscriber("127.0.0.1", mosquitto.port, "#")
    assert subscriber.wait_ready(5)
    yield subscriber
    subscriber.close()
