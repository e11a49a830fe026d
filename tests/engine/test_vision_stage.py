"""One vision stage for every camera: one set of models per engine, a worker pool fair across
cameras, and no work on an empty doorway - without a resident missed or a stranger let in."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest_door import Door
from conftest_mqtt import Mosquitto, Subscriber
from facegate.clip import build_clip, write_clip
from facegate.config import parse
from facegate.motion_gate import FACE_HOLD_S, STILL_RECHECK_S, MotionGate
from facegate.simulated_camera import RtspServer

pytest_plugins = ["conftest_mqtt", "conftest_door"]

TEST_LIMIT_S = 240
DOORS = 8


def test_motion_gate_skips_a_still_doorway_and_keeps_every_frame_of_a_face() -> None:
    gate = MotionGate()
    rng = np.random.default_rng(3)
    doorway = np.full((720, 1280, 3), 120, dtype=np.uint8)
    noisy = [
        np.clip(doorway + rng.integers(-6, 7, doorway.shape), 0, 255).astype(np.uint8)
        for _ in range(4)
    ]
    # The first frame is analysed; camera noise alone does not count as motion.
    assert gate.wants(doorway, 0.0)
    assert [gate.wants(noisy[i % 4], 0.1 * (i + 1)) for i in range(8)] == [False] * 8
    # However still the scene, it is looked at again once a second.
    assert gate.wants(doorway, STILL_RECHECK_S + 0.01)
    # Someone steps in: a patch the size of a small face at 720p is enough.
    person = doorway.copy()
    person[300:356, 600:656] = 30
    assert gate.wants(person, STILL_RECHECK_S + 0.1)
    # While a face was seen lately, every frame is analysed, even a still one.
    seen = STILL_RECHECK_S + 0.1
    gate.saw_face(seen)
    held = [seen + FACE_HOLD_S * (i + 1) / 6 for i in range(5)]
    assert [gate.wants(person, t) for t in held] == [True] * 5
    # Once the hold is over, a still scene is skipped again, until its next recheck is due.
    assert gate.wants(person, seen + FACE_HOLD_S + 0.05) is False
    assert gate.wants(person, held[-1] + STILL_RECHECK_S + 0.01) is True
    off = MotionGate(enabled=False)
    assert all(off.wants(doorway, 0.1 * i) for i in range(5))


def _frames(clip: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(clip))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


@pytest.fixture(scope="module")
def resident_then_stranger(tmp_path_factory, faces) -> Path:
    """The doorway, the resident (3 s), the doorway again, then a stranger (3 s)."""
    clips = tmp_path_factory.mktemp("clips")
    resident = [faces / "enroll/barack_obama/obama2.jpg", faces / "enroll/barack_obama/obama3.jpg"]
    stranger = [faces / "enroll/joe_biden/biden.jpg", faces / "enroll/joe_biden/biden2.jpg"]
    first = build_clip(resident, clips / "resident.mp4", seconds=3.0, fps=10, blank_seconds=1.0)
    then = build_clip(stranger, clips / "stranger.mp4", seconds=3.0, fps=10, blank_seconds=2.0)
    both = _frames(first) + _frames(then)
    return write_clip(both, clips / "both.mp4", fps=10, size=(640, 480))


def test_eight_doors_on_one_engine_grant_the_resident_and_deny_the_stranger(
    tmp_path, models_dir, mosquitto: Mosquitto, faces, resident_then_stranger
) -> None:
    """Eight real RTSP cameras into one engine, all at once: at every door the resident walks
    up and is let in, then a stranger walks up and is not."""
    servers = [RtspServer(resident_then_stranger).start() for _ in range(DOORS)]
    config = parse(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(models_dir),
            "mqtt": {"host": "127.0.0.1", "port": mosquitto.port},
            "cameras": {f"cam{i}": {"source": s.url} for i, s in enumerate(servers)},
            "doors": {
                f"door{i}": {
                    "camera": f"cam{i}",
                    "methods": ["face", "pin"],
                    "lock": {"command_topic": f"test/door{i}/set"},
                    "liveness": "off",  # photos stand in for people here (test_liveness.py)
                }
                for i in range(DOORS)
            },
            "vision": {"workers": 2},
            # One grant while the resident is in view (3 s); the stranger comes 2 s after they
            # left, when the cooldown is over: a new encounter, judged afresh.
            "decision": {"cooldown_s": 3.0},
        }
    )
    watcher = Subscriber("127.0.0.1", mosquitto.port, "#")
    assert watcher.wait_ready(5)
    door = Door(config, stop_at_end=True)
    try:
        person_id = door.enrol("Barack Obama", faces / "enroll/barack_obama/obama.jpg")
        door.start()
        engine = door.engine
        # One set of models for the eight doors.
        assert engine.vision is not None and len(engine.vision.lanes) == DOORS
        assert len({id(lane.analyzer.embedder) for lane in engine.vision.lanes}) == 1
        assert len({id(lane.analyzer.detector) for lane in engine.vision.lanes}) == 1
        assert engine.wait_for_end(timeout=60)
        time.sleep(1.0)  # the last events reach the broker
        stats = engine.vision_stats()
    finally:
        door.stop()
        for server in servers:
            server.stop()
        watcher.close()

    for index in range(DOORS):
        locks = watcher.on(f"test/door{index}/set")
        events = [json.loads(m.text) for m in watcher.on(f"facegate/door{index}/access")]
        assert [m.text for m in locks] == ["UNLOCK"], index
        granted = [e for e in events if e["result"] == "granted"]
        assert [e["person"]["id"] for e in granted] == [person_id], index
        denied = [e for e in events if e["result"] == "denied"]
        assert any(e["reason"] == "unknown" for e in denied), (index, events)
        assert all(e["person"] is None for e in denied), index
    cameras = stats["cameras"]
    assert isinstance(cameras, dict) and set(cameras) == {f"cam{i}" for i in range(DOORS)}
    for name, camera in cameras.items():
        # Every camera had its turn, and the still grey lead-in was mostly not analysed.
        assert camera["frames_analysed"] >= 10, (name, camera)
        assert camera["frames_skipped_no_motion"] >= 5, (name, camera)
        assert camera["decision_p95_ms"] is not None, (name, camera)
        # The face a door just let in is followed, not judged again.
        assert camera["frames_after_grant"] > 0, (name, camera)
        accounted = (
            camera["frames_analysed"]
            + camera["frames_skipped_no_motion"]
            + camera["frames_dropped"]
        )
        assert accounted == camera["frames_decoded"], (name, camera)
