"""Credential changes are counted like door attempts (R12).

A PIN must be unique to be looked up, so adding one that exists is refused — and that refusal
says that somebody has that PIN. Without a limit, 24 probes a second (measured) would map the
building's PINs through the "already in use" answer. So each refusal of that kind counts
against the person being changed, with the door's limits: `max_failures` within `window_s`
pause that person's credential changes for `lockout_s`, doubling for each pause that follows
another within a day, up to an hour. While paused, a change is refused before the value is even
hashed. The counts are kept in the store like the keypad's (access/throttle.py), so a restart
does not reset them. Refusals by the PIN rules (too easy to guess) say nothing about anyone and
do not count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from facegate.access.throttle import Throttle
from facegate.config import CredentialsConfig
from facegate.errors import CredentialInUseError, TooManyChangesError
from facegate.identity.records import change_throttle
from facegate.identity.store import IdentityStore

T = TypeVar("T")


class CredentialChangeGate:
    def __init__(
        self,
        limits: CredentialsConfig,
        store: IdentityStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limits = limits
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._people = {
            scope: Throttle.of_record(record)
            for scope, record in store.throttles(change_throttle("")).items()
        }

    def change(self, person_id: str, apply: Callable[[], T]) -> T:
        """Runs one credential change for `person_id`, counting an "already in use" refusal."""
        scope = change_throttle(person_id)
        with self._lock:
            throttle = self._people.setdefault(scope, Throttle())
            wait = throttle.remaining(self._clock())
            if wait:
                raise TooManyChangesError(
                    f"too many refused credential changes for this person; try again in "
                    f"{wait:.0f} s",
                    retry_after_s=wait,
                )
        try:
            return apply()
        except CredentialInUseError:
            with self._lock:
                throttle.fail(self._clock(), self._limits)
                self._store.save_throttle(scope, throttle.to_record())
            raise
