"""End to end: a real RTSP door camera, the real engine, a real mosquitto, a real lock topic."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest_door import ACCESS_TOPIC, LOCK_TOPIC
from facegate.clip import build_clip
from facegate.errors import ConsentError
from facegate.events import verify

pytest_plugins = ["conftest_mqtt", "conftest_door"]


@pytest.fixture(scope="module")
def obama_clip(tmp_path_factory, faces) -> Path:
    """Obama at the door (two photos not used for enrolment), after a second of empty frame."""
    out = tmp_path_factory.mktemp("clips") / "obama.mp4"
    photos = [faces / "enroll/barack_obama/obama2.jpg", faces / "enroll/barack_obama/obama3.jpg"]
    return build_clip(photos, out, seconds=3.0, fps=10, blank_seconds=1.0)


@pytest.fixture(scope="module")
def stranger_clip(tmp_path_factory, faces) -> Path:
    out = tmp_path_factory.mktemp("clips") / "biden.mp4"
    photos = [faces / "enroll/joe_biden/biden.jpg", faces / "enroll/joe_biden/biden2.jpg"]
    return build_clip(photos, out, seconds=3.0, fps=10, blank_seconds=1.0)


def test_enrolled_consenting_person_is_granted_with_exactly_one_lock_command(
    door_factory, obama_clip, faces, lock_and_events
):
    door, _server = door_factory(obama_clip)
    person_id = door.enrol("Barack Obama", faces / "enroll/barack_obama/obama.jpg")
    door.start()
    assert door.engine.wait_for_end(timeout=30)
    assert lock_and_events.wait_for(lambda m: any(x.topic == ACCESS_TOPIC for x in m), 5)
    time.sleep(0.5)
    locks = lock_and_events.on(LOCK_TOPIC)
    assert [(m.text, m.qos, m.retain) for m in locks] == [("UNLOCK", 1, False)]
    events = [json.loads(m.text) for m in lock_and_events.on(ACCESS_TOPIC)]
    granted = [e for e in events if e["result"] == "granted"]
    assert len(granted) == 1
    event = granted[0]
    assert event["reason"] == "match"
    assert event["method"] == "face"
    assert event["person"] == {"id": person_id, "name": "Barack Obama"}
    assert event["score"] >= door.engine.policies["front_door"].threshold(1)
    assert verify(event, door.engine.event_key)
    assert all(m.retain is False and m.qos == 1 for m in lock_and_events.on(ACCESS_TOPIC))


def test_r10_stranger_is_denied_unknown_and_nothing_about_them_is_kept(
    door_factory, stranger_clip, faces, lock_and_events, tmp_path
):
    door, _server = door_factory(stranger_clip)
    door.enrol("Barack Obama", faces / "enroll/barack_obama/obama.jpg")
    door.start()
    assert door.engine.wait_for_end(timeout=30)
    assert lock_and_events.wait_for(lambda m: any(x.topic == ACCESS_TOPIC for x in m), 5)
    time.sleep(0.5)
    assert lock_and_events.on(LOCK_TOPIC) == []
    events = [json.loads(m.text) for m in lock_and_events.on(ACCESS_TOPIC)]
    assert events
    assert all(e["result"] == "denied" and e["reason"] == "unknown" for e in events)
    assert all(e["person"] is None for e in events)
    # The stranger left no row anywhere: only the enrolled person's data is in the store.
    db = sqlite3.connect(door.data_dir / "facegate.db")
    assert db.execute("SELECT count(*) FROM people").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM templates").fetchone()[0] == 1


def test_face_switched_off_at_a_door_stays_off_after_a_restart(
    door_factory, obama_clip, faces, lock_and_events
):
    door, _server = door_factory(obama_clip)
    door.enrol("Barack Obama", faces / "enroll/barack_obama/obama.jpg")
    # Switched off earlier (through the API or Home Assistant), persisted in the store.
    door.engine.set_door_method("front_door", "face", False)
    door.start()
    assert door.engine.doors["front_door"].face_enabled is False
    assert door.engine.wait_for_end(timeout=30)
    time.sleep(0.5)
    assert lock_and_events.on(LOCK_TOPIC) == []
    assert door.events == []


def test_r2_person_without_consent_cannot_be_enrolled(door_factory, obama_clip, faces):
    door, _server = door_factory(obama_clip)
    with pytest.raises(ConsentError, match="R2"):
        door.enrol("Barack Obama", faces / "enroll/barack_obama/obama.jpg", consent=False)
    assert door.engine.store.template_count() == 0


def test_r8_tampered_template_is_refused_and_opens_nothing(
    door_factory, obama_clip, faces, lock_and_events, tmp_path
):
    door, _server = door_factory(obama_clip)
    door.enrol("Barack Obama", faces / "enroll/barack_obama/obama.jpg")
    db = sqlite3.connect(door.data_dir / "facegate.db")
    (blob,) = db.execute("SELECT sealed FROM templates").fetchone()
    db.execute("UPDATE templates SET sealed = ?", (blob[:-1] + bytes([blob[-1] ^ 1]),))
    db.commit()
    door.start()
    assert door.engine.refused_templates == 1
    assert door.engine.wait_for_end(timeout=30)
    time.sleep(0.5)
    assert lock_and_events.on(LOCK_TOPIC) == []
    assert not any(e["result"] == "granted" for e in door.events)


def test_camera_stream_dropping_and_returning_is_survived(
    door_factory, obama_clip, faces, lock_and_events
):
    door, server = door_factory(obama_clip, loop=True, cooldown_s=0.5)
    door.enrol("Barack Obama", faces / "enroll/barack_obama/obama.jpg")
    door.start()
    assert lock_and_events.wait_for(lambda m: any(x.topic == LOCK_TOPIC for x in m), 20)
    reader = door.engine.readers["front_cam"]
    server.stop()
    deadline = time.monotonic() + 15
    while reader.health().online and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not reader.health().online
    lock_and_events.clear()
    server.restart()
    assert lock_and_events.wait_for(lambda m: any(x.topic == LOCK_TOPIC for x in m), 30)
    assert reader.health().online
    assert reader.health().reconnects >= 1


def test_r12_unlock_is_dropped_not_queued_while_the_broker_is_down(
    door_factory, obama_clip, faces, mosquitto, lock_and_events
):
    door, _server = door_factory(obama_clip)
    door.enrol("Barack Obama", faces / "enroll/barack_obama/obama.jpg")
    door.start()
    mark = lock_and_events.mark()
    mosquitto.stop()
    assert door.engine.wait_for_end(timeout=30)
    assert any(e["reason"] == "lock_offline" for e in door.events)
    assert not any(e["result"] == "granted" for e in door.events)
    mosquitto.start()
    assert lock_and_events.wait_ready(10, since=mark)
    assert door.link.wait_connected(10)
    # The held event arrives and says why the door stayed shut; the unlock never does.
    assert lock_and_events.wait_for(lambda m: any(x.topic == ACCESS_TOPIC for x in m), 10)
    time.sleep(2.0)
    assert lock_and_events.on(LOCK_TOPIC) == []
    events = [json.loads(m.text) for m in lock_and_events.on(ACCESS_TOPIC)]
    assert [e["reason"] for e in events if e["person"]] == ["lock_offline"]


def _facegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "facegate.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_r4_bad_config_is_refused_with_a_clear_message(tmp_path):
    config = tmp_path / "facegate.yaml"
    config.write_text(
        "data_dir: data\nmqtt: {host: 127.0.0.1}\ncameras: {cam: {source: rtsp://x}}\n"
        "doors:\n  front:\n    camera: cam\n    methods: [face]\n"
        "    lock: {command_topic: lock/set}\n"
    )
    result = _facegate("run", "--config", str(config))
    assert result.returncode == 2
    assert "doors.front.methods" in result.stderr
    assert "R4" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_stops_the_engine_saying_how_to_fetch_it(tmp_path):
    config = tmp_path / "facegate.yaml"
    config.write_text(
        f"data_dir: data\nmodels_dir: {tmp_path / 'empty'}\nmqtt: {{host: 127.0.0.1}}\n"
        "cameras: {cam: {source: rtsp://127.0.0.1:1/x}}\n"
        "doors:\n  front:\n    camera: cam\n    methods: [face, pin]\n"
        "    lock: {command_topic: lock/set}\n"
    )
    result = _facegate("run", "--config", str(config))
    assert result.returncode == 2
    assert "facegate models fetch" in result.stderr
    assert "Traceback" not in result.stderr
