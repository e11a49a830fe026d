"""Camera capture: one reader thread per camera, newest frame only, reconnect with backoff.

A door decision is only as fresh as the frame it looks at, so the reader never queues: it
keeps one slot holding the newest decoded frame and overwrites it, counting the frames
nobody took (stale input is dropped, never queued: R12). Frames stay in memory and nothing
here writes an image anywhere (R10); logs name the camera and the error, never frame
contents or the credentials an RTSP URL may carry.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["CameraHealth", "CameraReader", "Frame", "redact"]

log = logging.getLogger("facegate.capture")

_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
# TCP: RTP over UDP loses packets (grey smears) on busy Wi-Fi and is blocked by many NATs.
# analyzeduration 0.5 s: FFmpeg's default probing holds the first ~3 s of a live stream
# before open() returns and then releases it as a burst of stale frames; half a second
# still finds the stream's parameters. (fflags=nobuffer was measured to add ~0.5 s delay
# per frame with OpenCV 5's FFmpeg, so it is deliberately absent.)
_DEFAULT_OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "500000"}
_env_lock = threading.Lock()
_FILE_FPS_FALLBACK = 10.0
_READ_TIMEOUT_S = 5.0
DECODE_THREADS = 1


@dataclass(frozen=True)
class Frame:
    image: npt.NDArray[np.uint8]  # H x W x 3, BGR
    seq: int  # per reader, increasing, never reused (also across reconnects)
    arrived: float  # time.monotonic() when the frame was decoded


@dataclass(frozen=True)
class CameraHealth:
    online: bool
    frames: int  # decoded since start()
    reconnects: int  # attempts to reopen the source after it failed or dropped
    last_error: str | None
    last_frame_age: float | None  # seconds since the newest frame, None before the first


def redact(source: str) -> str:
    """The source with any user:password@ in it masked, safe for logs and health."""
    return re.sub(r"(?<=://)[^/@\s]*@", "***@", source)


def _ensure_ffmpeg_options() -> None:
    # OpenCV has no per-capture FFmpeg options; it reads this variable at every open. Set
    # it once, under a lock, keeping anything the operator put there (their keys win):
    # setenv racing getenv in another thread is undefined behaviour in glibc.
    with _env_lock:
        current = os.environ.get(_OPTIONS_ENV, "")
        pairs = [p for p in current.split("|") if p]
        keys = {p.split(";", 1)[0] for p in pairs}
        missing = [f"{k};{v}" for k, v in _DEFAULT_OPTIONS.items() if k not in keys]
        if missing:
            os.environ[_OPTIONS_ENV] = "|".join(pairs + missing)


def _is_stream(source: str) -> bool:
    return "://" in source and not source.startswith("file://")


class CameraReader:
    """Reads one camera (an rtsp:// URL or a video file) on a daemon thread.

    File sources are paced at the file's own fps and loop at their end, so a file behaves
    like a live camera; with `stop_at_end=True` the first end of stream after frames were
    received ends the reader instead (for `facegate demo --once`) and sets `ended`.
    """

    def __init__(
        self,
        name: str,
        source: str,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        stop_at_end: bool = False,
        open_timeout_s: float = 5.0,
        read_timeout_s: float = _READ_TIMEOUT_S,
    ) -> None:
        if backoff_initial <= 0 or backoff_max < backoff_initial:
            raise ValueError("need 0 < backoff_initial <= backoff_max")
        self.name = name
        self.source = source
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stop_at_end = stop_at_end
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self._is_stream = _is_stream(source)
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._returned_seq = -1
        self._snapshot_waiters = 0
        self._snapshot: Frame | None = None
        self._seq = 0
        self._dropped = 0
        self._online = False
        self._reconnects = 0
        self._last_error: str | None = None
        self._last_arrived: float | None = None
        self._logged_offline = False
        self._stop = threading.Event()
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None
        # Told (on this reader's thread, outside its lock) of every new frame and of the end:
        # the vision stage waits for any of its cameras this way.
        self.on_frame: Callable[[], None] | None = None

    # --- consumer side -------------------------------------------------------------------

    @property
    def ended(self) -> threading.Event:
        return self._ended

    @property
    def dropped(self) -> int:
        """Frames overwritten before the consumer took them."""
        with self._cond:
            return self._dropped

    def next_frame(self, timeout: float) -> Frame | None:
        """The newest frame newer than the last one returned, waiting up to `timeout` s.

        None on timeout, when the reader has ended, or when it is stopped.
        """

        def fresh() -> bool:
            latest = self._latest
            return latest is not None and latest.seq > self._returned_seq

        with self._cond:
            self._cond.wait_for(
                lambda: fresh() or self._ended.is_set() or self._stop.is_set(),
                timeout=max(0.0, timeout),
            )
            if not fresh():
                return None
            frame = self._latest
            assert frame is not None
            self._returned_seq = frame.seq
            # Drop the reference so a slow consumer does not keep two frames alive.
            self._latest = None
            return frame

    def has_frame(self) -> bool:
        """Whether a frame is waiting that `next_frame` has not returned yet."""
        with self._cond:
            return self._latest is not None and self._latest.seq > self._returned_seq

    def snapshot(self, timeout: float) -> Frame | None:
        """A copy of the next decoded frame, for enrolment from the door camera.

        It does not take the frame from the one-slot buffer `next_frame` reads, so the door
        keeps seeing every frame it would have seen. The copy lives in memory only (R10).
        None on timeout, when the reader has ended, or when it is stopped.
        """

        def taken() -> bool:
            return self._snapshot is not None and self._snapshot.seq > after

        with self._cond:
            after = self._seq
            self._snapshot_waiters += 1
            try:
                self._cond.wait_for(
                    lambda: taken() or self._ended.is_set() or self._stop.is_set(),
                    timeout=max(0.0, timeout),
                )
                return self._snapshot if taken() else None
            finally:
                self._snapshot_waiters -= 1
                if not self._snapshot_waiters:
                    self._snapshot = None

    def health(self) -> CameraHealth:
        with self._cond:
            age = None if self._last_arrived is None else time.monotonic() - self._last_arrived
            return CameraHealth(
                online=self._online,
                frames=self._seq,
                reconnects=self._reconnects,
                last_error=self._last_error,
                last_frame_age=age,
            )

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        if self._is_stream:
            _ensure_ffmpeg_options()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"capture-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and join the thread; bounded by the open/read timeouts."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=max(self.open_timeout_s, self.read_timeout_s) + 2.0)
            if thread.is_alive():
                log.warning("camera %s: reader thread did not stop in time", self.name)

    # --- reader thread -------------------------------------------------------------------

    def _open(self) -> Any:
        # One decoding thread per camera: FFmpeg's frame threads each hold a frame back (100 ms
        # apiece at 10 fps) and, with a thread per core per camera, eight cameras would run
        # sixteen decoders' worth of threads on two cores. A 720p frame decodes in a few ms.
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout_s * 1000),
            cv2.CAP_PROP_N_THREADS, DECODE_THREADS,
        ]  # fmt: skip
        target = self.source
        if not self._is_stream:
            target = str(Path(self.source.removeprefix("file://")))
            if not Path(target).is_file():
                return None  # spares FFmpeg's warning on stderr for a path that isn't there
        cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            return None
        return cap

    def _run(self) -> None:
        backoff = self.backoff_initial
        attempts = 0
        while not self._stop.is_set():
            if attempts:
                with self._cond:
                    self._reconnects += 1
            attempts += 1
            cap = self._open()
            if cap is None:
                self._went_offline(f"cannot open {redact(self.source)}")
            else:
                try:
                    outcome = self._read_until_failure(cap)
                finally:
                    cap.release()
                if outcome == "stopped":
                    break
                if outcome == "ended":
                    self._end()
                    break
                if outcome == "rewind":
                    # A file that ran out loops straight away: a live camera has no gap.
                    attempts = 0
                    backoff = self.backoff_initial
                    continue
                # A frame arrived on this connection: the source was healthy, start over.
                if outcome == "dropped_after_frames":
                    backoff = self.backoff_initial
            if self._stop.wait(backoff):
                break
            backoff = min(backoff * 2.0, self.backoff_max)
        with self._cond:
            self._online = False
            self._cond.notify_all()

    def _read_until_failure(self, cap: Any) -> str:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not 0.0 < fps < 1000.0:
            fps = _FILE_FPS_FALLBACK
        interval = 1.0 / fps
        next_due = time.monotonic()
        got_frames = False
        while not self._stop.is_set():
            if not self._is_stream:
                # Pace on a fixed schedule (no drift); if we fell behind, restart it rather
                # than bursting to catch up.
                delay = next_due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return "stopped"
                next_due = max(next_due + interval, time.monotonic() - interval)
            ok, image = cap.read()
            if self._stop.is_set():
                return "stopped"
            if not ok or image is None:
                if self.stop_at_end and (got_frames or self._seq > 0):
                    return "ended"
                if not self._is_stream and got_frames:
                    return "rewind"
                what = "stream ended or timed out" if got_frames else "no frames"
                self._went_offline(f"{what}: {redact(self.source)}")
                return "dropped_after_frames" if got_frames else "failed"
            got_frames = True
            self._publish(image)
        return "stopped"

    def _publish(self, image: npt.NDArray[np.uint8]) -> None:
        if image.ndim == 2:
            image = np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
        now = time.monotonic()
        came_back = False
        with self._cond:
            if self._latest is not None:
                self._dropped += 1
            self._seq += 1
            self._latest = Frame(image=image, seq=self._seq, arrived=now)
            if self._snapshot_waiters:
                # Its own copy: the vision stage gets the original.
                self._snapshot = Frame(image=image.copy(), seq=self._seq, arrived=now)
            self._last_arrived = now
            if not self._online:
                self._online = True
                came_back = self._logged_offline
                self._logged_offline = False
            self._cond.notify_all()
        if self.on_frame is not None:
            self.on_frame()
        if came_back:
            log.info("camera %s: back online", self.name)

    def _went_offline(self, error: str) -> None:
        with self._cond:
            self._online = False
            self._last_error = error
            first = not self._logged_offline
            self._logged_offline = True
        if first:
            log.warning("camera %s: offline (%s); reconnecting with backoff", self.name, error)

    def _end(self) -> None:
        with self._cond:
            self._online = False
            self._ended.set()
            self._cond.notify_all()
        if self.on_frame is not None:
            self.on_frame()
        log.info("camera %s: end of stream", self.name)
