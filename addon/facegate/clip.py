"""Build short H.264 door-camera clips from still photos or real videos, for the demo, tests and
benchmarks.

Frames are rendered in memory and piped to ffmpeg's stdin as raw BGR, so no image files are
ever written: the photos are real faces and must not be scattered over the disk.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from facegate.errors import FacegateError

__all__ = ["ClipError", "build_clip", "video_frames", "write_clip"]

GREY = 128
# Share of the frame height the photo fills at the start and end of its segment: a slow
# approach, so consecutive frames differ (a frozen frame would hide capture bugs) while the
# face stays large enough to detect.
_ZOOM_START = 0.60
_ZOOM_END = 0.75


class ClipError(FacegateError):
    """A clip could not be built (ffmpeg missing or failing, or an unreadable image)."""


def _load(path: Path) -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ClipError(f"cannot read image {path}")
    return np.asarray(image, dtype=np.uint8)


def _render(
    photo: npt.NDArray[np.uint8], size: tuple[int, int], fill: float
) -> npt.NDArray[np.uint8]:
    width, height = size
    frame = np.full((height, width, 3), GREY, dtype=np.uint8)
    ph, pw = photo.shape[:2]
    scale = min(fill * height / ph, 0.95 * width / pw)
    new_w, new_h = max(1, round(pw * scale)), max(1, round(ph * scale))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(photo, (new_w, new_h), interpolation=interpolation)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    frame[y0 : y0 + new_h, x0 : x0 + new_w] = resized
    return frame


def build_clip(
    images: list[Path],
    out: Path,
    *,
    seconds: float,
    fps: int = 10,
    size: tuple[int, int] = (640, 480),
    blank_seconds: float = 0.0,
) -> Path:
    """Write an H.264 mp4 at `out`: optional grey lead-in, then each image in turn, zooming.

    `seconds` is shared evenly between the images; `blank_seconds` of plain grey come first
    (a door with nobody in front of it). Returns `out`.
    """
    if not images:
        raise ClipError("build_clip needs at least one image")
    width, height = size
    if fps <= 0 or seconds <= 0 or blank_seconds < 0:
        raise ClipError("fps and seconds must be positive, blank_seconds non-negative")
    photos = [_load(path) for path in images]

    def frames() -> Iterator[npt.NDArray[np.uint8]]:
        blank = np.full((height, width, 3), GREY, dtype=np.uint8)
        for _ in range(round(blank_seconds * fps)):
            yield blank
        per_image = max(1, round(seconds * fps / len(photos)))
        for photo in photos:
            for i in range(per_image):
                t = i / max(1, per_image - 1)
                yield _render(photo, size, _ZOOM_START + (_ZOOM_END - _ZOOM_START) * t)

    return write_clip(frames(), out, fps=fps, size=size)


def video_frames(
    source: Path,
    *,
    start_s: float,
    seconds: float,
    fps: int = 10,
    size: tuple[int, int] = (640, 480),
) -> list[npt.NDArray[np.uint8]]:
    """A stretch of a real video at `fps`, cropped (not padded) to fill `size`: a live person,
    as a door camera would stream them."""
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise ClipError(f"cannot open video {source}")
    rate = capture.get(cv2.CAP_PROP_FPS) or fps
    frames: list[npt.NDArray[np.uint8]] = []
    index, next_at = 0, start_s
    try:
        while len(frames) < round(seconds * fps):
            ok, frame = capture.read()
            if not ok:
                break
            if index / rate + 1e-6 >= next_at:
                frames.append(_fill(np.asarray(frame, dtype=np.uint8), size))
                next_at += 1.0 / fps
            index += 1
    finally:
        capture.release()
    if not frames:
        raise ClipError(f"{source} has no frames from {start_s} s on")
    return frames


def _fill(frame: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    width, height = size
    fh, fw = frame.shape[:2]
    if fw * height > fh * width:  # wider than the target: cut the sides
        cut = round(fh * width / height)
        frame = frame[:, (fw - cut) // 2 : (fw - cut) // 2 + cut]
    else:
        cut = round(fw * height / width)
        frame = frame[(fh - cut) // 2 : (fh - cut) // 2 + cut]
    return np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def write_clip(
    frames: Iterable[npt.NDArray[np.uint8]], out: Path, *, fps: int, size: tuple[int, int]
) -> Path:
    """Pipe BGR frames of `size` to ffmpeg as an H.264 mp4 at `out`: one key frame per second,
    no B-frames, like an IP camera's main stream. Returns `out`."""
    width, height = size
    if width % 2 or height % 2:
        raise ClipError(f"clip size must be even for yuv420p, got {width}x{height}")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise ClipError("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg, "-y", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", str(fps),
        "-i", "pipe:0",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-g", str(fps), "-bf", "0", "-movflags", "+faststart",
        str(out),
    ]  # fmt: skip
    # -loglevel error keeps stderr tiny, so reading it only after stdin is closed cannot
    # deadlock on a full pipe.
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    assert proc.stderr is not None
    try:
        for frame in frames:
            fitted = frame if frame.shape[:2] == (height, width) else cv2.resize(frame, size)
            proc.stdin.write(np.ascontiguousarray(fitted, dtype=np.uint8).tobytes())
    except BrokenPipeError:
        pass  # ffmpeg died early; its stderr below says why
    finally:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
    err = proc.stderr.read()
    proc.stderr.close()
    proc.wait(timeout=60)
    if proc.returncode != 0 or not out.exists():
        raise ClipError(f"ffmpeg failed ({proc.returncode}): {err.decode(errors='replace')[-800:]}")
    return out
