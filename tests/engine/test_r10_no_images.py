"""R10: no photos are stored. Enrolment images and camera frames are processed in memory and
dropped; only the sealed embedding is kept, and events carry no image and no embedding.

A person is enrolled from a photo and the engine then watches a real RTSP stream (the
enrolled person, then a stranger) with every log record at DEBUG written to a file. Afterwards
every file in the data directory, the engine's temporary directory and the log are searched
for image data: JPEG and PNG signatures (raw and base64), rows of the actual pixels the
engine saw (the enrolment photo, its 112x112 aligned face, every decoded frame of the clip),
and anything big enough to hold a face. Every published MQTT message is checked against the
event contract in docs/design.md.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest_mqtt import Mosquitto, Subscriber
from facegate.clip import build_clip
from facegate.config import parse
from facegate.engine import Engine
from facegate.enrol import enrol_images, read_image
from facegate.identity.store import DB_NAME
from facegate.mqtt import MqttLink
from facegate.simulated_camera import RtspServer
from facegate.vision.align import TEMPLATE_SIZE, align
from facegate.vision.analyzer import nearest_face
from facegate.vision.detect import FaceDetector

pytest_plugins = ["conftest_mqtt"]

LOCK_TOPIC = "test/front_lock/set"
ACCESS_TOPIC = "facegate/front_door/access"
# docs/design.md, "Contracts": the access event's keys, and the person's.
EVENT_KEYS = {
    "id", "ts", "door", "method", "result", "reason", "person", "score", "liveness",
    "latency_ms", "sig",
}  # fmt: skip
PERSON_KEYS = {"id", "name"}
FACE_BYTES = TEMPLATE_SIZE * TEMPLATE_SIZE * 3  # one aligned face, 37,632 bytes
SIGNATURES = {
    "JPEG": b"\xff\xd8\xff",
    "PNG": b"\x89PNG\r\n\x1a\n",
    "JPEG as base64": b"/9j/",
    "PNG as base64": b"iVBORw0KGgo",
}
MAX_DB_BYTES = 1 << 20  # facegate.db + its WAL, with one person
MAX_SEALED_BYTES = 4096  # a sealed template is 1,311 bytes (fused: 320 float32 + nonce + tag)
MAX_CELL_BYTES = 8192  # the longest text is the processing notice
MAX_SMALL_FILE_BYTES = 4096  # keys, the signed audit head
_FLOAT_RUN = re.compile(r"(?:-?\d+\.\d{3,}[,\s]+){16,}")  # a vector printed into a log line


@pytest.fixture(scope="module")
def door_clip(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    """Half a second of empty doorway, the enrolled resident (a photo not used for
    enrolment), then a stranger who is never enrolled."""
    photos = [faces / "enroll/barack_obama/obama2.jpg", faces / "enroll/joe_biden/biden2.jpg"]
    out = tmp_path_factory.mktemp("clips") / "door.mp4"
    return build_clip(photos, out, seconds=4.0, fps=10, blank_seconds=0.5)


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Every log record of every logger, at DEBUG, into a file."""
    path = tmp_path / "engine-debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()


def _pixel_rows(image: np.ndarray, count: int = 3) -> list[bytes]:
    """A few rows from the middle of an image, as the bytes a stored copy would contain."""
    height = image.shape[0]
    rows = [image[height // 2 + k * max(1, height // 8)].tobytes() for k in range(count)]
    return [row for row in rows if len(set(row)) > 16]  # a flat grey row proves nothing


def _needles(enrol_photo: Path, clip: Path, models_dir: Path) -> dict[str, bytes]:
    """Rows of pixels the engine held in memory: if any image were written, one would show."""
    photo = read_image(enrol_photo)
    face = nearest_face(FaceDetector(models_dir, "short").detect(photo))
    assert face is not None
    needles = {f"enrolment photo row {i}": r for i, r in enumerate(_pixel_rows(photo))}
    aligned = align(photo, face)
    needles |= {f"aligned enrolment face row {i}": r for i, r in enumerate(_pixel_rows(aligned))}
    gray = cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY)
    needles |= {f"aligned face, grey, row {i}": r for i, r in enumerate(_pixel_rows(gray))}
    capture = cv2.VideoCapture(str(clip))
    frame_no = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        needles |= {f"clip frame {frame_no} row {i}": r for i, r in enumerate(_pixel_rows(frame))}
        frame_no += 1
    capture.release()
    assert frame_no >= 40 and len(needles) > 100
    return needles


def _image_data_in(data: bytes, needles: dict[str, bytes]) -> list[str]:
    found = [name for name, sig in SIGNATURES.items() if sig in data]
    found += [name for name, row in needles.items() if row in data]
    return found


def _check_database(path: Path) -> None:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "templates" in tables
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    where = f"{table}.{column}"
                    if isinstance(value, bytes):
                        assert where == "templates.sealed", f"a BLOB in {where}"
                        assert len(value) <= MAX_SEALED_BYTES, f"{len(value)} bytes in {where}"
                    elif isinstance(value, str):
                        assert len(value.encode()) <= MAX_CELL_BYTES, f"a long text in {where}"
        sealed = db.execute("SELECT length(sealed) FROM templates").fetchall()
        assert len(sealed) == 1  # the enrolled person's one template, nothing for the stranger
        assert db.execute("SELECT count(*) FROM people").fetchone()[0] == 1
    finally:
        db.close()


@pytest.mark.slow
def test_r10_no_image_data_is_written_by_enrolment_and_streaming(
    *,
    tmp_path: Path,
    models_dir: Path,
    faces: Path,
    door_clip: Path,
    mosquitto: Mosquitto,
    debug_log: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine_tmp = tmp_path / "engine-tmp"
    engine_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(engine_tmp))
    data_dir = tmp_path / "data"
    enrol_photo = faces / "enroll/barack_obama/obama.jpg"
    listener = Subscriber(mosquitto.host, mosquitto.port, "#")
    assert listener.wait_ready(5)
    server = RtspServer(door_clip).start()
    config = parse(
        {
            "data_dir": str(data_dir),
            "models_dir": str(models_dir),
            "mqtt": {"host": mosquitto.host, "port": mosquitto.port},
            "cameras": {"front_cam": {"source": server.url}},
            "doors": {
                "front_door": {
                    "camera": "front_cam",
                    "methods": ["face", "pin"],
                    "lock": {"command_topic": LOCK_TOPIC, "payload_unlock": "UNLOCK"},
                    # The clip is a photo standing in for a resident, so that a grant happens.
                    "liveness": "off",
                }
            },
            # A short cooldown, so the stranger right after the resident gets a decision too.
            "decision": {"cooldown_s": 0.5},
        }
    )
    link = MqttLink(host=mosquitto.host, port=mosquitto.port, client_id="facegate-r10")
    events: list[dict[str, object]] = []
    engine = Engine(config, link, stop_at_end=True, listeners=[events.append])
    try:
        person = engine.store.add_person("Barack Obama")
        engine.store.give_consent(
            person.id,
            notice_version=engine.notice.version,
            method="signed_name",
            signer="Barack Obama",
        )
        enrol_images(
            engine.store,
            engine.analyzer("short"),
            person.id,
            [(enrol_photo.name, read_image(enrol_photo))],
            max_spread=engine.max_spread,
        )
        link.start()
        assert link.wait_connected(5)
        engine.start()
        assert engine.wait_for_end(timeout=30)
        assert listener.wait_for(lambda m: len([x for x in m if x.topic == ACCESS_TOPIC]) >= 2, 5)
        time.sleep(0.5)
        # While the store is still open, its WAL holds the latest pages: read that too.
        live = {f"{p.name} (engine running)": p.read_bytes() for p in data_dir.iterdir()}
    finally:
        engine.stop()
        link.stop()
        server.stop()
        listener.close()

    # The run did what it should: the resident was let in, the stranger was not.
    results = [(e["result"], e["reason"], e["person"] is not None) for e in events]
    assert ("granted", "match", True) in results
    assert ("denied", "unknown", False) in results

    # No image data anywhere the engine writes, nor in its DEBUG log.
    needles = _needles(enrol_photo, door_clip, models_dir)
    written = [p for p in [*data_dir.rglob("*"), *engine_tmp.rglob("*")] if p.is_file()]
    log_text = debug_log.read_text(encoding="utf-8")
    assert "granted by face" in log_text  # the log really captured the run
    assert any(" DEBUG " in line for line in log_text.splitlines())
    contents = {str(path.name): path.read_bytes() for path in [*written, debug_log]}
    assert any(name.startswith(DB_NAME + "-wal") and data for name, data in live.items())
    for name, data in {**contents, **live}.items():
        found = _image_data_in(data, needles)
        assert found == [], f"image data in {name}: {found[:5]}"
    assert [p.name for p in engine_tmp.rglob("*")] == []

    # Nothing big enough to hold a face: a small database whose only BLOBs are sealed
    # templates, every other cell and file well under one aligned face.
    assert max(MAX_SEALED_BYTES, MAX_CELL_BYTES, MAX_SMALL_FILE_BYTES) < FACE_BYTES
    database = data_dir / DB_NAME
    sqlite_files = {database, database.with_name(DB_NAME + "-wal")}
    sqlite_files.add(database.with_name(DB_NAME + "-shm"))
    assert sum(p.stat().st_size for p in sqlite_files if p.exists()) < MAX_DB_BYTES
    _check_database(database)
    for path in written:
        if path not in sqlite_files:
            assert path.stat().st_size <= MAX_SMALL_FILE_BYTES, f"{path.name} is too big"
    for line in log_text.splitlines():
        assert len(line) < 2000, f"a {len(line)}-character log line: {line[:200]}"
        assert "array(" not in line and not _FLOAT_RUN.search(line), line[:300]

    # Published messages: the event contract and nothing else, no large values.
    messages = listener.messages
    assert any(m.topic == LOCK_TOPIC for m in messages)
    for message in messages:
        assert len(message.payload) < 1024, f"{len(message.payload)} bytes on {message.topic}"
        assert _image_data_in(message.payload, needles) == [], message.topic
    access = [json.loads(m.payload) for m in messages if m.topic == ACCESS_TOPIC]
    assert len(access) >= 2
    for event in access:
        assert set(event) <= EVENT_KEYS, set(event) - EVENT_KEYS
        assert event["person"] is None or set(event["person"]) == PERSON_KEYS
        for key, value in event.items():
            assert not isinstance(value, list), f"{key} is a list"
            assert len(json.dumps(value)) <= 120, f"{key} is too long"
    strangers = [e for e in access if e["reason"] == "unknown"]
    assert strangers and all(e["person"] is None for e in strangers)
