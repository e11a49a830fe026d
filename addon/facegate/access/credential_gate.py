"""The decision for a presented PIN, card, tag or phone id (R4, R5, R12).

Every outcome, granted or denied, goes through the door's DoorActuator, exactly like a face:
the same freshness check, the same lock command, the same signed event and audit entry (R5).

Checks, in this order:
1. the door exists (else FacegateError: the API answers 404) and the kind is a credential;
2. the method is enabled at the door (configuration, then the administrator's overrides in the
   store) -> else denied ``door_disabled``;
3. the door is not locked out -> else denied ``rate_limited``, and the value is not even
   hashed, so a brute-forcer gets no oracle and no CPU time from us (R12);
4. the value belongs to someone -> else denied ``unknown``, counted as a failure;
5. the holder has not had that method disabled -> else denied ``method_disabled``;
6. granted (``match``), with the holder's id and name.

Rate limiting is per door: ``max_failures`` unknown values within ``window_s`` lock every
credential at that door out for ``lockout_s``, doubling for each lockout that follows another
within a day, up to an hour. A valid credential does not reset the count:
otherwise a resident could interleave their own PIN to keep guessing at the neighbours'.
Codes refused during a lockout are counted, not recorded one by one: the caller still gets a
signed denial, but nothing is published, audited or logged for each; one audit entry says how
many were refused, and when, once the lockout is over (or the engine stops).
Presented values are never logged, stored or put in an event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from facegate.access.actuator import DoorActuator
from facegate.config import CredentialsConfig
from facegate.errors import FacegateError
from facegate.events import Reason
from facegate.identity.credentials import CREDENTIAL_KINDS, CredentialError, CredentialKind
from facegate.identity.store import IdentityStore

_LOGGER = logging.getLogger("facegate.access")
# Every credential kind is also an access method of the same name.
_KINDS: dict[str, CredentialKind] = {kind: kind for kind in CREDENTIAL_KINDS}


class UnknownDoorError(FacegateError):
    """A credential was presented for a door that is not configured (HTTP 404)."""


@dataclass
class _DoorState:
    # Serialises attempts at one door, so that parallel requests cannot all pass the
    # lockout check before their failures are counted.
    attempt_lock: threading.Lock = field(default_factory=threading.Lock)
    recent_failures: deque[float] = field(default_factory=deque)
    locked_until: float = float("-inf")
    attempts: int = 0
    granted: int = 0
    failures: int = 0
    rate_limited: int = 0
    lockouts: int = 0
    streak: int = 0  # lockouts in a row without a quiet day between them
    # Codes refused during the current lockout, not yet summarised (count, first, last wall).
    quiet_refused: int = 0
    quiet_from: float = 0.0
    quiet_until: float = 0.0


MAX_LOCKOUT_S = 3600.0
STREAK_RESET_S = 86400.0


def counted_failures(recent: deque[float], now: float, limits: CredentialsConfig) -> int:
    """Adds a failure at `now` to `recent` and says how many fall within the window."""
    recent.append(now)
    while recent and recent[0] <= now - limits.window_s:
        recent.popleft()
    return len(recent)


def next_lockout(
    streak: int, locked_until: float, now: float, limits: CredentialsConfig
) -> tuple[int, float]:
    """The lockout that starts now: (the new streak, its length in seconds).

    Each lockout that follows another within a day doubles, up to an hour: a fixed minute would
    still allow ~7,000 guesses a day, enough to hit one of a hundred residents' 6-digit PINs
    within days; doubling brings it to ~150, while a vandal can keep the keypad shut for at most
    an hour at a time.
    """
    streak = 1 if now - locked_until > STREAK_RESET_S else streak + 1
    return streak, min(limits.lockout_s * 2 ** (streak - 1), MAX_LOCKOUT_S)


class CredentialGate:
    def __init__(
        self,
        *,
        actuators: Mapping[str, DoorActuator],
        store: IdentityStore,
        limits: CredentialsConfig,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._actuators = actuators
        self._store = store
        self._limits = limits
        self._clock = clock
        self._state = {door_id: _DoorState() for door_id in actuators}

    def present(
        self, door_id: str, kind: str, value: str, *, arrived: float | None = None
    ) -> Mapping[str, object]:
        """Decides on one presented credential and acts on it; returns the signed event.

        `arrived` is the monotonic time the code came in (default: now); a grant is dropped
        as stale if it is too old by the time it is decided (R12).
        """
        arrived = time.monotonic() if arrived is None else arrived
        actuator = self._actuators.get(door_id)
        state = self._state.get(door_id)
        if actuator is None or state is None:
            raise UnknownDoorError(f"no door with id {door_id!r}")
        method = _KINDS.get(kind)
        if method is None:
            raise CredentialError(
                f"unknown credential kind {kind!r}: must be one of {', '.join(CREDENTIAL_KINDS)}"
            )

        def decide(
            reason: Reason, person_id: str | None = None, person_name: str | None = None
        ) -> Mapping[str, object]:
            return actuator.decide(
                method=method,
                reason=reason,
                person_id=person_id,
                person_name=person_name,
                evidence_at=arrived,
            )

        with state.attempt_lock:
            state.attempts += 1
            if not self.method_enabled(door_id, method):
                return decide("door_disabled")
            now = self._clock()
            if now < state.locked_until:
                state.rate_limited += 1
                wall = time.time()
                if not state.quiet_refused:
                    state.quiet_from = wall
                state.quiet_refused, state.quiet_until = state.quiet_refused + 1, wall
                return actuator.refuse_quietly(
                    method=method, reason="rate_limited", evidence_at=arrived
                )
            self._summarise(door_id, state)
            found = self._store.find_credential(method, value)
            if found is None:
                self._count_failure(door_id, state, now)
                return decide("unknown")
            person, _credential = found
            if method in person.disabled_methods:
                return decide("method_disabled", person.id, person.name)
            event = decide("match", person.id, person.name)
            if event.get("result") == "granted":
                state.granted += 1
            return event

    def summarise(self, *, ending: bool = False) -> None:
        """Writes the summaries of lockouts that are over (every one, when the engine stops)."""
        for door_id, state in self._state.items():
            with state.attempt_lock:
                if ending or self._clock() >= state.locked_until:
                    self._summarise(door_id, state)

    def _summarise(self, door_id: str, state: _DoorState) -> None:
        if not state.quiet_refused:
            return
        refused, state.quiet_refused = state.quiet_refused, 0
        self._store.record_refusals(
            door_id, refused=refused, first_at=state.quiet_from, last_at=state.quiet_until
        )
        _LOGGER.warning("door %s: %d code(s) refused during a lockout (R12)", door_id, refused)

    def method_enabled(self, door_id: str, method: str) -> bool:
        """Configuration says what a door has; an administrator may switch a configured method
        off (and on again), never on one the configuration does not give the door."""
        configured = method in self._actuators[door_id].door.methods
        return configured and self._store.door_method_overrides().get((door_id, method), True)

    def stats(self, door_id: str) -> dict[str, float | int | bool]:
        """Counters for health and the API: never a value, never who tried."""
        state = self._state.get(door_id)
        if state is None:
            raise UnknownDoorError(f"no door with id {door_id!r}")
        remaining = max(0.0, state.locked_until - self._clock())
        return {
            "attempts": state.attempts,
            "granted": state.granted,
            "failures": state.failures,
            "rate_limited": state.rate_limited,
            "lockouts": state.lockouts,
            "locked_out": remaining > 0,
            "lockout_remaining_s": round(remaining, 1),
        }

    def _count_failure(self, door_id: str, state: _DoorState, now: float) -> None:
        state.failures += 1
        if counted_failures(state.recent_failures, now, self._limits) >= self._limits.max_failures:
            # The failures that caused a lockout are spent: after it, a fresh count starts.
            state.recent_failures.clear()
            state.streak, duration = next_lockout(
                state.streak, state.locked_until, now, self._limits
            )
            state.locked_until = now + duration
            state.lockouts += 1
            _LOGGER.warning(
                "door %s: %d wrong credentials within %.0f s; refusing every credential "
                "there for %.0f s (R12)",
                door_id,
                self._limits.max_failures,
                self._limits.window_s,
                duration,
            )
