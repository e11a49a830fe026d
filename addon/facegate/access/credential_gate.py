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
5. the credential's row and its holder's are intact -> else denied ``tampered`` (R8);
6. the holder has not had that method disabled -> else denied ``method_disabled``;
7. the holder's access groups cover the door, and the person and the credential are within
   their validity (access/admission.py) -> else denied ``not_allowed``, ``expired``,
   ``outside_schedule`` or ``used_up``, under the holder's name (not a failure: the code is
   real, and guessing gains nothing);
8. granted (``match``), with the holder's id and name; a grant the lock never got (stale,
   lock offline) gives back the use it took.

Rate limiting is per door and method (access/throttle.py): ``max_failures`` unknown values of
one kind within ``window_s`` lock that method at that door out for ``lockout_s``, doubling for
each lockout that follows another within a day, up to an hour. The door's other methods stay
open, so a vandal at the keypad does not keep out the residents with a card. A valid credential
does not reset the count: otherwise a resident could interleave their own PIN to keep guessing
at the neighbours'. The counts and lockouts are kept in the store: a restart does not reset
them. From the second lockout in a row the door is under a guessing attack: the administrator
gets a signed alert on ``<prefix>/<door>/alert``, an audit entry, and health says so.
Codes refused during a lockout are counted, not recorded one by one: the caller still gets a
signed denial, but nothing is published, audited or logged for each; one audit entry says how
many were refused, and when, once the lockout is over (or the engine stops).
Presented values are never logged, stored or put in an event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from facegate.access.actuator import DoorActuator
from facegate.access.admission import Admission
from facegate.access.throttle import Throttle
from facegate.config import CredentialsConfig
from facegate.errors import TamperError, UnknownDoorError
from facegate.events import Reason
from facegate.identity.credentials import CREDENTIAL_KINDS, CredentialError, CredentialKind
from facegate.identity.records import door_throttle
from facegate.identity.store import IdentityStore

_LOGGER = logging.getLogger("facegate.access")
# Every credential kind is also an access method of the same name.
_KINDS: dict[str, CredentialKind] = {kind: kind for kind in CREDENTIAL_KINDS}


@dataclass
class _DoorState:
    # Serialises attempts at one door, so that parallel requests cannot all pass the
    # lockout check before their failures are counted.
    attempt_lock: threading.Lock = field(default_factory=threading.Lock)
    throttles: dict[str, Throttle] = field(default_factory=dict)  # per method
    attempts: int = 0
    granted: int = 0
    failures: int = 0
    rate_limited: int = 0
    # Codes refused during the current lockouts, not yet summarised (count, first, last wall).
    quiet_refused: int = 0
    quiet_from: float = 0.0
    quiet_until: float = 0.0


class CredentialGate:
    def __init__(
        self,
        *,
        actuators: Mapping[str, DoorActuator],
        store: IdentityStore,
        limits: CredentialsConfig,
        admission: Admission,
        clock: Callable[[], float] = time.time,
        on_lockout: Callable[[str], None] | None = None,
    ) -> None:
        self._actuators = actuators
        self._on_lockout = on_lockout
        self._store = store
        self._admission = admission
        self._limits = limits
        self._clock = clock
        self._state = {door_id: _DoorState() for door_id in actuators}
        for door_id, state in self._state.items():
            kept = store.throttles(door_throttle(door_id, ""))
            for method in CREDENTIAL_KINDS:
                record = kept.get(door_throttle(door_id, method))
                state.throttles[method] = (
                    Throttle() if record is None else Throttle.of_record(record)
                )

    def present(
        self,
        door_id: str,
        kind: str,
        value: str,
        *,
        arrived: float | None = None,
        passkey_verified: bool = False,
    ) -> Mapping[str, object]:
        """Decides on one presented credential and acts on it; returns the signed event.

        `arrived` is the monotonic time the code came in (default: now); a grant is dropped
        as stale if it is too old by the time it is decided (R12). `passkey_verified`: a phone
        key's signature was checked (web/resident/phone_key.py); only then does it open.
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
            throttle = state.throttles[method]
            if throttle.remaining(now):
                state.rate_limited += 1
                if not state.quiet_refused:
                    state.quiet_from = now
                state.quiet_refused, state.quiet_until = state.quiet_refused + 1, now
                return actuator.refuse_quietly(
                    method=method, reason="rate_limited", evidence_at=arrived
                )
            self._summarise(door_id, state)
            try:
                found = self._store.find_credential(method, value)
            except TamperError as error:
                _LOGGER.error("door %s: %s", door_id, error)
                return decide("tampered")
            # A phone key's id alone is not the key: without its verified signature (the
            # resident pages check it) it is as unknown as a guess, and counted like one.
            if found is None or (
                not passkey_verified and self._store.passkey(found[1].id) is not None
            ):
                self._count_failure(door_id, method, state, now)
                return decide("unknown")
            person, credential = found
            if method in person.disabled_methods:
                return decide("method_disabled", person.id, person.name)
            refusal = self._admission.refusal(person.id, door_id, credential.id)
            if refusal == "tampered":  # under nobody's name (R8)
                return decide(refusal)
            if refusal is not None:
                return decide(refusal, person.id, person.name)
            event = decide("match", person.id, person.name)
            granted = event.get("result") == "granted"
            self._admission.settle(granted, person.id, credential.id)
            if granted:
                state.granted += 1
            return event

    def refuse_phone_key(
        self, door_id: str, *, person_id: str, person_name: str, arrived: float
    ) -> Mapping[str, object]:
        """A phone key used from outside the local network at a door that opens by phone only
        from inside it: refused before its signature is read, yet signed, published and
        audited under the holder's name like any denial (R5, R11)."""
        actuator = self._actuators.get(door_id)
        if actuator is None:
            raise UnknownDoorError(f"no door with id {door_id!r}")
        return actuator.decide(
            method="phone",
            reason="not_local",
            person_id=person_id,
            person_name=person_name,
            evidence_at=arrived,
        )

    def summarise(self, *, ending: bool = False) -> None:
        """Writes the summaries of lockouts that are over (every one, when the engine stops)."""
        for door_id, state in self._state.items():
            with state.attempt_lock:
                now = self._clock()
                if ending or not any(t.remaining(now) for t in state.throttles.values()):
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

    def stats(self, door_id: str) -> dict[str, object]:
        """Counters for health and the API: never a value, never who tried."""
        state = self._state.get(door_id)
        if state is None:
            raise UnknownDoorError(f"no door with id {door_id!r}")
        now = self._clock()
        remaining = {m: t.remaining(now) for m, t in state.throttles.items()}
        return {
            "attempts": state.attempts,
            "granted": state.granted,
            "failures": state.failures,
            "rate_limited": state.rate_limited,
            "lockouts": sum(t.lockouts for t in state.throttles.values()),
            "locked_out": any(remaining.values()),
            "locked_methods": sorted(m for m, left in remaining.items() if left),
            "lockout_remaining_s": round(max(remaining.values(), default=0.0), 1),
            "under_attack": sorted(m for m, t in state.throttles.items() if t.under_attack(now)),
        }

    def under_attack(self) -> dict[str, list[str]]:
        """The doors, and their methods, under a guessing attack now (health)."""
        now = self._clock()
        found = {}
        for door_id, state in self._state.items():
            methods = sorted(m for m, t in state.throttles.items() if t.under_attack(now))
            if methods:
                found[door_id] = methods
        return found

    def _count_failure(self, door_id: str, method: str, state: _DoorState, now: float) -> None:
        state.failures += 1
        throttle = state.throttles[method]
        duration = throttle.fail(now, self._limits)
        if duration is None:
            self._store.save_throttle(door_throttle(door_id, method), throttle.to_record())
            return
        attack = {
            "method": method,
            "failures": self._limits.max_failures,
            "window_s": self._limits.window_s,
            "lockout_s": duration,
            "streak": throttle.streak,
            "until": round(throttle.locked_until, 3),
        }
        self._store.save_throttle(
            door_throttle(door_id, method), throttle.to_record(), attack=attack, door=door_id
        )
        _LOGGER.warning(
            "door %s: %d wrong %s codes within %.0f s; refusing that method there for %.0f s "
            "(lockout %d in a row, R12)",
            door_id,
            self._limits.max_failures,
            method,
            self._limits.window_s,
            duration,
            throttle.streak,
        )
        if throttle.under_attack(now):
            self._actuators[door_id].alert("guessing_attack", attack)
        if self._on_lockout is not None:
            self._on_lockout(door_id)  # the door's state changed: Home Assistant shows it
