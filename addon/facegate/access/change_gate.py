"""Credential changes are counted like door attempts (R12).

A PIN must be unique to be looked up, so adding one that exists is refused — and that refusal
says that somebody has that PIN. Without a limit, 24 probes a second (measured) would map the
building's PINs through the "already in use" answer. So each refusal of that kind counts
against the person being changed, with the door's limits: `max_failures` within `window_s`
pause that person's credential changes for `lockout_s`, doubling for each pause that follows
another within a day, up to an hour. While paused, a change is refused before the value is even
hashed. Refusals by the PIN rules (too easy to guess) say nothing about anyone and do not count.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from facegate.access.credential_gate import counted_failures, next_lockout
from facegate.config import CredentialsConfig
from facegate.errors import CredentialInUseError, TooManyChangesError

T = TypeVar("T")


@dataclass
class _PersonState:
    refused: deque[float] = field(default_factory=deque)
    paused_until: float = float("-inf")
    streak: int = 0


class CredentialChangeGate:
    def __init__(
        self, limits: CredentialsConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._people: dict[str, _PersonState] = {}

    def change(self, person_id: str, apply: Callable[[], T]) -> T:
        """Runs one credential change for `person_id`, counting an "already in use" refusal."""
        with self._lock:
            state = self._people.setdefault(person_id, _PersonState())
            now = self._clock()
            if now < state.paused_until:
                wait = state.paused_until - now
                raise TooManyChangesError(
                    f"too many refused credential changes for this person; try again in "
                    f"{wait:.0f} s",
                    retry_after_s=wait,
                )
        try:
            return apply()
        except CredentialInUseError:
            self._refused(state)
            raise

    def _refused(self, state: _PersonState) -> None:
        with self._lock:
            now = self._clock()
            if counted_failures(state.refused, now, self._limits) < self._limits.max_failures:
                return
            state.refused.clear()
            state.streak, pause = next_lockout(state.streak, state.paused_until, now, self._limits)
            state.paused_until = now + pause
