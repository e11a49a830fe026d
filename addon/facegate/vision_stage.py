"""One vision stage for every camera: a small pool of workers, fair across cameras.

Each camera keeps only its newest frame (capture.py). The workers take the cameras in turn
(round robin, a camera at most one worker at a time, so its doors see their frames in order),
ask the camera's motion gate whether the frame is worth analysing, analyse it once with the
engine's shared models (one set per engine, whatever the number of doors), and hand the
analysis to every door the camera serves. A camera whose newest frame is overwritten before
a worker took it counts the frame as dropped; nothing waits in a queue (R12: a decision is
only as fresh as its frame).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facegate.capture import CameraReader, Frame
from facegate.config import Config
from facegate.door import DoorWorker
from facegate.motion_gate import MotionGate
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.types import Face

_LOGGER = logging.getLogger("facegate.vision")
# Enough decisions for a p95 that moves with the last minute or so, not the whole day.
LATENCY_SAMPLES = 600
MAX_AUTO_WORKERS = 4


def auto_workers() -> int:
    """One worker per core (the models release the GIL while they run), at most four."""
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS))


@dataclass(kw_only=True)
class Lane:
    """One camera, the doors it serves and how its frames are analysed."""

    camera: str
    reader: CameraReader
    doors: list[DoorWorker]
    analyzer: FaceAnalyzer
    gate: MotionGate
    busy: bool = False
    analysed: int = 0
    skipped_no_motion: int = 0
    after_grant: int = 0  # stopped after detection: the face its door just let in
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))

    def stats(self) -> dict[str, Any]:
        latencies = list(self.latencies_ms)
        p95 = round(float(np.percentile(latencies, 95)), 1) if latencies else None
        return {
            "frames_decoded": self.reader.health().frames,
            "frames_analysed": self.analysed,
            "frames_skipped_no_motion": self.skipped_no_motion,
            "frames_after_grant": self.after_grant,
            "frames_dropped": self.reader.dropped,
            "decision_p95_ms": p95,
        }


class VisionStage:
    def __init__(self, lanes: list[Lane], *, workers: int) -> None:
        if workers < 1:
            raise ValueError("the vision stage needs at least one worker")
        self.lanes = lanes
        self.workers = workers
        self._cond = threading.Condition()
        self._next = 0  # the lane the next search starts from: no camera starves another
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        for lane in lanes:
            lane.reader.on_frame = self.wake

    def wake(self) -> None:
        """A camera has a new frame (or ended): on its capture thread."""
        with self._cond:
            self._cond.notify()

    def start(self) -> None:
        for index in range(self.workers if self.lanes else 0):
            thread = threading.Thread(target=self._run, name=f"vision-{index}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def finished(self) -> bool:
        """Every camera's stream has ended and its last frame was dealt with (demo --once)."""
        with self._cond:
            return all(
                lane.reader.ended.is_set() and not lane.busy and not lane.reader.has_frame()
                for lane in self.lanes
            )

    def stats(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return {lane.camera: lane.stats() for lane in self.lanes}

    def _take(self) -> tuple[Lane, Frame] | None:
        with self._cond:
            while not self._stop.is_set():
                count = len(self.lanes)
                for offset in range(count):
                    index = (self._next + offset) % count
                    lane = self.lanes[index]
                    if lane.busy:
                        continue
                    frame = lane.reader.next_frame(timeout=0)
                    if frame is None:
                        continue
                    lane.busy = True
                    self._next = (index + 1) % count
                    return lane, frame
                self._cond.wait(0.5)
        return None

    def _run(self) -> None:
        while (taken := self._take()) is not None:
            lane, frame = taken
            try:
                self._process(lane, frame)
            except Exception:
                # A bad frame must not take the camera down; the next frame gets a fresh try.
                _LOGGER.exception("camera %s: frame %d failed", lane.camera, frame.seq)
            finally:
                with self._cond:
                    lane.busy = False
                    self._cond.notify()

    def _process(self, lane: Lane, frame: Frame) -> None:
        if not lane.gate.wants(frame.image, frame.arrived):
            lane.skipped_no_motion += 1
            return

        def rest(face: Face) -> bool:
            # Every door asked (each follows its own face), then all must agree.
            answers = [door.rests_on(face, frame.arrived) for door in lane.doors]
            return all(answers)

        analysis = lane.analyzer.analyze(frame.image, rest=rest)
        if analysis.face is not None:
            lane.gate.saw_face(frame.arrived)
        lane.analysed += 1
        lane.after_grant += analysis.rested
        totals = [door.process(frame, analysis).stage_ms["total"] for door in lane.doors]
        with self._cond:  # health reads them on another thread
            lane.latencies_ms.extend(totals)


def camera_lanes(
    config: Config,
    doors: Mapping[str, DoorWorker],
    analyzer: Callable[..., FaceAnalyzer],
    *,
    stop_at_end: bool = False,
) -> list[Lane]:
    """One lane per camera that a face door reads: its frames are analysed once for all its
    doors, with liveness when any of them checks it (`analyzer(range, liveness=...)`)."""
    lanes = []
    for camera in config.cameras.values():
        served = [d for d in config.doors.values() if d.id in doors and d.camera == camera.name]
        if not served:
            continue
        lanes.append(
            Lane(
                camera=camera.name,
                reader=CameraReader(camera.name, camera.source, stop_at_end=stop_at_end),
                doors=[doors[d.id] for d in served],
                analyzer=analyzer(camera.detector, liveness=any(d.checks_liveness for d in served)),
                gate=MotionGate(enabled=config.vision.motion_gate),
            )
        )
    return lanes
