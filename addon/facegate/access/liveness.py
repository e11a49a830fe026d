"""Liveness over a decision window: the face is alive only when the frames that decide say so
together, and none of them says clearly that it is a print or a screen.

One frame can be fooled either way (a live face in odd light, a good print at a lucky angle);
the window's mean live score is steadier, and a single frame that is confidently an attack is
enough to deny, since a live face almost never looks like one. Frames without evidence (the
face too small) never enter the window: they count as no evidence, never as live.

A window of two frames or more must also show the face moving like a living face, not like a
picture (vision/liveness_motion.py): that is what turns away a cut-out print or a photo on a
monitor that the models take for a face. One frame (a photo judged on its own, as at enrolment)
has no motion to judge. The last frame is measured against the window's first and, if that
shows no motion, against an earlier frame of the same face (access/vote.py): someone who holds
still for a few frames has mostly moved within the last second or so. So a face is refused for
not moving only once the door has watched it for that second (`MOTION_BASELINE_S`); until then
such a window's verdict is not final: the door stays shut, says nothing and watches on. Without
this the door's first window (three frames, 0.2 s at 10 fps) called a resident who had not yet
moved a spoof: the live webcam man of the newcomer's demo in 110 of 200 frame timings, the live
Hamilton clip in 20; now 0 and 3 of them are refused before they are let in
(benchmarks/first_window.py, 2026-12-03). The watch starts when a face comes into
view after a second without one (access/vote.py): someone who steps up right behind another
person is judged at once, as every face was before.

And a face once caught as an attack stays caught while it is in view: a frame that is
confidently a print or a screen, or shows one's border or moiré, denies every window for
`VETO_HOLD_S` after it, so an attacker cannot wait for a lucky window a moment later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from facegate.vision.liveness import LivenessEvidence
from facegate.vision.liveness_cues import FRAME_EDGES, MOIRE
from facegate.vision.liveness_motion import face_motion

LivenessMode = Literal["required", "off"]
LIVENESS_MODES: tuple[LivenessMode, ...] = ("required", "off")
DEFAULT_LIVENESS: LivenessMode = "required"
# The window's mean live probability must reach this; chosen with `facegate eval liveness` on
# the real and synthetic attack sets (README, "Presentation attacks"). With the vetoes and the
# motion check on, attacks passing barely depend on it: 0.55 is the lowest threshold at which
# they are as few as they get before 0.75 (synthetic prints 0.8 %, replays 2.5 %; at 0.5 1.7 %
# and 3.3 %; no real replay passes above 0.35), and above it only live refusals grow (judged:
# 7.3 % at 0.55, 9.8 % at 0.6, 15.9 % at 0.8).
LIVE_THRESHOLD = 0.55
# One photo at enrolment has no motion to judge, so it must clear the models' own bar alone:
# the stricter threshold the door used before the motion check existed.
ENROL_LIVE_THRESHOLD = 0.8
# A frame whose print or replay probability reaches this denies the window on its own.
CONFIDENT_ATTACK = 0.9
# How long a frame caught as an attack keeps denying the face in view, in seconds.
VETO_HOLD_S = 3.0
# How far back the motion check may reach for an earlier frame of the same face, in seconds.
# Measured on the synthetic set at 0.55 (2026-12-03): 0.8, 1.0 and 1.5 s all let in the two
# real-video attempts of a man holding still (6 of 82 judged live refused, from 8), and let 2,
# 1 and 2 of 60 cut-out prints through (1 without): a longer reach tracks a held print over
# more motion, and more tracking error looks like a bending face.
MOTION_BASELINE_S = 1.0

Verdict = Literal["live", "spoof"]
# The frames the last one's motion is measured against, in turn, until one shows a living face;
# asked for only when the motion check runs (the door's windows give only frames of the face
# that decides, see access/vote.py).
Baselines = Callable[[], Iterable[LivenessEvidence]]
# Why a window is a spoof, as events, the audit log and the API name it.
SPOOF_REASONS = (
    "low_live_score",
    "confident_print",
    "confident_replay",
    FRAME_EDGES,
    MOIRE,
    "no_live_motion",
    "no_evidence",
)


@dataclass(frozen=True, kw_only=True)
class LivenessVerdict:
    verdict: Verdict
    score: float  # the window's mean live probability
    frames: int
    reason: str | None = None  # one of SPOOF_REASONS for a spoof
    # False: no motion yet, from a face watched for less than MOTION_BASELINE_S; the door waits.
    final: bool = True

    @property
    def live(self) -> bool:
        return self.verdict == "live"

    def to_json(self) -> dict[str, object]:
        verdict: dict[str, object] = {"score": round(self.score, 4), "verdict": self.verdict}
        if self.reason is not None:
            verdict["reason"] = self.reason  # the administrator is told why, the door only "no"
        return verdict


def veto_of(evidence: LivenessEvidence, confident_attack: float = CONFIDENT_ATTACK) -> str | None:
    """Why this one frame denies the window on its own, if it does."""
    for kind, probability in (("print", evidence.print), ("replay", evidence.replay)):
        if probability >= confident_attack:
            return f"confident_{kind}"
    return evidence.cue


def _moved_like_a_face(first: LivenessEvidence, last: LivenessEvidence) -> bool:
    if first.patch is None or last.patch is None:
        return False  # nothing to tell a picture from a face by: not live
    motion = face_motion(first.patch, last.patch)
    return motion is not None and motion.live


def _moves_like_a_face(evidence: Sequence[LivenessEvidence], baselines: Baselines | None) -> bool:
    candidates = baselines() if baselines is not None else (evidence[0],)
    return any(_moved_like_a_face(baseline, evidence[-1]) for baseline in candidates)


def judge_window(
    evidence: Sequence[LivenessEvidence],
    *,
    threshold: float = LIVE_THRESHOLD,
    confident_attack: float = CONFIDENT_ATTACK,
    baselines: Baselines | None = None,
) -> LivenessVerdict:
    """The verdict of the frames that decide (each with evidence), oldest first. The motion
    check measures the last frame against the first, or against `baselines` where the door
    gives them."""
    frames = len(evidence)
    if not evidence:
        return LivenessVerdict(verdict="spoof", score=0.0, frames=0, reason="no_evidence")
    score = sum(e.live for e in evidence) / frames
    for e in evidence:
        if (veto := veto_of(e, confident_attack)) is not None:
            return LivenessVerdict(verdict="spoof", score=score, frames=frames, reason=veto)
    if score < threshold:
        return LivenessVerdict(verdict="spoof", score=score, frames=frames, reason="low_live_score")
    if frames > 1 and not _moves_like_a_face(evidence, baselines):
        return LivenessVerdict(verdict="spoof", score=score, frames=frames, reason="no_live_motion")
    return LivenessVerdict(verdict="live", score=score, frames=frames)


class VetoHold:
    """Remembers the last frame of the face in view that was caught as an attack."""

    def __init__(self, hold_s: float = VETO_HOLD_S) -> None:
        self._hold_s = hold_s
        self._until = float("-inf")
        self._reason: str | None = None

    def see(self, at: float, evidence: LivenessEvidence | None) -> None:
        if evidence is not None and (veto := veto_of(evidence)) is not None:
            self._until, self._reason = at + self._hold_s, veto

    def held(self, at: float) -> str | None:
        """Why the face in view is still caught at `at`, if it is."""
        return self._reason if at <= self._until else None


def judge_held(
    evidence: Sequence[LivenessEvidence],
    held: str | None,
    threshold: float = LIVE_THRESHOLD,
    *,
    baselines: Baselines | None = None,
    watched_s: float = float("inf"),
) -> LivenessVerdict | None:
    """The window's verdict (None without evidence: liveness is off), turned to spoof while a
    recent attack frame is held, and not final while a face watched for `watched_s` has not
    yet had MOTION_BASELINE_S to show motion. `threshold` other than the door's is for
    `facegate eval liveness`, which sweeps it."""
    verdict = judge_window(evidence, threshold=threshold, baselines=baselines) if evidence else None
    if verdict is None:
        return None
    if not verdict.live:
        # A face caught as an attack moments ago gets no time to show motion.
        early = verdict.reason == "no_live_motion" and watched_s < MOTION_BASELINE_S
        return replace(verdict, final=False) if early and held is None else verdict
    return verdict if held is None else replace(verdict, verdict="spoof", reason=held)
