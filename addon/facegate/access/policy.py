"""The open-set decision: is the face at the door a resident, and which one.

A door compares a face with every enrolled person, so a stranger's chance of being taken for
somebody grows with the number of people enrolled: with N people, each matched falsely with
probability p, about N x p per attempt. The threshold therefore follows a target false-accept
rate *per attempt* and the number of people, read off a fitted upper tail of the scores of
strangers against enrolled people. That tail is made of hard impostors (each face's most
similar other identities), not of random pairs. A face that two residents explain almost
equally well goes to neither: the best person must lead the runner-up by a margin.

The frames of one attempt are treated as fully alike (a stranger's look-alike tends to win every
frame), so the per-attempt target is also applied to each frame: the vote over frames is not
counted on to cut the rate further.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from facegate.access.gallery import Ranking

Strictness = Literal["strict", "balanced"]
STRICTNESS: tuple[Strictness, ...] = ("strict", "balanced")
DEFAULT_STRICTNESS: Strictness = "strict"
# Target rate of a stranger let in per attempt. `strict` is the figure the door simulation must
# meet (0.1 %); `balanced` lets ten times more strangers through for fewer residents sent to their
# PIN, for a door that also has a human or a second factor behind it.
TARGET_FAR_PER_ATTEMPT: dict[Strictness, float] = {"strict": 1e-3, "balanced": 1e-2}
# The best person must lead the next person by this much cosine. It is for look-alike residents
# at one door (twins, siblings), whom the face sets here hardly hold: at the policy's thresholds
# it refused no resident frame in the door simulation (no `ambiguous` rejection in
# benchmarks/open_set.py).
DEFAULT_MARGIN = 0.05
# Where the fitted tail starts: the top 1 % of stranger-vs-person scores, and at least this many.
TAIL_SHARE = 0.01
MIN_EXCEEDANCES = 100

CALIBRATION_FORMAT = 1

FrameReason = Literal["match", "unknown", "ambiguous"]


@dataclass(frozen=True, kw_only=True)
class ImpostorTail:
    """P(a stranger scores at least t against one enrolled person), for t above `onset`.

    A generalised Pareto tail fitted to the scores above the onset (probability-weighted
    moments, Hosking and Wallis 1987):
    rate(t) = onset_rate * (1 + shape * (t - onset) / scale) ** (-1 / shape),
    or onset_rate * exp(-(t - onset) / scale) for shape 0.
    """

    dataset: str
    comparisons: int  # stranger-vs-person scores the fit saw
    onset: float
    onset_rate: float  # share of those scores at or above the onset
    scale: float
    shape: float  # the shape used: the fitted one, but never below 0 (see fit_tail)
    fitted_shape: float
    highest: float  # the highest stranger score seen

    def rate(self, score: float) -> float:
        if score <= self.onset:
            return self.onset_rate  # at least this much; thresholds never sit below the onset
        excess = (score - self.onset) / self.scale
        if abs(self.shape) < 1e-9:
            return self.onset_rate * math.exp(-excess)
        base = 1.0 + self.shape * excess
        return 0.0 if base <= 0 else float(self.onset_rate * base ** (-1.0 / self.shape))

    def score_at(self, rate: float) -> float:
        """The score a stranger reaches against one person with probability `rate`."""
        if rate >= self.onset_rate:
            return self.onset
        ratio = self.onset_rate / rate
        if abs(self.shape) < 1e-9:
            return self.onset + self.scale * math.log(ratio)
        return float(self.onset + self.scale / self.shape * (ratio**self.shape - 1.0))


def fit_tail(scores: npt.ArrayLike, *, dataset: str) -> ImpostorTail:
    """Fits the tail of stranger-vs-person scores; needs enough of them to have a tail."""
    ranked = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    count = max(MIN_EXCEEDANCES, round(TAIL_SHARE * len(ranked)))
    if len(ranked) <= count:
        raise ValueError(
            f"{dataset}: {len(ranked)} stranger comparisons are too few to fit a tail "
            f"(more than {MIN_EXCEEDANCES / TAIL_SHARE:.0f} needed: more people or images)"
        )
    onset = float(ranked[count])
    excess = np.sort(ranked[:count] - onset)
    plotting = (np.arange(1, count + 1) - 0.35) / count
    a0 = float(excess.mean())
    a1 = float(np.mean((1.0 - plotting) * excess))
    # Hosking's k is the negative of the usual shape.
    fitted = -(a0 / (a0 - 2.0 * a1) - 2.0)
    # Never lighter than exponential. Cosine scores are bounded, so the true shape is negative,
    # but a few hundred exceedances cannot say how negative: on the 93 East-Asian identities the
    # fitted shape ran from -0.21 to +0.01 with where the tail starts (90 % bootstrap interval
    # -0.12 to +0.07), and a light shape there predicted 0.2 strangers above 0.6 where one was
    # seen. An exponential with the same mean excess lies above every bounded tail, so the
    # threshold errs towards denying (safety first); a heavier fitted tail is kept as it is.
    shape = max(fitted, 0.0)
    scale = a0 if shape == 0.0 else 2.0 * a0 * a1 / (a0 - 2.0 * a1)
    return ImpostorTail(
        dataset=dataset,
        comparisons=len(ranked),
        onset=round(onset, 5),
        onset_rate=count / len(ranked),
        scale=round(scale, 5),
        shape=round(shape, 4),
        fitted_shape=round(fitted, 4),
        highest=round(float(ranked[0]), 4),
    )


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """What the policy knows of one embedder: its stranger tails (one per calibration set)."""

    embedder: str
    tails: tuple[ImpostorTail, ...]
    # An enrolment image may lie no further from the person's other images than this (see
    # enrol.spread): 1 minus the highest tail onset, so an image that resembles the person's
    # others no more than the top 1 % of strangers resemble somebody is refused.
    max_spread: float
    margin: float = DEFAULT_MARGIN
    model_sha256: str | None = None  # custom models: the file this calibration belongs to

    def summary(self) -> dict[str, object]:
        """The calibration as health, diagnostics and reports show it."""
        return {
            "embedder": self.embedder,
            "margin": self.margin,
            "max_spread": self.max_spread,
            "tails": [asdict(tail) for tail in self.tails],
        }

    def to_json(self) -> dict[str, object]:
        return {"format": CALIBRATION_FORMAT, "model_sha256": self.model_sha256, **self.summary()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        """Reads a calibration file's content; KeyError, TypeError or ValueError if malformed."""
        if data.get("format") != CALIBRATION_FORMAT:
            raise ValueError(f"unknown calibration format {data.get('format')!r}")
        tails = tuple(ImpostorTail(**tail) for tail in data["tails"])
        if not tails:
            raise ValueError("a calibration needs at least one fitted tail")
        return cls(
            embedder=str(data["embedder"]),
            tails=tails,
            max_spread=float(data["max_spread"]),
            margin=float(data["margin"]),
            model_sha256=data.get("model_sha256"),
        )

    def rate(self, threshold: float, people: int) -> float:
        """Predicted share of stranger attempts let in at a door with `people` enrolled."""
        per_person = max(tail.rate(threshold) for tail in self.tails)
        return 1.0 - (1.0 - per_person) ** max(people, 1)

    def threshold(self, people: int, target: float) -> float:
        """The lowest threshold that keeps the predicted rate within `target` on every set.

        It is not capped: a model that cannot meet the target at this many people gets a
        threshold near or above 1, and its door denies every face rather than guess.
        """
        per_person = 1.0 - (1.0 - target) ** (1.0 / max(people, 1))
        needed = max(tail.score_at(per_person) for tail in self.tails)
        return math.ceil(needed * 1000) / 1000


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """One face's say: a person above the threshold and clear of the runner-up, or nobody."""

    reason: FrameReason
    person_id: str | None
    person_name: str | None
    score: float
    consent_expires_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class DecisionPolicy:
    calibration: Calibration
    strictness: Strictness = DEFAULT_STRICTNESS
    fixed_threshold: float | None = None  # an administrator's own threshold, when configured

    @property
    def target(self) -> float:
        return TARGET_FAR_PER_ATTEMPT[self.strictness]

    @property
    def margin(self) -> float:
        return self.calibration.margin

    def threshold(self, people: int) -> float:
        if self.fixed_threshold is not None:
            return self.fixed_threshold
        return self.calibration.threshold(people, self.target)

    def judge(self, ranking: Ranking | None, people: int) -> Verdict:
        if ranking is None:
            return Verdict(reason="unknown", person_id=None, person_name=None, score=-1.0)
        best = ranking.best
        if best.score < self.threshold(people):
            return Verdict(reason="unknown", person_id=None, person_name=None, score=best.score)
        if ranking.runner_up is not None and best.score - ranking.runner_up < self.margin:
            # Two residents explain this face almost equally well: neither gets the door.
            return Verdict(reason="ambiguous", person_id=None, person_name=None, score=best.score)
        return Verdict(
            reason="match",
            person_id=best.person_id,
            person_name=best.person_name,
            score=best.score,
            consent_expires_at=best.consent_expires_at,
        )

    def describe(self, people: int) -> dict[str, object]:
        """The policy as health and diagnostics show it."""
        threshold = self.threshold(people)
        return {
            "strictness": self.strictness,
            "target_far_per_attempt": self.target,
            "people": people,
            "threshold": threshold,
            "threshold_source": "configured" if self.fixed_threshold is not None else "policy",
            "margin": self.margin,
            "predicted_far_per_attempt": float(f"{self.calibration.rate(threshold, people):.3g}"),
        }
