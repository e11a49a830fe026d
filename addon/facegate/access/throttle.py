"""Counting failures and pausing what is being guessed (R12): one recipe for the keypad gate
(per door and method) and the credential-change gate (per person), kept in the store so that a
restart does not hand a guesser a fresh count.

`max_failures` failures within `window_s` start a lockout of `lockout_s`, doubling for each
lockout that follows another within a day, up to an hour: a fixed minute would still allow
~7,000 guesses a day, enough to hit one of a hundred residents' 6-digit PINs within days;
doubling brings it to ~150, while a vandal can keep one method shut for at most an hour at a
time. Times are wall-clock seconds, because they outlive the process.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from facegate.config import CredentialsConfig

MAX_LOCKOUT_S = 3600.0
STREAK_RESET_S = 86400.0
# Lockouts in a row (within a day of each other) that make a guessing attack, not a resident
# who mistyped: from the second one the administrator is told, and health says so.
ATTACK_STREAK = 2


@dataclass
class Throttle:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = float("-inf")
    streak: int = 0  # lockouts in a row without a quiet day between them
    lockouts: int = 0

    def remaining(self, now: float) -> float:
        return max(0.0, self.locked_until - now)

    def fail(self, now: float, limits: CredentialsConfig) -> float | None:
        """Counts a failure at `now`; the length of the lockout it starts, if it starts one."""
        self.failures.append(now)
        while self.failures and self.failures[0] <= now - limits.window_s:
            self.failures.popleft()
        if len(self.failures) < limits.max_failures:
            return None
        # The failures that caused a lockout are spent: after it, a fresh count starts.
        self.failures.clear()
        self.streak = 1 if now - self.locked_until > STREAK_RESET_S else self.streak + 1
        duration = min(limits.lockout_s * 2.0 ** (self.streak - 1), MAX_LOCKOUT_S)
        self.locked_until = now + duration
        self.lockouts += 1
        return duration

    def under_attack(self, now: float) -> bool:
        return self.streak >= ATTACK_STREAK and now - self.locked_until <= STREAK_RESET_S

    def to_record(self) -> dict[str, Any]:
        return {
            "failures": json.dumps(list(self.failures)),
            "locked_until": self.locked_until if self.lockouts else None,
            "streak": self.streak,
            "lockouts": self.lockouts,
        }

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> Throttle:
        until = record["locked_until"]
        return cls(
            failures=deque(float(t) for t in json.loads(record["failures"])),
            locked_until=float("-inf") if until is None else float(until),
            streak=int(record["streak"]),
            lockouts=int(record["lockouts"]),
        )
