"""The identity store: one SQLite file (WAL) in the data directory.

People, consent records, sealed face templates, hashed credentials and the audit log live in
one database so that an action and its audit entry commit together. No template row can exist
without a live consent record (R2). Rows are deleted with secure_delete on and the file is
vacuumed after an erasure, so erased data does not linger in free pages or in the WAL (R7).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from facegate.audit import AuditLog
from facegate.audit_records import SCHEMA as AUDIT_SCHEMA
from facegate.audit_records import Entry, Verdict
from facegate.errors import (
    ConsentError,
    CredentialInUseError,
    FacegateError,
    NotFoundError,
    TamperError,
)
from facegate.identity.credentials import (
    CREDENTIAL_KINDS,
    CredentialError,
    CredentialKind,
    lookup_key,
)
from facegate.identity.keys import load_or_create_key
from facegate.identity.seal import TemplateSealer
from facegate.plain_text import text_problem
from facegate.vision.types import Vector

DB_NAME = "facegate.db"
KEY_NAME = "template.key"
CREDENTIAL_KEY_NAME = "credential.key"
AUDIT_KEY_NAME = "audit.key"
AUDIT_HEAD_NAME = "audit.head"
DEFAULT_CONSENT_DAYS = 365
MAX_CONSENT_DAYS = 3 * 365  # no grant is perpetual (R6)
GUARDIAN_AGE = 14  # SPC art. 2(3), PIPL art. 31: under 14 a guardian consents
ConsentMethod = Literal["signed_name", "checkbox", "paper"]
EraseReason = Literal["request", "withdrawal", "expiry", "move_out"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    version TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    text_en TEXT NOT NULL,
    text_zh TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY,
    audit_ref TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    birth_year INTEGER,
    minor INTEGER NOT NULL DEFAULT 0,
    leaves_on TEXT,
    disabled_methods TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    notice_version TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('signed_name', 'checkbox', 'paper')),
    signer TEXT NOT NULL CHECK (length(signer) >= 1),
    witness TEXT,
    guardian TEXT,
    entered_by TEXT,
    given_at REAL NOT NULL,
    expires_at REAL NOT NULL CHECK (expires_at > given_at),
    renewed_at REAL,
    withdrawn_at REAL,
    needs_renewal INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS templates (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    consent_id TEXT NOT NULL REFERENCES consents(id) ON DELETE CASCADE,
    embedder TEXT NOT NULL,
    sealed BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS templates_by_embedder ON templates(embedder);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('pin', 'card', 'tag', 'phone')),
    label TEXT NOT NULL DEFAULT '',
    lookup TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS engine_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS door_methods (
    door TEXT NOT NULL,
    method TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (door, method)
);
"""


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

    def to_json(self) -> dict[str, Any]:
        # Type and label only: the secret is not even held in clear by the store.
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "created_at": self.created_at,
        }


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
            "statement": "The person's record, face templates, credentials and consent "
            "records were deleted from this installation. Audit entries remain under a "
            "pseudonym that no longer links to the person.",
        }


class IdentityStore:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = data_dir / DB_NAME
        fresh = not self.path.exists()
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if fresh:
            self.path.chmod(0o600)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.executescript(_SCHEMA + AUDIT_SCHEMA)
        self._sealer = TemplateSealer(load_or_create_key(data_dir / KEY_NAME))
        self._credential_secret = load_or_create_key(data_dir / CREDENTIAL_KEY_NAME)
        self.audit = AuditLog(
            load_or_create_key(data_dir / AUDIT_KEY_NAME), data_dir / AUDIT_HEAD_NAME
        )
        with self._lock:
            self.audit.open(self._db)

    def data_version(self) -> int:
        """Changes whenever another connection (another process) commits to the database."""
        return int(self._query("PRAGMA data_version")[0][0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # One writer at a time, and a failed step rolls back: no half-written records, and no
        # action without its audit entry.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self.audit.write_head(self._db)

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # Notices ------------------------------------------------------------------------------

    def record_notice(self, *, version: str, scope: str, text_en: str, text_zh: str) -> bool:
        """Keeps every notice version people may have agreed to; True when it is new."""
        with self._transaction() as db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO notices VALUES (?, ?, ?, ?, ?)",
                (version, scope, text_en, text_zh, time.time()),
            ).rowcount
            if inserted:
                self.audit.append(
                    db, "config_changed", data={"notice_version": version, "scope": scope}
                )
        return bool(inserted)

    def notice_scope(self, version: str) -> str | None:
        rows = self._query("SELECT scope FROM notices WHERE version = ?", (version,))
        return str(rows[0]["scope"]) if rows else None

    def note_notice_shown(self, version: str, person_id: str | None = None) -> None:
        subject = self.person(person_id).audit_ref if person_id else None
        with self._transaction() as db:
            self.audit.append(db, "notice_shown", subject=subject, data={"version": version})

    def require_renewal_outside(self, scope: str) -> int:
        """Consents given under a notice of another purpose or scope need renewing before the
        face opens anything again (R1, R2); returns how many were marked."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT c.id, p.audit_ref FROM consents c JOIN people p ON p.id = c.person_id "
                "JOIN notices n ON n.version = c.notice_version WHERE c.withdrawn_at IS NULL "
                "AND c.needs_renewal = 0 AND n.scope != ?",
                (scope,),
            ).fetchall()
            for row in rows:
                db.execute("UPDATE consents SET needs_renewal = 1 WHERE id = ?", (row["id"],))
                self.audit.append(
                    db,
                    "consent_needs_renewal",
                    subject=row["audit_ref"],
                    data={"consent_id": row["id"]},
                )
        return len(rows)

    # People -------------------------------------------------------------------------------

    def add_person(
        self,
        name: str,
        *,
        birth_year: int | None = None,
        minor: bool = False,
        leaves_on: str | None = None,
    ) -> Person:
        name = name.strip()
        if not 1 <= len(name) <= 80:
            raise FacegateError("a person's display name must be 1-80 characters")
        if (problem := text_problem(name)) is not None:
            raise FacegateError(f"a person's display name {problem}")
        this_year = dt.date.today().year
        if birth_year is not None and not this_year - 130 <= birth_year <= this_year:
            raise FacegateError(f"birth_year must be between {this_year - 130} and {this_year}")
        person = Person(
            id=uuid.uuid4().hex,
            name=name,
            created_at=time.time(),
            audit_ref=secrets.token_hex(16),
            birth_year=birth_year,
            minor=minor,
            leaves_on=_iso_date(leaves_on),
        )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO people (id, audit_ref, name, birth_year, minor, leaves_on, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    person.id,
                    person.audit_ref,
                    person.name,
                    birth_year,
                    int(minor),
                    person.leaves_on,
                    person.created_at,
                ),
            )
            self.audit.append(
                db,
                "person_created",
                subject=person.audit_ref,
                data={"guardian_needed": person.needs_guardian()},
            )
        return person

    def update_person(
        self,
        person_id: str,
        *,
        leaves_on: str | None = None,
        disabled_methods: list[str] | None = None,
    ) -> Person:
        person = self.person(person_id)
        fields: dict[str, Any] = {}
        if leaves_on is not None:
            fields["leaves_on"] = _iso_date(leaves_on)
        if disabled_methods is not None:
            unknown = set(disabled_methods) - {"face", *CREDENTIAL_KINDS}
            if unknown:
                raise FacegateError(f"unknown method(s): {', '.join(sorted(unknown))}")
            fields["disabled_methods"] = json.dumps(sorted(set(disabled_methods)))
        if fields:
            with self._transaction() as db:
                assignments = ", ".join(f"{key} = ?" for key in fields)
                db.execute(
                    f"UPDATE people SET {assignments} WHERE id = ?",  # noqa: S608
                    (*fields.values(), person_id),
                )
                self.audit.append(
                    db, "person_updated", subject=person.audit_ref, data={"fields": sorted(fields)}
                )
        return self.person(person_id)

    def person(self, person_id: str) -> Person:
        rows = self._query("SELECT * FROM people WHERE id = ?", (person_id,))
        if not rows:
            raise NotFoundError(f"no person with id {person_id}")
        return _person(rows[0])

    def people(self) -> list[Person]:
        return [_person(r) for r in self._query("SELECT * FROM people ORDER BY created_at")]

    # Consent ------------------------------------------------------------------------------

    def give_consent(
        self,
        person_id: str,
        *,
        notice_version: str,
        method: ConsentMethod,
        signer: str,
        witness: str | None = None,
        guardian: str | None = None,
        entered_by: str | None = None,
        days: int = DEFAULT_CONSENT_DAYS,
        now: float | None = None,
    ) -> Consent:
        if not 1 <= days <= MAX_CONSENT_DAYS:
            raise ConsentError(f"consent must last 1-{MAX_CONSENT_DAYS} days, never unlimited")
        if not signer.strip():
            raise ConsentError("consent needs the name of the person who signed it")
        for role, signed in (("signer", signer), ("witness", witness), ("guardian", guardian)):
            if signed is not None and (problem := text_problem(signed)) is not None:
                raise ConsentError(f"the {role}'s name {problem}")
        if method == "paper" and not (witness and witness.strip()):
            raise ConsentError("a paper consent entered by an administrator needs a witness name")
        person = self.person(person_id)
        if person.needs_guardian() and not (guardian and guardian.strip()):
            raise ConsentError(
                f"R3: {person.name} is under {GUARDIAN_AGE}; a parent or guardian must give "
                "the consent, and their name is recorded"
            )
        if self.notice_scope(notice_version) is None:
            raise ConsentError(
                f"notice version {notice_version} is unknown: consent must "
                "name the notice the person was shown"
            )
        given = time.time() if now is None else now
        consent = Consent(
            id=uuid.uuid4().hex,
            person_id=person_id,
            notice_version=notice_version,
            method=method,
            signer=signer.strip(),
            witness=witness,
            guardian=guardian,
            entered_by=entered_by,
            given_at=given,
            expires_at=given + days * 86400.0,
            withdrawn_at=None,
        )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO consents (id, person_id, notice_version, method, signer, witness, "
                "guardian, entered_by, given_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    consent.id,
                    person_id,
                    notice_version,
                    method,
                    consent.signer,
                    witness,
                    guardian,
                    entered_by,
                    given,
                    consent.expires_at,
                ),
            )
            self.audit.append(
                db,
                "consent_given",
                subject=person.audit_ref,
                now=given,
                data={
                    "consent_id": consent.id,
                    "notice_version": notice_version,
                    "method": method,
                    "guardian": guardian is not None,
                    "expires_at": consent.expires_at,
                },
            )
        return consent

    def consents(self, person_id: str) -> list[Consent]:
        rows = self._query(
            "SELECT * FROM consents WHERE person_id = ? ORDER BY given_at", (person_id,)
        )
        return [_consent(r) for r in rows]

    def live_consent(self, person_id: str, now: float | None = None) -> Consent | None:
        moment = time.time() if now is None else now
        rows = self._query(
            "SELECT * FROM consents WHERE person_id = ? AND withdrawn_at IS NULL "
            "AND needs_renewal = 0 AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
            (person_id, moment),
        )
        return _consent(rows[0]) if rows else None

    def renew_consent(
        self,
        person_id: str,
        *,
        notice_version: str,
        days: int = DEFAULT_CONSENT_DAYS,
        now: float | None = None,
    ) -> Consent:
        """Extends the latest unwithdrawn consent under the notice shown now (R6)."""
        if not 1 <= days <= MAX_CONSENT_DAYS:
            raise ConsentError(f"consent must last 1-{MAX_CONSENT_DAYS} days, never unlimited")
        if self.notice_scope(notice_version) is None:
            raise ConsentError(f"notice version {notice_version} is unknown")
        person = self.person(person_id)
        moment = time.time() if now is None else now
        rows = self._query(
            "SELECT * FROM consents WHERE person_id = ? AND withdrawn_at IS NULL "
            "AND expires_at > ? ORDER BY given_at DESC LIMIT 1",
            (person_id, moment),
        )
        if not rows:
            raise ConsentError("there is no consent to renew; give a new consent instead")
        consent_id = rows[0]["id"]
        expires = moment + days * 86400.0
        with self._transaction() as db:
            db.execute(
                "UPDATE consents SET expires_at = ?, renewed_at = ?, notice_version = ?, "
                "needs_renewal = 0 WHERE id = ?",
                (expires, moment, notice_version, consent_id),
            )
            self.audit.append(
                db,
                "consent_renewed",
                subject=person.audit_ref,
                now=moment,
                data={
                    "consent_id": consent_id,
                    "notice_version": notice_version,
                    "expires_at": expires,
                },
            )
        return _consent(self._query("SELECT * FROM consents WHERE id = ?", (consent_id,))[0])

    def withdraw_consent(self, person_id: str, now: float | None = None) -> int:
        """Withdraws every live consent and deletes the person's templates at once (R6, R7)."""
        person = self.person(person_id)
        moment = time.time() if now is None else now
        with self._transaction() as db:
            withdrawn = db.execute(
                "UPDATE consents SET withdrawn_at = ? WHERE person_id = ? AND withdrawn_at IS NULL",
                (moment, person_id),
            ).rowcount
            deleted = db.execute("DELETE FROM templates WHERE person_id = ?", (person_id,)).rowcount
            self.audit.append(
                db,
                "consent_withdrawn",
                subject=person.audit_ref,
                now=moment,
                data={"consents": withdrawn, "templates_deleted": deleted},
            )
        self._compact()
        return int(deleted)

    def expire_consents(self, now: float | None = None) -> int:
        """Deletes the templates of every expired consent; run by the scheduler (R6, R7)."""
        moment = time.time() if now is None else now
        with self._transaction() as db:
            rows = db.execute(
                "SELECT DISTINCT t.consent_id, p.audit_ref FROM templates t "
                "JOIN consents c ON c.id = t.consent_id JOIN people p ON p.id = t.person_id "
                "WHERE c.expires_at <= ?",
                (moment,),
            ).fetchall()
            deleted = 0
            for row in rows:
                count = db.execute(
                    "DELETE FROM templates WHERE consent_id = ?", (row["consent_id"],)
                ).rowcount
                deleted += count
                self.audit.append(
                    db,
                    "consent_expired",
                    subject=row["audit_ref"],
                    now=moment,
                    data={"consent_id": row["consent_id"], "templates_deleted": count},
                )
        if deleted:
            self._compact()
        return deleted

    def people_moving_out(self, today: dt.date | None = None) -> list[Person]:
        day = (today or dt.date.today()).isoformat()
        rows = self._query(
            "SELECT * FROM people WHERE leaves_on IS NOT NULL AND leaves_on <= ?", (day,)
        )
        return [_person(r) for r in rows]

    # Templates ----------------------------------------------------------------------------

    def add_template(self, person_id: str, vector: Vector, *, embedder: str) -> str:
        consent = self.live_consent(person_id)
        if consent is None:
            raise ConsentError(
                f"person {person_id} has no live consent for face processing (R2): "
                "record the person's consent before enrolling a face"
            )
        person = self.person(person_id)
        template_id = uuid.uuid4().hex
        sealed = self._sealer.seal(
            vector, template_id=template_id, person_id=person_id, embedder=embedder
        )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?)",
                (template_id, person_id, consent.id, embedder, sealed, time.time()),
            )
            self.audit.append(
                db,
                "enrolment",
                subject=person.audit_ref,
                data={"template_id": template_id, "embedder": embedder, "consent_id": consent.id},
            )
        return template_id

    def template_count(self, person_id: str | None = None) -> int:
        if person_id is None:
            return int(self._query("SELECT count(*) FROM templates")[0][0])
        return int(
            self._query("SELECT count(*) FROM templates WHERE person_id = ?", (person_id,))[0][0]
        )

    def load_templates(
        self, embedder: str, now: float | None = None, *, person_id: str | None = None
    ) -> TemplateLoad:
        """Opens every template under a live consent (or one person's); tampered ones are
        refused and reported."""
        moment = time.time() if now is None else now
        rows = self._query(
            "SELECT t.id, t.person_id, t.sealed, p.name, p.disabled_methods, c.expires_at "
            "FROM templates t JOIN people p ON p.id = t.person_id "
            "JOIN consents c ON c.id = t.consent_id WHERE t.embedder = ? "
            "AND c.withdrawn_at IS NULL AND c.needs_renewal = 0 AND c.expires_at > ? "
            "AND (? IS NULL OR t.person_id = ?)",
            (embedder, moment, person_id, person_id),
        )
        templates, refused = [], []
        for row in rows:
            if "face" in json.loads(row["disabled_methods"]):
                continue
            try:
                vector = self._sealer.open(
                    row["sealed"],
                    template_id=row["id"],
                    person_id=row["person_id"],
                    embedder=embedder,
                )
            except TamperError as error:
                refused.append(error)
                continue
            templates.append(
                StoredTemplate(
                    id=row["id"],
                    person_id=row["person_id"],
                    person_name=row["name"],
                    vector=vector,
                    consent_expires_at=row["expires_at"],
                )
            )
        return TemplateLoad(templates=templates, refused=refused)

    def person_vectors(self, person_id: str, embedder: str) -> list[Vector]:
        """One person's templates under a live consent, opened (a new enrolment is checked
        against them)."""
        return [
            t.vector
            for t in self.load_templates(embedder, person_id=person_id).templates
            if t.person_id == person_id
        ]

    # Credentials --------------------------------------------------------------------------

    def add_credential(
        self, person_id: str, kind: CredentialKind, value: str, label: str = ""
    ) -> Credential:
        """No consent needed and no personal document asked for: anyone can have one (R4)."""
        person = self.person(person_id)
        lookup = lookup_key(self._credential_secret, kind, value)
        if (problem := text_problem(label)) is not None:
            raise CredentialError(f"the credential's label {problem}")
        credential = Credential(
            id=uuid.uuid4().hex,
            person_id=person_id,
            kind=kind,
            label=label.strip()[:60],
            created_at=time.time(),
        )
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        credential.id,
                        person_id,
                        kind,
                        credential.label,
                        lookup,
                        credential.created_at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise CredentialInUseError(
                    f"this {kind} is already in use; choose another"
                ) from None
            self.audit.append(
                db,
                "credential_added",
                subject=person.audit_ref,
                data={"credential_id": credential.id, "kind": kind},
            )
        return credential

    def remove_credential(self, person_id: str, credential_id: str) -> None:
        person = self.person(person_id)
        with self._transaction() as db:
            removed = db.execute(
                "DELETE FROM credentials WHERE id = ? AND person_id = ?", (credential_id, person_id)
            ).rowcount
            if not removed:
                raise NotFoundError(f"person has no credential {credential_id}")
            self.audit.append(
                db,
                "credential_removed",
                subject=person.audit_ref,
                data={"credential_id": credential_id},
            )

    def credentials(self, person_id: str) -> list[Credential]:
        rows = self._query(
            "SELECT id, person_id, kind, label, created_at FROM credentials "
            "WHERE person_id = ? ORDER BY created_at",
            (person_id,),
        )
        return [
            Credential(
                id=r["id"],
                person_id=r["person_id"],
                kind=r["kind"],
                label=r["label"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def find_credential(self, kind: CredentialKind, value: str) -> tuple[Person, Credential] | None:
        """The holder of a presented credential; None for an unknown or malformed value."""
        try:
            lookup = lookup_key(self._credential_secret, kind, value)
        except FacegateError:
            return None
        rows = self._query(
            "SELECT id, person_id, kind, label, created_at FROM credentials "
            "WHERE lookup = ? AND kind = ?",
            (lookup, kind),
        )
        if not rows:
            return None
        row = rows[0]
        credential = Credential(
            id=row["id"],
            person_id=row["person_id"],
            kind=row["kind"],
            label=row["label"],
            created_at=row["created_at"],
        )
        return self.person(row["person_id"]), credential

    # Doors --------------------------------------------------------------------------------

    def door_method_overrides(self) -> dict[tuple[str, str], bool]:
        rows = self._query("SELECT door, method, enabled FROM door_methods")
        return {(r["door"], r["method"]): bool(r["enabled"]) for r in rows}

    def set_door_method(self, door: str, method: str, enabled: bool) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO door_methods VALUES (?, ?, ?)", (door, method, int(enabled))
            )
            self.audit.append(
                db, "config_changed", door=door, data={"method": method, "enabled": enabled}
            )

    def note_configuration(self, digest: str) -> bool:
        """Audits a configuration the engine starts with, when it differs from the last one."""
        with self._transaction() as db:
            row = db.execute("SELECT value FROM engine_state WHERE key = 'config'").fetchone()
            if row is not None and row[0] == digest:
                return False
            db.execute("INSERT OR REPLACE INTO engine_state VALUES ('config', ?)", (digest,))
            self.audit.append(
                db, "config_changed", data={"config": digest, "previous": row[0] if row else None}
            )
        return True

    # Access log ---------------------------------------------------------------------------

    def record_access(self, event: dict[str, Any]) -> None:
        """Every decision in the audit log, the person only by pseudonym (R11)."""
        person = event.get("person")
        subject = None
        if isinstance(person, dict):
            rows = self._query("SELECT audit_ref FROM people WHERE id = ?", (person["id"],))
            subject = rows[0]["audit_ref"] if rows else None
        with self._transaction() as db:
            self.audit.append(
                db,
                "access",
                subject=subject,
                door=str(event["door"]),
                data={k: event[k] for k in ("method", "result", "reason", "score", "latency_ms")},
            )

    def record_refusals(self, door: str, *, refused: int, first_at: float, last_at: float) -> None:
        """One entry for the codes refused during a lockout, instead of one each (R11, R12)."""
        with self._transaction() as db:
            self.audit.append(
                db,
                "access",
                door=door,
                data={
                    "method": "credential",
                    "result": "denied",
                    "reason": "rate_limited",
                    "refused": refused,
                    "from": round(first_at, 3),
                    "until": round(last_at, 3),
                },
            )

    def audit_entries(self, *, after: int = 0, limit: int = 1000) -> list[Entry]:
        with self._lock:
            return self.audit.entries(self._db, after=after, limit=limit)

    def verify_audit(self) -> Verdict:
        with self._lock:
            return self.audit.verify(self._db)

    def purge_audit(self, older_than_days: float) -> int:
        with self._transaction() as db:
            # The purge signs a checkpoint over what it removes: on a broken chain that would
            # launder the tampering, so a broken chain is never purged (R11).
            verdict = self.audit.verify(db)
            if not verdict.ok:
                raise TamperError(f"refusing to purge a broken audit log: {verdict.problem}")
            return self.audit.purge_before(db, time.time() - older_than_days * 86400)

    # Rights -------------------------------------------------------------------------------

    def export_person(self, person_id: str) -> dict[str, Any]:
        """Everything held about a person, in one document (R11): never a secret or a vector."""
        person = self.person(person_id)
        templates = self._query(
            "SELECT id, embedder, consent_id, created_at FROM templates "
            "WHERE person_id = ? ORDER BY created_at",
            (person_id,),
        )
        with self._transaction() as db:
            self.audit.append(db, "export", subject=person.audit_ref)
            entries = self.audit.entries(db, subject=person.audit_ref, limit=1_000_000)
        return {
            "exported_at": time.time(),
            "person": person.to_json(),
            "consents": [c.to_json() for c in self.consents(person_id)],
            "credentials": [c.to_json() for c in self.credentials(person_id)],
            "templates": [dict(t) for t in templates],
            "audit": [e.to_json() for e in entries],
        }

    def erase_person(self, person_id: str, reason: EraseReason = "request") -> DeletionReceipt:
        """Deletes the person and everything linked to them, at once (R7)."""
        person = self.person(person_id)
        receipt_id = uuid.uuid4().hex
        with self._transaction() as db:
            counts = {
                table: int(
                    db.execute(
                        f"SELECT count(*) FROM {table} WHERE person_id = ?",  # noqa: S608
                        (person_id,),
                    ).fetchone()[0]
                )
                for table in ("templates", "credentials", "consents")
            }
            db.execute("DELETE FROM people WHERE id = ?", (person_id,))  # cascades
            counts["person"] = 1
            entry = self.audit.append(
                db,
                "erasure",
                subject=person.audit_ref,
                data={"receipt_id": receipt_id, "reason": reason, "deleted": counts},
            )
        self._compact()
        return DeletionReceipt(
            receipt_id=receipt_id, reason=reason, erased_at=entry.ts, deleted=counts
        )

    def _compact(self) -> None:
        # secure_delete zeroes freed pages in the database, but copies of them can still sit in
        # the WAL; a truncating checkpoint and a vacuum leave no trace of the deleted rows.
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _iso_date(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise FacegateError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _person(row: sqlite3.Row) -> Person:
    return Person(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        audit_ref=row["audit_ref"],
        birth_year=row["birth_year"],
        minor=bool(row["minor"]),
        leaves_on=row["leaves_on"],
        disabled_methods=tuple(json.loads(row["disabled_methods"])),
    )


def _consent(row: sqlite3.Row) -> Consent:
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
