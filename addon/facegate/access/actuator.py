"""Turns a decision into its effects, the same way for every method: the lock command, the
signed access event, and the caller's record of it (R5: PIN, card and tag take this path too)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Protocol

from facegate.config import DoorConfig
from facegate.events import AccessEvent, Method, Reason, Result, sign

_LOGGER = logging.getLogger("facegate.access")


class DoorLink(Protocol):
    def publish_lock(self, topic: str, payload: str) -> bool: ...

    def publish_event(
        self, door: str, event: Mapping[str, object], channel: str = "access"
    ) -> None: ...


DecisionListener = Callable[[Mapping[str, object]], None]


class DoorActuator:
    def __init__(
        self,
        *,
        door: DoorConfig,
        link: DoorLink,
        event_key: bytes,
        max_decision_age_s: float,
        listeners: list[DecisionListener] | None = None,
    ) -> None:
        self.door = door
        self._link = link
        self._key = event_key
        self._max_age = max_decision_age_s
        self._listeners = listeners or []

    def alert(self, kind: str, data: Mapping[str, object]) -> Mapping[str, object]:
        """Tells the administrator about something at this door that needs a person (a guessing
        attack): a signed message on `<prefix>/<door>/alert`, beside the access events."""
        signed = sign(
            {
                "id": uuid.uuid4().hex,
                "ts": round(time.time(), 3),
                "door": self.door.id,
                "kind": kind,
                **data,
            },
            self._key,
        )
        self._link.publish_event(self.door.id, signed, channel="alert")
        return signed

    def refuse_quietly(
        self, *, method: Method, reason: Reason, evidence_at: float
    ) -> Mapping[str, object]:
        """A signed denial for the caller alone: not published, audited or logged. The answer
        to a code typed during a lockout, which the caller counts and summarises instead, so
        that a flood of codes cannot fill the disk (35,000 audit rows a minute, measured)."""
        return self._signed(method=method, result="denied", reason=reason, evidence_at=evidence_at)

    def _signed(
        self,
        *,
        method: Method,
        result: Result,
        reason: Reason,
        evidence_at: float,
        person_id: str | None = None,
        person_name: str | None = None,
        score: float | None = None,
        liveness: Mapping[str, object] | None = None,
    ) -> Mapping[str, object]:
        event = AccessEvent(
            door=self.door.id,
            method=method,
            result=result,
            reason=reason,
            person_id=person_id,
            person_name=person_name,
            score=score,
            liveness=liveness,
            latency_ms=(time.monotonic() - evidence_at) * 1000,
        )
        return sign(event.payload(), self._key)

    def decide(
        self,
        *,
        method: Method,
        reason: Reason,
        person_id: str | None = None,
        person_name: str | None = None,
        score: float | None = None,
        liveness: Mapping[str, object] | None = None,
        evidence_at: float,
    ) -> Mapping[str, object]:
        """Acts on one decision; `evidence_at` is the monotonic time the deciding input arrived.

        A grant unlocks only if the evidence is fresh and the lock can be told right now: an
        unlock is dropped, never queued, so a door cannot open minutes later (R12).
        """
        result: Result = "granted" if reason == "match" else "denied"
        lock = self.door.lock
        if result == "granted":
            if time.monotonic() - evidence_at > self._max_age:
                result, reason = "denied", "stale"
            elif lock.command_topic is not None and not self._link.publish_lock(
                lock.command_topic, lock.payload_unlock
            ):
                result, reason = "denied", "lock_offline"
        signed = self._signed(
            method=method,
            result=result,
            reason=reason,
            evidence_at=evidence_at,
            person_id=person_id,
            person_name=person_name,
            score=score,
            liveness=liveness,
        )
        self._link.publish_event(self.door.id, signed)
        if result == "granted" or reason not in {"unknown"}:
            _LOGGER.info("door %s: %s by %s (%s)", self.door.id, result, method, reason)
        for listener in self._listeners:
            listener(signed)
        return signed
