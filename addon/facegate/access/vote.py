"""The k-of-n vote: a door opens only when k of the last n frames within a time window name
the same person above the threshold. One good frame is not enough, and one bad frame does not
spoil a clear view."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Ballot:
    """One frame's say: the matched person (None for an unknown face) and its score."""

    at: float  # monotonic arrival time of the frame
    person_id: str | None
    score: float


@dataclass(frozen=True, kw_only=True)
class Outcome:
    person_id: str | None  # None: k frames agreed the face is nobody enrolled
    score: float  # the best score among the agreeing ballots
    ballots: int
    first_at: float
    last_at: float


class VoteWindow:
    def __init__(self, *, required: int, window: int, window_s: float) -> None:
        if not 1 <= required <= window:
            raise ValueError("required votes must be between 1 and the window size")
        self._required = required
        self._window_s = window_s
        self._ballots: deque[Ballot] = deque(maxlen=window)

    def cast(self, ballot: Ballot) -> Outcome | None:
        """Adds a ballot; returns an outcome as soon as `required` recent ballots agree."""
        self._ballots.append(ballot)
        while self._ballots and ballot.at - self._ballots[0].at > self._window_s:
            self._ballots.popleft()
        tally = Counter(b.person_id for b in self._ballots)
        # A named person wins over "unknown" when both reach the count in the same window.
        for person_id, count in sorted(tally.items(), key=lambda kv: kv[0] is None):
            if count >= self._required:
                agreeing = [b for b in self._ballots if b.person_id == person_id]
                self._ballots.clear()
                return Outcome(
                    person_id=person_id,
                    score=max(b.score for b in agreeing),
                    ballots=len(agreeing),
                    first_at=agreeing[0].at,
                    last_at=agreeing[-1].at,
                )
        return None

    def clear(self) -> None:
        self._ballots.clear()
