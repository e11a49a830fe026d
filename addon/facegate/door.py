"""One door's worker: takes the newest frame from its camera and runs it to a decision."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from facegate.access.actuator import DoorActuator
from facegate.access.gallery import Gallery
from facegate.access.policy import DecisionPolicy, Verdict
from facegate.access.vote import Outcome, aggregator
from facegate.capture import CameraReader, Frame
from facegate.config import DecisionConfig
from facegate.events import Reason
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.types import Vector

_LOGGER = logging.getLogger("facegate.door")


@dataclass(kw_only=True)
class FrameReport:
    """What one frame did, for health, benchmarks and tests. Holds no image and no vector."""

    door: str
    seq: int
    arrived: float
    face: bool
    quality: str | None
    person_id: str | None  # the person a decision named, on the frame that decided
    score: float | None  # the deciding score (the track's, or the best agreeing frame's)
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
        policy: DecisionPolicy,
        decision: DecisionConfig,
        on_frame: Callable[[FrameReport], None] | None = None,
    ) -> None:
        self.actuator = actuator
        self.reader = reader
        self.policy = policy
        self._analyzer = analyzer
        self._gallery = gallery
        self._decision = decision
        self._on_frame = on_frame
        self._window = aggregator(
            decision.aggregate,
            required=decision.votes_required,
            window=decision.votes_window,
            window_s=decision.window_s,
            judge=self._judge,
        )
        # Cooldowns keep one encounter at the door from producing an event per frame.
        self._granted_at: dict[str, float] = {}
        self._denied_at = -1e9
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

    def _judge(self, vector: Vector) -> Verdict:
        # One snapshot for both numbers: a reload between them must not mix two galleries.
        gallery = self._gallery()
        return self.policy.judge(gallery.rank(vector), gallery.people)

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
            outcome = self._window.add(frame.arrived, analysis.vector, analysis.liveness)
            report.stage_ms["match"] = (time.perf_counter() - started) * 1000
            if outcome is not None:
                report.person_id = outcome.verdict.person_id
                report.score = outcome.verdict.score
                started = time.perf_counter()
                report.decision = self._conclude(outcome, report.stage_ms)
                # Includes the window's liveness judgement, also timed on its own.
                report.stage_ms["act"] = (time.perf_counter() - started) * 1000
        report.stage_ms["total"] = (time.monotonic() - frame.arrived) * 1000
        if self._on_frame is not None:
            self._on_frame(report)
        return report

    def _conclude(self, outcome: Outcome, stage_ms: dict[str, float]) -> str | None:
        now = time.monotonic()
        cooldown = self._decision.cooldown_s
        verdict = outcome.verdict
        denials_quiet = now - self._denied_at < cooldown
        granted_lately = (
            verdict.person_id is not None
            and now - self._granted_at.get(verdict.person_id, -1e9) < cooldown
        )
        # Nothing would be said whatever liveness says, so its judgement (a few milliseconds) is
        # spared: a stranger while denials are cooling down, or a resident let in moments ago
        # (the door is open; a picture of them now is refused again once the cooldown ends).
        if granted_lately or (verdict.person_id is None and denials_quiet):
            return None
        started = time.perf_counter()
        judged = outcome.liveness
        stage_ms["liveness_window"] = (time.perf_counter() - started) * 1000
        liveness = judged.to_json() if judged is not None else None
        spoof = judged is not None and not judged.live
        if verdict.person_id is None or spoof:
            if denials_quiet:
                return None
            self._denied_at = now
            # A face that is not alive is denied before anything is said about whom it shows
            # (R12); unknown faces leave no trace beyond this denial: no image, no vector, no
            # score history (R10). An ambiguous face names neither resident it resembles.
            self.actuator.decide(
                method="face",
                reason="spoof" if spoof else verdict.reason,
                score=None if spoof else verdict.score,
                liveness=liveness,
                evidence_at=outcome.last_at,
            )
            return "denied"
        self._granted_at[verdict.person_id] = now
        # Consent is checked again at decision time: it may have expired since the gallery
        # was loaded (R6).
        expires_at = verdict.consent_expires_at
        reason: Reason = (
            "consent_expired" if expires_at is not None and time.time() >= expires_at else "match"
        )
        event = self.actuator.decide(
            method="face",
            reason=reason,
            person_id=verdict.person_id,
            person_name=verdict.person_name,
            score=verdict.score,
            liveness=liveness,
            evidence_at=outcome.last_at,
        )
        return str(event["result"])
