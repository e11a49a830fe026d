"""Camera capture against a real RTSP server (GStreamer, subprocess) and real OpenCV/FFmpeg.

Every wait is bounded; the module runs in well under a minute.
"""

from __future__ import annotations

import itertools
import logging
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from facegate.capture import CameraReader, Frame, redact
from facegate.simulated_camera import RtspServer, free_port

# Registering twice (here and from a conftest) is harmless: pytest loads a plugin once.
pytest_plugins = ["conftest_rtsp"]

FRAME_BYTES = 640 * 480 * 3


@contextmanager
def reading(source: str, **kwargs: Any) -> Iterator[CameraReader]:
    reader = CameraReader("door", source, **kwargs)
    reader.start()
    try:
        yield reader
    finally:
        began = time.monotonic()
        reader.stop()
        assert time.monotonic() - began < 8.0, "stop() must be bounded"


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def take(reader: CameraReader, count: int, timeout: float) -> list[Frame]:
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while len(frames) < count and (left := deadline - time.monotonic()) > 0:
        frame = reader.next_frame(timeout=left)
        if frame is not None:
            frames.append(frame)
    return frames


@pytest.mark.slow
def test_rtsp_frames_arrive_in_order_with_real_content(rtsp_server: RtspServer) -> None:
    with reading(rtsp_server.url) as reader:
        frames = take(reader, 12, timeout=10.0)
        health = reader.health()

    assert len(frames) == 12
    seqs = [f.seq for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(b.arrived >= a.arrived for a, b in itertools.pairwise(frames))
    for frame in frames:
        assert frame.image.shape == (480, 640, 3) and frame.image.dtype == np.uint8
        # A photo of a face, not a grey or black card.
        assert float(frame.image.std()) > 20.0
    # The clip zooms: the stream is moving, not one frame repeated.
    assert not np.array_equal(frames[0].image, frames[-1].image)
    assert health.online and health.frames >= 12 and health.last_error is None
    assert health.last_frame_age is not None and health.last_frame_age < 1.0


@pytest.mark.slow
def test_slow_consumer_gets_newest_frame_and_memory_stays_bounded(
    rtsp_server: RtspServer,
) -> None:
    with reading(rtsp_server.url) as reader:
        assert reader.next_frame(timeout=10.0) is not None
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            time.sleep(2.0)  # ~20 frames arrive; a queue would hold ~18 MB of them
            grown = tracemalloc.get_traced_memory()[0] - baseline
        finally:
            tracemalloc.stop()
        frame = reader.next_frame(timeout=2.0)
        assert frame is not None
        age = time.monotonic() - frame.arrived
        dropped = reader.dropped
        # Taken: nothing newer is waiting, so an immediate second call comes back empty.
        assert reader.next_frame(timeout=0.0) is None

    assert age < 0.25, f"newest frame should be fresh, was {age:.3f} s old"
    assert dropped >= 10, f"frames the consumer skipped must be counted, got {dropped}"
    assert grown < 3 * FRAME_BYTES, f"memory grew by {grown / 1e6:.1f} MB while not consuming"


def test_file_source_is_paced_at_its_fps(door_clip: Path) -> None:
    with reading(str(door_clip)) as reader:
        first = reader.next_frame(timeout=5.0)
        assert first is not None
        frames = take(reader, 15, timeout=5.0)

    assert len(frames) == 15
    elapsed = frames[-1].arrived - first.arrived
    # 15 intervals at 10 fps = 1.5 s; read as fast as possible it would take ~20 ms.
    assert 1.2 < elapsed < 2.0, f"15 frames took {elapsed:.3f} s"


def test_file_source_loops_like_a_live_camera(door_clip: Path) -> None:
    # 40 frames in the clip: 45 consecutive frames need the reader to wrap around.
    with reading(str(door_clip)) as reader:
        original = take(reader, 1, timeout=5.0)
        assert original
        start = time.monotonic()
        while reader.health().frames < 45 and time.monotonic() - start < 7.0:
            reader.next_frame(timeout=0.5)
        health = reader.health()
    assert health.frames >= 45 and health.online and health.reconnects == 0
    assert not reader.ended.is_set()


@pytest.mark.slow
def test_reconnects_after_the_camera_drops(rtsp_server: RtspServer) -> None:
    with reading(rtsp_server.url, backoff_initial=0.2, backoff_max=1.0) as reader:
        before = take(reader, 3, timeout=10.0)
        assert len(before) == 3

        rtsp_server.stop()
        assert wait_until(lambda: not reader.health().online, timeout=8.0), "should go offline"
        offline = reader.health()
        assert offline.last_error is not None

        rtsp_server.restart()
        after = take(reader, 3, timeout=15.0)
        health = reader.health()

    assert len(after) == 3, "frames should flow again after the camera comes back"
    assert after[0].seq > before[-1].seq
    assert health.online and health.reconnects >= 1


@pytest.mark.slow
def test_stop_at_end_ends_the_reader(door_clip: Path) -> None:
    with (
        RtspServer(door_clip, loop=False) as server,
        reading(server.url, stop_at_end=True) as reader,
    ):
        count = 0
        deadline = time.monotonic() + 15.0
        while not reader.ended.is_set() and time.monotonic() < deadline:
            if reader.next_frame(timeout=0.5) is not None:
                count += 1
        assert reader.ended.wait(timeout=1.0), "the end of the clip should end the reader"
        began = time.monotonic()
        assert reader.next_frame(timeout=5.0) is None
        assert time.monotonic() - began < 1.0, "an ended reader must not make callers wait"
        health = reader.health()

    assert count >= 20, f"most of the 40-frame clip should arrive, got {count}"
    assert not health.online and health.reconnects == 0


def test_stop_at_end_on_a_file(door_clip: Path) -> None:
    with reading(str(door_clip), stop_at_end=True) as reader:
        assert reader.ended.wait(timeout=10.0)
        assert reader.health().frames == 40


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("/nonexistent/door-camera.mp4", id="missing-file"),
        pytest.param(f"rtsp://127.0.0.1:{free_port()}/door", id="refused-port"),
    ],
)
def test_bad_source_reports_offline_without_raising(
    source: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="facegate.capture")
    with reading(source, backoff_initial=0.05, backoff_max=0.1, open_timeout_s=2.0) as reader:
        assert wait_until(lambda: reader.health().reconnects >= 3, timeout=8.0)
        health = reader.health()
        assert reader.next_frame(timeout=0.2) is None

    assert not health.online and health.frames == 0 and health.last_frame_age is None
    assert health.last_error is not None and "cannot open" in health.last_error
    offline_logs = [r for r in caplog.records if "offline" in r.getMessage()]
    assert len(offline_logs) == 1, "going offline is logged once, not once per retry"


def test_redact_hides_rtsp_credentials() -> None:
    assert redact("rtsp://admin:s3cret@10.0.0.7:554/stream1") == "rtsp://***@10.0.0.7:554/stream1"
    assert redact("rtsp://127.0.0.1:8554/door") == "rtsp://127.0.0.1:8554/door"
    assert redact("/var/clips/door.mp4") == "/var/clips/door.mp4"


def test_credentials_never_reach_health_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="facegate.capture")
    source = f"rtsp://admin:s3cret@127.0.0.1:{free_port()}/door"
    with reading(source, backoff_initial=0.05, backoff_max=0.1, open_timeout_s=2.0) as reader:
        assert wait_until(lambda: reader.health().last_error is not None, timeout=8.0)
        error = reader.health().last_error
    assert error is not None and "s3cret" not in error
    assert all("s3cret" not in r.getMessage() for r in caplog.records)


def test_build_clip_renders_grey_lead_in_then_the_photo(door_clip: Path, tmp_path: Path) -> None:
    from conftest_rtsp import DOOR_PERSON, shared_faces_dir
    from facegate.clip import build_clip

    photo = next((shared_faces_dir() / "enroll" / DOOR_PERSON).iterdir())
    out = build_clip([photo], tmp_path / "lead-in.mp4", seconds=1.0, fps=10, blank_seconds=0.5)
    cap = cv2.VideoCapture(str(out), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    cap.release()

    assert len(frames) == 15
    assert frames[0].shape == (480, 640, 3)
    assert float(frames[0].std()) < 2.0  # grey lead-in (H.264 leaves a little noise)
    assert float(frames[-1].std()) > 20.0
    assert not np.array_equal(frames[5], frames[-1])  # the zoom moves
