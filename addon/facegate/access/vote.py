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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Literal, Protocol, TypeVar

import numpy as np

from facegate.access.liveness import (
    LIVE_THRESHOLD,
    MOTION_BASELINE_S,
    LivenessVerdict,
    VetoHold,
    judge_held,
)
from facegate.access.policy import Verdict
from facegate.vision.embed import normalise
from facegate.vision.liveness import LivenessEvidence
from facegate.vision.types import Vector

Aggregate = Literal["vote", "track"]
AGGREGATES: tuple[Aggregate, ...] = ("vote", "track")
Judge = Callable[[Vector], Verdict]
Key = tuple[str, str | None]  # a verdict's reason and person: whom a frame showed
# Frames kept for the motion check's longer baseline: a second at up to 30 fps.
_SEEN_MAX = 32
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
    seen: _Seen | None  # None: liveness is off


@dataclass(frozen=True, kw_only=True)
class _Ballot:
    verdict: Verdict
    seen: _Seen | None  # None: liveness is off

    @property
    def key(self) -> Key:
        return _key_of(self.verdict)


def _key_of(verdict: Verdict) -> Key:
    return verdict.reason, verdict.person_id


class Aggregator(Protocol):
    def add(
        self, at: float, vector: Vector, evidence: LivenessEvidence | None = None
    ) -> Outcome | None:
        """One usable frame's embedding (and its liveness evidence, where liveness is on);
        returns an outcome once enough frames have spoken."""
        ...

    def clear(self) -> None: ...


class _Seen:
    """A frame's liveness evidence and whom it showed (its verdict's reason and person),
    judged only when first asked: a track's frames are not judged one by one otherwise."""

    def __init__(self, evidence: LivenessEvidence, whom: Callable[[], Key]) -> None:
        self.evidence = evidence
        self._whom = whom
        self._key: Key | None = None

    def key(self) -> Key:
        if self._key is None:
            self._key = self._whom()
        return self._key


class _Window:
    def __init__(self, *, required: int, window: int, window_s: float, judge: Judge) -> None:
        if not 1 <= required <= window:
            raise ValueError("required votes must be between 1 and the window size")
        self._required = required
        self._window_s = window_s
        self._judge = judge
        self._size = window
        self._vetoes = VetoHold()
        # The frames with evidence of the last MOTION_BASELINE_S seconds, for the motion check,
        # and when the first of an unbroken run of them came: how long the face has been watched.
        self._seen: deque[tuple[float, _Seen]] = deque(maxlen=_SEEN_MAX)
        self._watched_from = float("inf")

    @staticmethod
    def _prune(items: deque[tuple[float, _Item]], now: float, span: float) -> None:
        while items and now - items[0][0] > span:
            items.popleft()

    def _see(self, at: float, seen: _Seen | None) -> None:
        self._vetoes.see(at, seen.evidence if seen is not None else None)
        self._prune(self._seen, at, MOTION_BASELINE_S)
        if seen is not None:
            if not self._seen:  # none for a second: a face has come into view
                self._watched_from = at
            self._seen.append((at, seen))

    def _liveness(
        self, window: list[tuple[float, _Seen]], held: str | None, key: Key
    ) -> Callable[[float], LivenessVerdict | None]:
        """The window's liveness judge (`window`: its frames with evidence, oldest first). Its
        motion check measures the last frame against the window's first, then against the
        oldest frame of the last MOTION_BASELINE_S seconds, the longer baseline that someone
        who held still for the window's few frames needs. Every frame it compares must have
        shown the same person (or the same "nobody") as the decision: a track's frames are
        averaged, so a face of anyone else, such as an attacker's own just before or after
        they raise a photo, could be among them; it never lends the photo its motion."""
        first_at = window[0][0] if window else float("inf")
        oldest = next((seen for at, seen in self._seen if at < first_at), None)

        def baselines() -> Iterator[LivenessEvidence]:
            if not window or window[-1][1].key() != key:
                return
            for seen in (window[0][1], oldest):
                if seen is not None and seen.key() == key:
                    yield seen.evidence

        evidence = [seen.evidence for _, seen in window]
        watched_s = window[-1][0] - self._watched_from if window else 0.0
        return partial(judge_held, evidence, held, baselines=baselines, watched_s=watched_s)


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
        seen = _Seen(evidence, partial(_key_of, verdict)) if evidence is not None else None
        self._ballots.append((at, _Ballot(verdict=verdict, seen=seen)))
        self._see(at, seen)
        self._prune(self._ballots, at, self._window_s)
        tally = Counter(b.key for _, b in self._ballots)
        # A named person wins over "unknown" or "ambiguous" when both reach the count.
        for key, count in sorted(tally.items(), key=lambda kv: kv[0][1] is None):
            if count >= self._required:
                agreeing = [(t, b) for t, b in self._ballots if b.key == key]
                self._ballots.clear()
                window = [(t, b.seen) for t, b in agreeing if b.seen is not None]
                return Outcome(
                    verdict=max((b.verdict for _, b in agreeing), key=lambda v: v.score),
                    ballots=len(agreeing),
                    first_at=agreeing[0][0],
                    last_at=agreeing[-1][0],
                    judge_liveness=self._liveness(window, self._vetoes.held(at), key),
                )
        return None

    def clear(self) -> None:
        self._ballots.clear()
        self._seen.clear()


class TrackWindow(_Window):
    def __init__(self, *, required: int, window: int, window_s: float, judge: Judge) -> None:
        super().__init__(required=required, window=window, window_s=window_s, judge=judge)
        self._frames: deque[tuple[float, _Frame]] = deque(maxlen=window)

    def add(
        self, at: float, vector: Vector, evidence: LivenessEvidence | None = None
    ) -> Outcome | None:
        seen = (
            _Seen(evidence, lambda: _key_of(self._judge(vector))) if evidence is not None else None
        )
        self._frames.append((at, _Frame(at=at, vector=vector, seen=seen)))
        self._see(at, seen)
        self._prune(self._frames, at, self._window_s)
        if len(self._frames) < self._required:
            return None
        frames = [f for _, f in self._frames]
        track = normalise(np.sum([f.vector for f in frames], axis=0))
        verdict = self._judge(track)
        outcome = Outcome(
            verdict=verdict,
            ballots=len(frames),
            first_at=frames[0].at,
            last_at=frames[-1].at,
            judge_liveness=self._liveness(
                [(f.at, f.seen) for f in frames if f.seen is not None],
                self._vetoes.held(at),
                _key_of(verdict),
            ),
        )
        if outcome.verdict.reason == "match":
            self._frames.clear()
        return outcome

    def clear(self) -> None:
        self._frames.clear()
        self._seen.clear()


def aggregator(
    kind: Aggregate, *, required: int, window: int, window_s: float, judge: Judge
) -> Aggregator:
    window_class = TrackWindow if kind == "track" else VoteWindow
    return window_class(required=required, window=window, window_s=window_s, judge=judge)
