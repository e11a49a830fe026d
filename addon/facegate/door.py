"""One door's decisions from its camera's analysed frames (the vision stage analyses each
frame once, vision_stage.py, and hands the analysis to every door the camera serves)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from facegate.access.actuator import DoorActuator
from facegate.access.admission import Admission
from facegate.access.gallery import Gallery
from facegate.access.policy import DecisionPolicy, Verdict
from facegate.access.vote import Outcome, aggregator
from facegate.capture import Frame
from facegate.config import DecisionConfig, DoorConfig
from facegate.events import Reason
from facegate.vision.analyzer import Analysis
from facegate.vision.types import Face, Vector

_LOGGER = logging.getLogger("facegate.engine")
# How much of the face's box must overlap the last frame's for it to be the same face. A head
# turned quickly moved 40 % of its width in one frame (100 ms) in the benchmark's live clip
# (an overlap of 0.30); another person stepping in is somewhere else.
REST_OVERLAP = 0.25


def warn_liveness_off(doors: Iterable[DoorConfig]) -> None:
    """At every start: a face door with liveness off opens for a photo held up (R12)."""
    for door in doors:
        if "face" in door.methods and not door.checks_liveness:
            _LOGGER.warning(
                "door %s: liveness is off: a printed photo or a phone showing a resident's "
                "face can open this door (R12); set doors.%s.liveness: required",
                door.id,
                door.id,
            )


def explained(
    verdict: Verdict,
    gallery: Gallery,
    everyone: Gallery,
    vector: Vector,
    policy: DecisionPolicy,
    *,
    excluding: str | None = None,
) -> Verdict:
    """The door's verdict, checked against every enrolled person: when someone this door does
    not admit is the closest of all, the face is theirs, not the door's pick (a resident of
    another building is told `not_allowed`, never let in as a lookalike who lives here).
    Nobody is ever granted by this: it only names a person the door then refuses.
    `excluding` leaves one person out of everyone (the simulation's stranger)."""
    if everyone is gallery:
        return verdict
    wider = everyone.rank(vector, excluding=excluding)
    if wider is None or gallery.holds(wider.best.person_id):
        return verdict
    people = everyone.people - (1 if excluding is not None and everyone.holds(excluding) else 0)
    theirs = policy.judge(wider, people)
    if theirs.person_id is not None:
        return theirs  # recognised: refused at decision time as not_allowed
    if verdict.person_id is not None:
        # The door's pick scored below someone it does not admit: when unsure, deny.
        return Verdict(reason="ambiguous", person_id=None, person_name=None, score=verdict.score)
    return verdict


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two boxes (x, y, width, height)."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


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
        gallery: Callable[[], Gallery],
        everyone: Callable[[], Gallery],
        admission: Admission,
        policy: DecisionPolicy,
        decision: DecisionConfig,
        on_frame: Callable[[FrameReport], None] | None = None,
    ) -> None:
        """`gallery` holds the people this door admits (their access groups cover it);
        `everyone` every enrolled person, to tell a resident of another door from a stranger."""
        self.actuator = actuator
        self.policy = policy
        # A door with liveness off ignores what the camera's analysis says of it (another
        # door on the same camera may need it).
        self._liveness = actuator.door.checks_liveness
        self._gallery = gallery
        self._everyone = everyone
        self._admission = admission
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
        # The face this door just let in, followed frame to frame while the grant's cooldown
        # lasts: nothing would be said of it, so it is not judged again (rests_on).
        self._resting: tuple[tuple[float, float, float, float], float] | None = None
        self.face_enabled = True

    @property
    def door_id(self) -> str:
        return self.actuator.door.id

    def rests_on(self, face: Face, arrived: float) -> bool:
        """Whether `face` is the one this door let in moments ago (the same place as in the
        last frame, within the grant's cooldown): judging it again could say nothing, since a
        person just let in is not announced twice. A face elsewhere in the picture, or after
        the cooldown, is judged as any other; resting never opens anything."""
        if self._resting is None:
            return False
        box, until = self._resting
        if arrived >= until or overlap(box, face.box) < REST_OVERLAP:
            self._resting = None
            return False
        self._resting = (face.box, until)  # follow the face as it moves
        return True

    def _judge(self, vector: Vector) -> Verdict:
        # One snapshot for both numbers: a reload between them must not mix two galleries.
        gallery, everyone = self._gallery(), self._everyone()
        verdict = self.policy.judge(gallery.rank(vector), gallery.people)
        return explained(verdict, gallery, everyone, vector, self.policy)

    def process(self, frame: Frame, analysis: Analysis) -> FrameReport:
        """One analysed frame through this door's window; a decision when the window has one.
        Called by one vision worker at a time, in the camera's frame order."""
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
            liveness = analysis.liveness if self._liveness else None
            outcome = self._window.add(frame.arrived, analysis.vector, liveness)
            report.stage_ms["match"] = (time.perf_counter() - started) * 1000
            if outcome is not None:
                report.person_id = outcome.verdict.person_id
                report.score = outcome.verdict.score
                started = time.perf_counter()
                report.decision = self._conclude(outcome, report.stage_ms)
                if report.decision == "granted" and analysis.face is not None:
                    until = frame.arrived + self._decision.cooldown_s
                    self._resting = (analysis.face.box, until)
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
        if judged is not None and not judged.final:
            return None  # no motion yet from a face just come into view: shut, and watching
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
        # was loaded (R6). Then the person's access groups and validity, as for a code (R5).
        expires_at = verdict.consent_expires_at
        reason: Reason | None = (
            "consent_expired" if expires_at is not None and time.time() >= expires_at else None
        )
        if reason is None:
            reason = self._admission.refusal(verdict.person_id, self.door_id)
            admitted = reason is None
        else:
            admitted = False
        named = reason != "tampered"  # an altered row opens nothing under anyone's name (R8)
        event = self.actuator.decide(
            method="face",
            reason=reason or "match",
            person_id=verdict.person_id if named else None,
            person_name=verdict.person_name if named else None,
            score=verdict.score,
            liveness=liveness,
            evidence_at=outcome.last_at,
        )
        if admitted:
            self._admission.settle(event["result"] == "granted", verdict.person_id)
        return str(event["result"])
