"""The identity store: one SQLite file (WAL) in the data directory.

No template row can exist without a live consent record (R2): the store checks it before
sealing, and the foreign key ties each template to the consent it was taken under. Rows are
deleted with secure_delete on, so erased templates do not linger in free pages.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from facegate.errors import ConsentError, FacegateError, TamperError
from facegate.identity.keys import load_or_create_key
from facegate.identity.seal import TemplateSealer
from facegate.vision.types import Vector

DB_NAME = "facegate.db"
KEY_NAME = "template.key"
DEFAULT_CONSENT_DAYS = 365
MAX_CONSENT_DAYS = 3 * 365  # no grant is perpetual (R6)
ConsentMethod = Literal["signed_name", "checkbox", "paper"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
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
    given_at REAL NOT NULL,
    expires_at REAL NOT NULL CHECK (expires_at > given_at),
    withdrawn_at REAL
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
"""


@dataclass(frozen=True, kw_only=True)
class Person:
    id: str
    name: str
    created_at: float


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

    def live(self, now: float) -> bool:
        return self.withdrawn_at is None and now < self.expires_at


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
        self._db.executescript(_SCHEMA)
        self._sealer = TemplateSealer(load_or_create_key(data_dir / KEY_NAME))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # One writer at a time, and a failed step rolls back: no half-written records.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # People ---------------------------------------------------------------------------------

    def add_person(self, name: str) -> Person:
        name = name.strip()
        if not 1 <= len(name) <= 80:
            raise FacegateError("a person's display name must be 1-80 characters")
        person = Person(id=uuid.uuid4().hex, name=name, created_at=time.time())
        with self._transaction() as db:
            db.execute(
                "INSERT INTO people VALUES (?, ?, ?)", (person.id, person.name, person.created_at)
            )
        return person

    def person(self, person_id: str) -> Person:
        with self._lock:
            row = self._db.execute("SELECT * FROM people WHERE id = ?", (person_id,)).fetchone()
        if row is None:
            raise FacegateError(f"no person with id {person_id}")
        return Person(id=row["id"], name=row["name"], created_at=row["created_at"])

    def people(self) -> list[Person]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM people ORDER BY created_at").fetchall()
        return [Person(id=r["id"], name=r["name"], created_at=r["created_at"]) for r in rows]

    # Consent --------------------------------------------------------------------------------

    def give_consent(
        self,
        person_id: str,
        *,
        notice_version: str,
        method: ConsentMethod,
        signer: str,
        witness: str | None = None,
        guardian: str | None = None,
        days: int = DEFAULT_CONSENT_DAYS,
        now: float | None = None,
    ) -> Consent:
        if not 1 <= days <= MAX_CONSENT_DAYS:
            raise ConsentError(f"consent must last 1-{MAX_CONSENT_DAYS} days, never unlimited")
        if not signer.strip():
            raise ConsentError("consent needs the name of the person who signed it")
        if method == "paper" and not (witness and witness.strip()):
            raise ConsentError("a paper consent entered by an administrator needs a witness name")
        self.person(person_id)
        given = time.time() if now is None else now
        consent = Consent(
            id=uuid.uuid4().hex,
            person_id=person_id,
            notice_version=notice_version,
            method=method,
            signer=signer.strip(),
            witness=witness,
            guardian=guardian,
            given_at=given,
            expires_at=given + days * 86400.0,
            withdrawn_at=None,
        )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO consents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    consent.id,
                    consent.person_id,
                    consent.notice_version,
                    consent.method,
                    consent.signer,
                    consent.witness,
                    consent.guardian,
                    consent.given_at,
                    consent.expires_at,
                ),
            )
        return consent

    def live_consent(self, person_id: str, now: float | None = None) -> Consent | None:
        moment = time.time() if now is None else now
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM consents WHERE person_id = ? AND withdrawn_at IS NULL "
                "AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
                (person_id, moment),
            ).fetchone()
        return None if row is None else _consent(row)

    def withdraw_consent(self, person_id: str, now: float | None = None) -> int:
        """Withdraws every live consent and deletes the person's templates at once (R6, R7)."""
        moment = time.time() if now is None else now
        with self._transaction() as db:
            db.execute(
                "UPDATE consents SET withdrawn_at = ? WHERE person_id = ? AND withdrawn_at IS NULL",
                (moment, person_id),
            )
            return db.execute("DELETE FROM templates WHERE person_id = ?", (person_id,)).rowcount

    # Templates ------------------------------------------------------------------------------

    def add_template(self, person_id: str, vector: Vector, *, embedder: str) -> str:
        consent = self.live_consent(person_id)
        if consent is None:
            raise ConsentError(
                f"person {person_id} has no live consent for face processing (R2): "
                "record the person's consent before enrolling a face"
            )
        template_id = uuid.uuid4().hex
        sealed = self._sealer.seal(
            vector, template_id=template_id, person_id=person_id, embedder=embedder
        )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?)",
                (template_id, person_id, consent.id, embedder, sealed, time.time()),
            )
        return template_id

    def template_count(self, person_id: str | None = None) -> int:
        with self._lock:
            if person_id is None:
                return int(self._db.execute("SELECT count(*) FROM templates").fetchone()[0])
            return int(
                self._db.execute(
                    "SELECT count(*) FROM templates WHERE person_id = ?", (person_id,)
                ).fetchone()[0]
            )

    def load_templates(self, embedder: str, now: float | None = None) -> TemplateLoad:
        """Opens every template under a live consent; tampered ones are refused and reported."""
        moment = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT t.id, t.person_id, t.sealed, p.name, c.expires_at FROM templates t "
                "JOIN people p ON p.id = t.person_id JOIN consents c ON c.id = t.consent_id "
                "WHERE t.embedder = ? AND c.withdrawn_at IS NULL AND c.expires_at > ?",
                (embedder, moment),
            ).fetchall()
        templates, refused = [], []
        for row in rows:
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


def _consent(row: sqlite3.Row) -> Consent:
    return Consent(
        id=row["id"],
        person_id=row["person_id"],
        notice_version=row["notice_version"],
        method=row["method"],
        signer=row["signer"],
        witness=row["witness"],
        guardian=row["guardian"],
        given_at=row["given_at"],
        expires_at=row["expires_at"],
        withdrawn_at=row["withdrawn_at"],
    )
