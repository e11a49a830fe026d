"""From frames to one decision: a door decides once `required` of the last `window` frames,
within `window_s` seconds, have had their say. One good frame is not enough, and one bad frame
does not spoil a clear view.

Two ways to combine the frames, measured against each other by `facegate eval door`:
- ``vote``: every frame is judged on its own, and `required` frames must name the same person
  (or agree that the face is nobody enrolled, or that it is ambiguous);
- ``track``: the frames' embeddings are averaged (each is a unit vector; their mean is
  normalised again) and that one track-level vector is judged once.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Literal, Protocol, TypeVar

import numpy as np

from facegate.access.liveness import LIVE_THRESHOLD, LivenessVerdict, VetoHold, judge_held
from facegate.access.policy import Verdict
from facegate.vision.embed import normalise
from facegate.vision.liveness import LivenessEvidence
from facegate.vision.types import Vector

Aggregate = Literal["vote", "track"]
AGGREGATES: tuple[Aggregate, ...] = ("vote", "track")
Judge = Callable[[Vector], Verdict]
_Item = TypeVar("_Item")


def _no_liveness(_threshold: float) -> LivenessVerdict | None:
    return None


@dataclass(frozen=True, kw_only=True)
class Outcome:
    verdict: Verdict  # for ``vote``: the best-scoring of the agreeing frames
    ballots: int
    first_at: float  # monotonic arrival of the first and last frame that decided
    last_at: float
    # Judged when first asked for, once: the motion check costs a few milliseconds, and a door
    # that would stay silent anyway (a cooldown) never needs it. Takes the live threshold.
    judge_liveness: Callable[[float], LivenessVerdict | None] = field(
        default=_no_liveness, repr=False, compare=False
    )

    @cached_property
    def liveness(self) -> LivenessVerdict | None:
        """Over the deciding frames; None: liveness is off."""
        return self.judge_liveness(LIVE_THRESHOLD)


@dataclass(frozen=True, kw_only=True)
class _Frame:
    at: float
    vector: Vector
    evidence: LivenessEvidence | None


@dataclass(frozen=True, kw_only=True)
class _Ballot:
    verdict: Verdict
    evidence: LivenessEvidence | None

    @property
    def key(self) -> tuple[str, str | None]:
        return self.verdict.reason, self.verdict.person_id


class Aggregator(Protocol):
    def add(
        self, at: float, vector: Vector, evidence: LivenessEvidence | None = None
    ) -> Outcome | None:
        """One usable frame's embedding (and its liveness evidence, where liveness is on);
        returns an outcome once enough frames have spoken."""
        ...

    def clear(self) -> None: ...


class _Window:
    def __init__(self, *, required: int, window: int, window_s: float, judge: Judge) -> None:
        if not 1 <= required <= window:
            raise ValueError("required votes must be between 1 and the window size")
        self._required = required
        self._window_s = window_s
        self._judge = judge
        self._size = window
        self._vetoes = VetoHold()

    def _prune(self, items: deque[tuple[float, _Item]], now: float) -> None:
        while items and now - items[0][0] > self._window_s:
            items.popleft()


class VoteWindow(_Window):
    def __init__(self, *, required: int, window: int, window_s: float, judge: Judge) -> None:
        super().__init__(required=required, window=window, window_s=window_s, judge=judge)
        self._ballots: deque[tuple[float, _Ballot]] = deque(maxlen=window)

    def add(
        self, at: float, vector: Vector, evidence: LivenessEvidence | None = None
    ) -> Outcome | None:
        return self.cast(at, self._judge(vector), evidence)

    def cast(
        self, at: float, verdict: Verdict, evidence: LivenessEvidence | None = None
    ) -> Outcome | None:
        self._ballots.append((at, _Ballot(verdict=verdict, evidence=evidence)))
        self._vetoes.see(at, evidence)
        self._prune(self._ballots, at)
        tally = Counter(b.key for _, b in self._ballots)
        # A named person wins over "unknown" or "ambiguous" when both reach the count.
        for key, count in sorted(tally.items(), key=lambda kv: kv[0][1] is None):
            if count >= self._required:
                agreeing = [(t, b) for t, b in self._ballots if b.key == key]
                self._ballots.clear()
                evidence_of = [b.evidence for _, b in agreeing if b.evidence is not None]
                return Outcome(
                    verdict=max((b.verdict for _, b in agreeing), key=lambda v: v.score),
                    ballots=len(agreeing),
                    first_at=agreeing[0][0],
                    last_at=agreeing[-1][0],
                    judge_liveness=partial(judge_held, evidence_of, self._vetoes.held(at)),
                )
        return None

    def clear(self) -> None:
        self._ballots.clear()


class TrackWindow(_Window):
    def __init__(self, *, required: int, window: int, window_s: float, judge: Judge) -> None:
        super().__init__(required=required, window=window, window_s=window_s, judge=judge)
        self._frames: deque[tuple[float, _Frame]] = deque(maxlen=window)

    def add(
        self, at: float, vector: Vector, evidence: LivenessEvidence | None = None
    ) -> Outcome | None:
        self._frames.append((at, _Frame(at=at, vector=vector, evidence=evidence)))
        self._vetoes.see(at, evidence)
        self._prune(self._frames, at)
        if len(self._frames) < self._required:
            return None
        frames = [f for _, f in self._frames]
        track = normalise(np.sum([f.vector for f in frames], axis=0))
        outcome = Outcome(
            verdict=self._judge(track),
            ballots=len(frames),
            first_at=frames[0].at,
            last_at=frames[-1].at,
            judge_liveness=partial(
                judge_held,
                [f.evidence for f in frames if f.evidence is not None],
                self._vetoes.held(at),
            ),
        )
        if outcome.verdict.reason == "match":
            self._frames.clear()
        return outcome

    def clear(self) -> None:
        self._frames.clear()


def aggregator(
    kind: Aggregate, *, required: int, window: int, window_s: float, judge: Judge
) -> Aggregator:
    window_class = TrackWindow if kind == "track" else VoteWindow
    return window_class(required=required, window=window, window_s=window_s, judge=judge)
