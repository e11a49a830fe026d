"""Liveness over a decision window: the face is alive only when the frames that decide say so
together, and none of them says clearly that it is a print or a screen.

One frame can be fooled either way (a live face in odd light, a good print at a lucky angle);
the window's mean live score is steadier, and a single frame that is confidently an attack is
enough to deny, since a live face almost never looks like one. Frames without evidence (the
face too small) never enter the window: they count as no evidence, never as live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from facegate.vision.liveness import LivenessEvidence

LivenessMode = Literal["required", "off"]
LIVENESS_MODES: tuple[LivenessMode, ...] = ("required", "off")
DEFAULT_LIVENESS: LivenessMode = "required"
# The window's mean live probability must reach this; chosen with `facegate eval liveness` on
# the real and synthetic attack sets (README, "Presentation attacks").
LIVE_THRESHOLD = 0.8
# A frame whose print or replay probability reaches this denies the window on its own.
CONFIDENT_ATTACK = 0.9

Verdict = Literal["live", "spoof"]


@dataclass(frozen=True, kw_only=True)
class LivenessVerdict:
    verdict: Verdict
    score: float  # the window's mean live probability
    frames: int
    reason: str | None = None  # why a spoof: "low_live_score" or "confident_<kind>"

    @property
    def live(self) -> bool:
        return self.verdict == "live"

    def to_json(self) -> dict[str, object]:
        return {"score": round(self.score, 4), "verdict": self.verdict}


def judge_window(
    evidence: Sequence[LivenessEvidence],
    *,
    threshold: float = LIVE_THRESHOLD,
    confident_attack: float = CONFIDENT_ATTACK,
) -> LivenessVerdict:
    """The verdict of the frames that decide (each with evidence)."""
    if not evidence:
        return LivenessVerdict(verdict="spoof", score=0.0, frames=0, reason="no_evidence")
    score = sum(e.live for e in evidence) / len(evidence)
    for e in evidence:
        for kind, probability in (("print", e.print), ("replay", e.replay)):
            if probability >= confident_attack:
                return LivenessVerdict(
                    verdict="spoof", score=score, frames=len(evidence), reason=f"confident_{kind}"
                )
        if e.cue is not None:
            return LivenessVerdict(verdict="spoof", score=score, frames=len(evidence), reason=e.cue)
    if score < threshold:
        return LivenessVerdict(
            verdict="spoof", score=score, frames=len(evidence), reason="low_live_score"
        )
    return LivenessVerdict(verdict="live", score=score, frames=len(evidence))
