"""One door's worker: takes the newest frame from its camera and runs it to a decision."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from facegate.access.actuator import DoorActuator
from facegate.access.gallery import Gallery
from facegate.access.vote import Ballot, Outcome, VoteWindow
from facegate.capture import CameraReader, Frame
from facegate.config import DecisionConfig
from facegate.events import Reason
from facegate.vision.analyzer import FaceAnalyzer

_LOGGER = logging.getLogger("facegate.door")


@dataclass(kw_only=True)
class FrameReport:
    """What one frame did, for health, benchmarks and tests. Holds no image and no vector."""

    door: str
    seq: int
    arrived: float
    face: bool
    quality: str | None
    person_id: str | None
    score: float | None
    decision: str | None
    stage_ms: dict[str, float] = field(default_factory=dict)


class DoorWorker:
    def __init__(
        self,
        *,
        actuator: DoorActuator,
        reader: CameraReader,
        analyzer: FaceAnalyzer,
        gallery: Callable[[], Gallery],
        decision: DecisionConfig,
        on_frame: Callable[[FrameReport], None] | None = None,
    ) -> None:
        self.actuator = actuator
        self.reader = reader
        self._analyzer = analyzer
        self._gallery = gallery
        self._decision = decision
        self._on_frame = on_frame
        self._votes = VoteWindow(
            required=decision.votes_required,
            window=decision.votes_window,
            window_s=decision.window_s,
        )
        # Cooldowns keep one encounter at the door from producing an event per frame.
        self._granted_at: dict[str, float] = {}
        self._unknown_at = -1e9
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.face_enabled = True

    @property
    def door_id(self) -> str:
        return self.actuator.door.id

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"door-{self.door_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def finished(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.reader.next_frame(timeout=0.5)
            if frame is None:
                if self.reader.ended.is_set():
                    return
                continue
            try:
                self.process(frame)
            except Exception:
                # A bad frame must not take the door down; the next frame gets a fresh try.
                _LOGGER.exception("door %s: frame %d failed", self.door_id, frame.seq)

    def process(self, frame: Frame) -> FrameReport:
        analysis = self._analyzer.analyze(frame.image)
        report = FrameReport(
            door=self.door_id,
            seq=frame.seq,
            arrived=frame.arrived,
            face=analysis.face is not None,
            quality=analysis.quality.reason if analysis.quality else None,
            person_id=None,
            score=None,
            decision=None,
            stage_ms=dict(analysis.stage_ms),
        )
        if analysis.vector is not None and self.face_enabled:
            started = time.perf_counter()
            match = self._gallery().best(analysis.vector)
            threshold = self._decision.threshold
            named = match is not None and match.score >= threshold
            report.person_id = match.person_id if named and match else None
            report.score = match.score if match else None
            outcome = self._votes.cast(
                Ballot(
                    at=frame.arrived,
                    person_id=report.person_id,
                    score=match.score if match else -1.0,
                )
            )
            report.stage_ms["match"] = (time.perf_counter() - started) * 1000
            if outcome is not None:
                started = time.perf_counter()
                report.decision = self._conclude(
                    outcome,
                    match.person_name if named and match else None,
                    match.consent_expires_at if named and match else None,
                )
                report.stage_ms["act"] = (time.perf_counter() - started) * 1000
        report.stage_ms["total"] = (time.monotonic() - frame.arrived) * 1000
        if self._on_frame is not None:
            self._on_frame(report)
        return report

    def _conclude(
        self, outcome: Outcome, name: str | None, consent_expires_at: float | None
    ) -> str | None:
        now = time.monotonic()
        cooldown = self._decision.cooldown_s
        if outcome.person_id is None:
            if now - self._unknown_at < cooldown:
                return None
            self._unknown_at = now
            # Unknown faces leave no trace beyond this denial: no image, no vector, no score
            # history (R10).
            self.actuator.decide(
                method="face", reason="unknown", score=outcome.score, evidence_at=outcome.last_at
            )
            return "denied"
        if now - self._granted_at.get(outcome.person_id, -1e9) < cooldown:
            return None
        self._granted_at[outcome.person_id] = now
        # Consent is checked again at decision time: it may have expired since the gallery
        # was loaded (R6).
        reason: Reason = (
            "consent_expired"
            if consent_expires_at is not None and time.time() >= consent_expires_at
            else "match"
        )
        event = self.actuator.decide(
            method="face",
            reason=reason,
            person_id=outcome.person_id,
            person_name=name,
            score=outcome.score,
            evidence_at=outcome.last_at,
        )
        return str(event["result"])
