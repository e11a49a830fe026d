"""Pytest plugin: a door-camera clip and a local RTSP server serving it.

Load it with `pytest_plugins = ["conftest_rtsp"]` (from the top conftest, or from a test
module, as test_capture.py does); it is importable because pytest puts tests/engine on
sys.path for these rootdir-less test modules. Fixtures:

- `door_clip` (session): a 4 s, 10 fps, 640x480 H.264 mp4 of a real enrolment photo with a
  slow zoom, built in a pytest temp dir (never in the repository). Skips when the shared
  face data is absent.
- `rtsp_server` (function): a started, looping `RtspServer` for `door_clip`; stopped after.
  Fails, rather than skips, when /usr/bin/python3 lacks GStreamer: CI installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from facegate.clip import build_clip
from facegate.simulated_camera import RtspServer

CLIP_SECONDS = 4.0
CLIP_FPS = 10
CLIP_SIZE = (640, 480)
DOOR_PERSON = "lin_manuel_miranda"


def shared_faces_dir() -> Path:
    """The shared face data: `../shared` beside the checkout, or $FACEGATE_SHARED."""
    configured = os.environ.get("FACEGATE_SHARED")
    shared = Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared"
    return shared / "data" / "faces"


@pytest.fixture(scope="session")
def door_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    person = shared_faces_dir() / "enroll" / DOOR_PERSON
    images = sorted(p for p in person.glob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    if not images:
        pytest.skip(f"no enrolment photos at {person} (set FACEGATE_SHARED to the shared dir)")
    out = tmp_path_factory.mktemp("clips") / "door.mp4"
    return build_clip(images[:1], out, seconds=CLIP_SECONDS, fps=CLIP_FPS, size=CLIP_SIZE)


@pytest.fixture
def rtsp_server(door_clip: Path) -> Iterator[RtspServer]:
    server = RtspServer(door_clip, loop=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()
