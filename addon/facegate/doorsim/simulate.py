"""Probe frames and attempts through the door's own decision code.

Every probe frame is judged twice by the policy the door runs: against the full gallery (the
resident is recognised, taken for somebody else, or rejected) and against the gallery without
its own person (a stranger: let in or not). An attempt is 5 frames drawn from one person's probe
images (with replacement when there are fewer), fed through the door's vote or track window.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from facegate.access.gallery import Gallery, Ranking
from facegate.access.policy import DecisionPolicy, Verdict
from facegate.access.vote import aggregator
from facegate.config import DecisionConfig
from facegate.doorsim.data import Sample
from facegate.vision.types import Vector

FRAME_INTERVAL_S = 0.1  # a 10 fps door camera


@dataclass(frozen=True, kw_only=True)
class Probe:
    sample: Sample
    person_id: str | None  # the store's id when this person is enrolled, else None


def upper_95(events: int, trials: int) -> float:
    """One-sided 95 % upper confidence bound of a rate (Clopper-Pearson): what `events` in
    `trials` can still mean. Zero in 126 frames is not zero: it is at most 2.3 %."""
    if trials == 0:
        return 1.0
    if events >= trials:
        return 1.0

    def cdf(p: float) -> float:
        return sum(
            math.exp(
                math.lgamma(trials + 1)
                - math.lgamma(k + 1)
                - math.lgamma(trials - k + 1)
                + k * math.log(p)
                + (trials - k) * math.log1p(-p)
            )
            for k in range(events + 1)
        )

    low, high = events / trials, 1.0 - 1e-12
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) > 0.05 else (low, middle)
    return high


@dataclass(kw_only=True)
class Tally:
    """Counts of one kind of trial (frames or attempts), turned into rates for the report."""

    resident: Counter[str]
    stranger_trials: int = 0
    let_in: int = 0

    def rates(self) -> dict[str, object]:
        trials = sum(self.resident.values())

        def share(count: int, total: int) -> float:
            return round(count / total, 5) if total else 0.0

        rejected = {k.split(":", 1)[1]: v for k, v in self.resident.items() if ":" in k}
        return {
            "trials": trials,
            "correct": share(self.resident["correct"], trials),
            "wrong_person": share(self.resident["wrong_person"], trials),
            "rejected": share(sum(rejected.values()), trials),
            "rejected_by": {k: share(v, trials) for k, v in sorted(rejected.items())},
            "stranger_trials": self.stranger_trials,
            "stranger_let_in": share(self.let_in, self.stranger_trials),
            "stranger_let_in_count": self.let_in,
            "stranger_let_in_upper_95": round(upper_95(self.let_in, self.stranger_trials), 5),
            "wrong_person_upper_95": round(upper_95(self.resident["wrong_person"], trials), 5),
        }


def resident_result(verdict: Verdict | None, person_id: str, refused: str | None) -> str:
    if refused is not None:
        return "rejected:no_face" if refused == "no_face" else "rejected:quality"
    if verdict is None:
        return "rejected:no_decision"
    if verdict.reason != "match":
        return f"rejected:{verdict.reason}"
    return "correct" if verdict.person_id == person_id else "wrong_person"


class DoorSimulation:
    def __init__(
        self,
        gallery: Gallery,
        policy: DecisionPolicy,
        decision: DecisionConfig,
    ) -> None:
        self.gallery = gallery
        self.policy = policy
        self.decision = decision

    def resident_judge(self, gallery: Gallery | None = None) -> Callable[[Vector], Verdict]:
        door = gallery or self.gallery
        return lambda vector: self.policy.judge(door.rank(vector), door.people)

    def stranger_judge(
        self, person_id: str | None, gallery: Gallery | None = None
    ) -> Callable[[Vector], Verdict]:
        door = gallery or self.gallery
        # The stranger's door holds everybody but them.
        people = door.people - (1 if person_id is not None and door.holds(person_id) else 0)
        return lambda vector: self.policy.judge(door.rank(vector, excluding=person_id), people)

    def frames(self, probes: Sequence[Probe]) -> Tally:
        tally = Tally(resident=Counter())
        for probe in probes:
            vector = probe.sample.vector
            if probe.person_id is not None:
                verdict = None if vector is None else self.resident_judge()(vector)
                tally.resident[resident_result(verdict, probe.person_id, probe.sample.refused)] += 1
            tally.stranger_trials += 1
            if vector is not None and self.stranger_judge(probe.person_id)(vector).person_id:
                tally.let_in += 1
        return tally

    def decide(
        self, frames: Sequence[Sample], judge: Callable[[Vector], Verdict]
    ) -> Verdict | None:
        """The first decision the door's window reaches over these frames, if any."""
        window = aggregator(
            self.decision.aggregate,
            required=self.decision.votes_required,
            window=self.decision.votes_window,
            window_s=self.decision.window_s,
            judge=judge,
        )
        decided = None
        for index, frame in enumerate(frames):
            if frame.vector is None:
                continue  # a frame without a usable face has no say, as at the door
            outcome = window.add(index * FRAME_INTERVAL_S, frame.vector)
            if outcome is not None:
                decided = outcome.verdict
                if decided.reason == "match":
                    break
        return decided

    def attempts(self, by_person: dict[str, list[Probe]], *, per_person: int, seed: int) -> Tally:
        rng = random.Random(seed)  # noqa: S311 (a reproducible draw, not a secret)
        size = self.decision.votes_window
        tally = Tally(resident=Counter())
        for person in sorted(by_person):
            probes = by_person[person]
            person_id = probes[0].person_id
            for _ in range(per_person):
                drawn = (
                    rng.sample(probes, size)
                    if len(probes) >= size
                    else [rng.choice(probes) for _ in range(size)]
                )
                frames = [p.sample for p in drawn]
                if person_id is not None:
                    verdict = self.decide(frames, self.resident_judge())
                    refused = None if any(f.vector is not None for f in frames) else "quality"
                    tally.resident[resident_result(verdict, person_id, refused)] += 1
                tally.stranger_trials += 1
                stranger = self.decide(frames, self.stranger_judge(person_id))
                if stranger is not None and stranger.person_id is not None:
                    tally.let_in += 1
        return tally


@dataclass(frozen=True, kw_only=True)
class FrameRanks:
    """One probe frame's rankings, computed once and judged under many thresholds."""

    person_id: str | None
    refused: str | None
    resident: Ranking | None
    stranger: Ranking | None
    people_resident: int
    people_stranger: int


def rank_frames(gallery: Gallery, probes: Sequence[Probe]) -> list[FrameRanks]:
    ranked = []
    for probe in probes:
        vector = probe.sample.vector
        own = (
            probe.person_id
            if probe.person_id is not None and gallery.holds(probe.person_id)
            else None
        )
        ranked.append(
            FrameRanks(
                person_id=own,
                refused=probe.sample.refused,
                resident=None if vector is None or own is None else gallery.rank(vector),
                stranger=None if vector is None else gallery.rank(vector, excluding=own),
                people_resident=gallery.people,
                people_stranger=gallery.people - (1 if own else 0),
            )
        )
    return ranked


def judge_frames(ranked: Sequence[FrameRanks], policy: DecisionPolicy) -> Tally:
    """Frame rates of cached rankings under one policy (a sweep re-uses the rankings)."""
    tally = Tally(resident=Counter())
    for frame in ranked:
        usable = frame.refused is None
        if frame.person_id is not None:
            verdict = policy.judge(frame.resident, frame.people_resident) if usable else None
            tally.resident[resident_result(verdict, frame.person_id, frame.refused)] += 1
        tally.stranger_trials += 1
        if usable and policy.judge(frame.stranger, frame.people_stranger).person_id:
            tally.let_in += 1
    return tally


def with_threshold(policy: DecisionPolicy, threshold: float) -> DecisionPolicy:
    return replace(policy, fixed_threshold=threshold)
