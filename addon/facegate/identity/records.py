"""What the identity store holds: its tables, and the records it hands out (a person, a
consent, a credential without its value, a template, an erasure's receipt)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from facegate.errors import FacegateError, TamperError
from facegate.identity.credentials import CredentialKind
from facegate.identity.validity import Validity
from facegate.vision.types import Vector
from facegate.vocabulary import ConsentMethod, EraseReason

DEFAULT_CONSENT_DAYS = 365
MAX_CONSENT_DAYS = 3 * 365  # no grant is perpetual (R6)
GUARDIAN_AGE = 14  # SPC art. 2(3), PIPL art. 31: under 14 a guardian consents
NAME_MAX_LENGTH = 80  # a display name, as people write it (the table checks it too)
OLDEST_AGE = 130
# The group migration 0003 made and put everyone in, so today's installations keep working; a
# person created without naming groups joins it too, while it exists.
ALL_DOORS_GROUP = "all-doors"


def birth_years(today: dt.date | None = None) -> tuple[int, int]:
    """The birth years a person can have: the store and the API check the same range."""
    year = (today or dt.date.today()).year
    return year - OLDEST_AGE, year


# The tables are made by the numbered migrations in identity/migrations/.


@dataclass(frozen=True, kw_only=True)
class Person:
    id: str
    name: str
    created_at: float
    audit_ref: str
    birth_year: int | None = None
    minor: bool = False
    leaves_on: str | None = None  # ISO date: the day the person moves out
    disabled_methods: tuple[str, ...] = ()
    validity: Validity = field(default_factory=Validity)
    visitor: bool = False  # holds only codes: no face, no consent

    def needs_guardian(self, today: dt.date | None = None) -> bool:
        year = (today or dt.date.today()).year
        return self.minor or (self.birth_year is not None and year - self.birth_year < GUARDIAN_AGE)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "birth_year": self.birth_year,
            "minor": self.minor,
            "leaves_on": self.leaves_on,
            "disabled_methods": list(self.disabled_methods),
            "visitor": self.visitor,
            **self.validity.to_json(),
        }


@dataclass(frozen=True, kw_only=True)
class Consent:
    id: str
    person_id: str
    notice_version: str
    method: ConsentMethod
    signer: str
    witness: str | None
    guardian: str | None
    given_at: float
    expires_at: float
    withdrawn_at: float | None
    entered_by: str | None = None
    renewed_at: float | None = None
    needs_renewal: bool = False

    def live(self, now: float) -> bool:
        return self.withdrawn_at is None and now < self.expires_at and not self.needs_renewal

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "notice_version": self.notice_version,
            "method": self.method,
            "signer": self.signer,
            "witness": self.witness,
            "guardian": self.guardian,
            "entered_by": self.entered_by,
            "given_at": self.given_at,
            "expires_at": self.expires_at,
            "renewed_at": self.renewed_at,
            "withdrawn_at": self.withdrawn_at,
            "needs_renewal": self.needs_renewal,
        }


@dataclass(frozen=True, kw_only=True)
class Credential:
    id: str
    person_id: str
    kind: CredentialKind
    label: str
    created_at: float
    validity: Validity = field(default_factory=Validity)

    def to_json(self) -> dict[str, Any]:
        # Type and label only: the secret is not even held in clear by the store.
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "created_at": self.created_at,
            **self.validity.to_json(),
        }


@dataclass(frozen=True, kw_only=True)
class PersonOverview:
    """A person with their consents, template count and credentials, read at one moment."""

    person: Person
    consents: list[Consent]
    templates: int
    credentials: list[Credential]
    groups: list[str]

    def live_consent(self, now: float) -> Consent | None:
        """The live consent that lasts longest, as IdentityStore.live_consent chooses it."""
        live = [c for c in self.consents if c.live(now)]
        return max(live, key=lambda c: c.expires_at) if live else None


@dataclass(frozen=True, kw_only=True)
class StoredTemplate:
    """A template opened for matching, with the consent it stands on."""

    id: str
    person_id: str
    person_name: str
    vector: Vector
    consent_expires_at: float


@dataclass(frozen=True, kw_only=True)
class TemplateLoad:
    templates: list[StoredTemplate]
    refused: list[TamperError]


@dataclass(frozen=True, kw_only=True)
class DeletionReceipt:
    receipt_id: str
    reason: EraseReason
    erased_at: float
    deleted: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "receipt_id": self.receipt_id,
            "reason": self.reason,
            "erased_at": self.erased_at,
            "deleted": self.deleted,
            "statement": "The person's record, face templates, credentials, consent records "
            "and access-group memberships were deleted from this installation. Audit entries "
            "remain under a pseudonym that no longer links to the person.",
        }


def door_throttle(door: str, method: str) -> str:
    """The throttle of one method at one door (access/credential_gate.py)."""
    return f"door/{door}/{method}"


def change_throttle(person_id: str) -> str:
    """The throttle of one person's credential changes (access/change_gate.py)."""
    return f"changes/{person_id}"


def iso_date(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise FacegateError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def person_of_row(row: sqlite3.Row) -> Person:
    return Person(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        audit_ref=row["audit_ref"],
        birth_year=row["birth_year"],
        minor=bool(row["minor"]),
        leaves_on=row["leaves_on"],
        disabled_methods=tuple(json.loads(row["disabled_methods"])),
        validity=Validity.of_row(row),
        visitor=bool(row["visitor"]),
    )


def consent_of_row(row: sqlite3.Row) -> Consent:
    return Consent(
        id=row["id"],
        person_id=row["person_id"],
        notice_version=row["notice_version"],
        method=row["method"],
        signer=row["signer"],
        witness=row["witness"],
        guardian=row["guardian"],
        entered_by=row["entered_by"],
        given_at=row["given_at"],
        expires_at=row["expires_at"],
        renewed_at=row["renewed_at"],
        withdrawn_at=row["withdrawn_at"],
        needs_renewal=bool(row["needs_renewal"]),
    )


def credential_of_row(row: sqlite3.Row) -> Credential:
    return Credential(
        id=row["id"],
        person_id=row["person_id"],
        kind=row["kind"],
        label=row["label"],
        created_at=row["created_at"],
        validity=Validity.of_row(row),
    )
