"""Access groups at face doors, end to end: one real RTSP camera watching two doors, the real
engine, a real mosquitto. Each door compares a face only with the people it admits (its own
gallery), and a resident of one door seen at the other is named and refused, by face as by PIN.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest_door import Door
from conftest_mqtt import Mosquitto, Subscriber
from facegate.clip import build_clip
from facegate.config import parse
from facegate.simulated_camera import RtspServer

pytest_plugins = ["conftest_mqtt", "conftest_door"]

FRONT, GATE = "front_door", "back_gate"
LOCKS = {FRONT: "test/front_lock/set", GATE: "test/gate_lock/set"}
PIN = "482913"


@pytest.fixture(scope="module")
def obama_clip(tmp_path_factory, faces) -> Path:
    out = tmp_path_factory.mktemp("clips") / "obama.mp4"
    photos = [faces / "enroll/barack_obama/obama2.jpg", faces / "enroll/barack_obama/obama3.jpg"]
    return build_clip(photos, out, seconds=3.0, fps=10, blank_seconds=1.0)


@pytest.fixture
def two_doors(tmp_path, models_dir, mosquitto: Mosquitto, obama_clip) -> Iterator[Door]:
    """The front door of Building 3 and the back gate, both seen by one camera."""
    server = RtspServer(obama_clip).start()
    door_settings = {"camera": "cam", "methods": ["face", "pin"], "liveness": "off"}
    config = parse(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(models_dir),
            "mqtt": {"host": "127.0.0.1", "port": mosquitto.port},
            "cameras": {"cam": {"source": server.url}},
            "doors": {
                door_id: {**door_settings, "lock": {"command_topic": topic}}
                for door_id, topic in LOCKS.items()
            },
        }
    )
    door = Door(config, stop_at_end=True)
    yield door
    door.stop()
    server.stop()


def test_r5_a_resident_is_let_in_by_face_at_their_door_and_refused_at_another_as_by_pin(
    two_doors: Door, faces: Path, lock_and_events: Subscriber
) -> None:
    door = two_doors
    store = door.engine.store
    building = store.add_group("Building 3", [FRONT], known=LOCKS)
    person_id, _ = door.enrol_many("Barack Obama", [faces / "enroll/barack_obama/obama.jpg"])
    store.set_groups(person_id, [building.id])
    store.add_credential(person_id, "pin", PIN)
    door.start()
    # Each door's gallery holds the people it admits: the gate compares a face with nobody.
    policy = door.engine.decision_policy()["doors"]
    assert (policy[FRONT]["people"], policy[GATE]["people"]) == (1, 0)
    assert door.engine.wait_for_end(timeout=30)
    time.sleep(0.5)
    decided = {(e["door"], e["result"], e["reason"]) for e in door.events if e["method"] == "face"}
    assert decided == {(FRONT, "granted", "match"), (GATE, "denied", "not_allowed")}
    refused = next(e for e in door.events if e["door"] == GATE)
    assert refused["person"] == {"id": person_id, "name": "Barack Obama"}
    assert [m.text for m in lock_and_events.on(LOCKS[FRONT])] == ["UNLOCK"]
    assert lock_and_events.on(LOCKS[GATE]) == []
    # By PIN the same: the same decision path (R5).
    by_pin = door.engine.present_credential(GATE, "pin", PIN)
    assert (by_pin["result"], by_pin["reason"]) == ("denied", "not_allowed")
    assert door.engine.present_credential(FRONT, "pin", PIN)["result"] == "granted"
    published = [json.loads(m.text) for m in lock_and_events.on(f"facegate/{GATE}/access")]
    assert {e["reason"] for e in published} == {"not_allowed"}
