"""The identity store's foundation: the SQLite file and its keys, one transaction at a time
with its audit entry, and the records every other part needs (notices, people, doors)."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from facegate.audit import AuditLog
from facegate.errors import FacegateError, NotFoundError, RuleError, TamperError
from facegate.identity.credentials import CREDENTIAL_KINDS
from facegate.identity.keys import load_or_create_key
from facegate.identity.migrations import migrate
from facegate.identity.records import (
    ALL_DOORS_GROUP,
    NAME_MAX_LENGTH,
    Person,
    birth_years,
    iso_date,
    person_of_row,
)
from facegate.identity.row_seal import SEALED_COLUMNS, SEALED_KIND, RowSealer, sound
from facegate.identity.seal import TemplateSealer
from facegate.identity.validity import Validity
from facegate.plain_text import text_problem
from facegate.rules import NO_METHOD_LEFT_KEY, R4, R4_KEY, face_alone, r4_methods_hint

DB_NAME = "facegate.db"
KEY_NAME = "template.key"
CREDENTIAL_KEY_NAME = "credential.key"
AUDIT_KEY_NAME = "audit.key"
AUDIT_HEAD_NAME = "audit.head"
ROW_KEY_NAME = "row.key"
_LOGGER = logging.getLogger("facegate.store")


class StoreCore:
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
        self._rows = RowSealer(load_or_create_key(data_dir / ROW_KEY_NAME))
        self._rows.register(self._db)
        try:
            applied = migrate(self._db, self.path)
        except FacegateError:
            self._db.close()
            raise
        if applied and not fresh:
            _LOGGER.info("database %s upgraded: %s", self.path, ", ".join(applied))
        sealed_before = self._rows.install(self._db)
        self._sealer = TemplateSealer(load_or_create_key(data_dir / KEY_NAME))
        self._credential_secret = load_or_create_key(data_dir / CREDENTIAL_KEY_NAME)
        self.audit = AuditLog(
            load_or_create_key(data_dir / AUDIT_KEY_NAME), data_dir / AUDIT_HEAD_NAME
        )
        with self._lock:
            self.audit.open(self._db)
        if not sealed_before:
            self._adopt_rows()

    def _adopt_rows(self) -> None:
        # A database written before rows were sealed: its rows are sealed as they stand, once,
        # and the audit log says so. A later open never adopts again, so a row stripped of its
        # MAC stays refused (unless the audit log, which is keyed, is broken too).
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM audit WHERE kind = ? LIMIT 1", (SEALED_KIND,)).fetchone():
                return
            counts = self._rows.adopt(db)
            self.audit.append(db, SEALED_KIND, data=counts)

    def tampered_rows(self) -> dict[str, list[str]]:
        """The ids of person, consent and credential rows whose MAC no longer matches (R8)."""
        found = {}
        for table in SEALED_COLUMNS:
            rows = self._query(f"SELECT id FROM {table} WHERE NOT {sound(table, table)}")  # noqa: S608
            if rows:
                found[table] = [str(r["id"]) for r in rows]
        return found

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

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """Several reads that see one moment of the database (WAL: writers go on meanwhile)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # Notices -------------------------------------------------------------------------------

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

    # People --------------------------------------------------------------------------------

    def add_person(
        self,
        name: str,
        *,
        birth_year: int | None = None,
        minor: bool = False,
        leaves_on: str | None = None,
        groups: Iterable[str] | None = None,
        validity: Validity | None = None,
        visitor: bool = False,
    ) -> Person:
        """A person in `groups` (default: the "All doors" group, while it exists; [] for
        none: a person with no group opens nothing). A visitor holds only codes."""
        name = name.strip()
        if not 1 <= len(name) <= NAME_MAX_LENGTH:
            raise FacegateError(f"a person's display name must be 1-{NAME_MAX_LENGTH} characters")
        if (problem := text_problem(name)) is not None:
            raise FacegateError(f"a person's display name {problem}")
        low, high = birth_years()
        if birth_year is not None and not low <= birth_year <= high:
            raise FacegateError(f"birth_year must be between {low} and {high}")
        person = Person(
            id=uuid.uuid4().hex,
            name=name,
            created_at=time.time(),
            audit_ref=secrets.token_hex(16),
            birth_year=birth_year,
            minor=minor,
            leaves_on=iso_date(leaves_on),
            validity=validity or Validity(),
            visitor=visitor,
        )
        person.validity.check()
        with self._transaction() as db:
            known = {row[0] for row in db.execute("SELECT id FROM access_groups")}
            chosen = sorted(set(groups)) if groups is not None else []
            if groups is None and ALL_DOORS_GROUP in known:
                chosen = [ALL_DOORS_GROUP]
            if unknown := [g for g in chosen if g not in known]:
                raise NotFoundError(f"no access group with id {', '.join(unknown)}")
            db.execute(
                "INSERT INTO people (id, audit_ref, name, birth_year, minor, leaves_on, "
                "created_at, valid_from, valid_until, max_uses, schedule, visitor) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    person.id,
                    person.audit_ref,
                    person.name,
                    birth_year,
                    int(minor),
                    person.leaves_on,
                    person.created_at,
                    *person.validity.columns(),
                    int(visitor),
                ),
            )
            now = time.time()
            db.executemany(
                "INSERT INTO memberships (id, group_id, person_id, created_at) VALUES (?, ?, ?, ?)",
                [(f"{g}/{person.id}", g, person.id, now) for g in chosen],
            )
            self.audit.append(
                db,
                "person_created",
                subject=person.audit_ref,
                data={
                    "guardian_needed": person.needs_guardian(),
                    "groups": chosen,
                    **({"visitor": True} if visitor else {}),
                    **({"validity": person.validity.to_json()} if person.validity.limited else {}),
                },
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
            fields["leaves_on"] = iso_date(leaves_on)
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

    def person(self, person_id: str, *, checked: bool = True) -> Person:
        """The person; TamperError for an altered row unless `checked` is off (erasure and
        export must still reach a person whose row was altered: R7, R11)."""
        rows = self._query("SELECT * FROM people WHERE id = ?", (person_id,))
        if not rows:
            raise NotFoundError(f"no person with id {person_id}")
        if checked:
            self._rows.check("people", rows[0])
        return person_of_row(rows[0])

    def people(self) -> list[Person]:
        """Every person whose row is intact; altered rows are left out (and counted in health)."""
        return self._sound_people("SELECT * FROM people ORDER BY created_at")

    def _sound_people(self, sql: str, args: tuple[Any, ...] = ()) -> list[Person]:
        return [person_of_row(r) for r in self._sound("people", self._query(sql, args))]

    def _sound(self, table: str, rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
        kept = []
        for row in rows:
            try:
                self._rows.check(table, row)
            except TamperError as error:
                _LOGGER.error("%s", error)
                continue
            kept.append(row)
        return kept

    # Doors ---------------------------------------------------------------------------------

    def door_method_overrides(self) -> dict[tuple[str, str], bool]:
        rows = self._query("SELECT door, method, enabled FROM door_methods")
        return {(r["door"], r["method"]): bool(r["enabled"]) for r in rows}

    def set_door_method(
        self, door: str, method: str, enabled: bool, *, configured: Collection[str]
    ) -> None:
        """Switches a configured method of a door on or off. Checked in the transaction that
        writes it, so two changes at once (or two processes) cannot together leave the door
        with the face as its only method (R4)."""
        with self._transaction() as db:
            rows = db.execute("SELECT method, enabled FROM door_methods WHERE door = ?", (door,))
            switched = {r["method"]: bool(r["enabled"]) for r in rows}
            now_on = {m for m in configured if switched.get(m, True)}
            after = now_on | {method} if enabled else now_on - {method}
            if "face" in after and face_alone(after):
                raise RuleError(
                    f"{R4}; door {door} would be left with face as its only enabled method: "
                    f"{r4_methods_hint()}",
                    key=R4_KEY,
                )
            if not after:
                # A door every method is switched off at opens for nobody, silently: whoever
                # comes to it has no way in and nobody is told why.
                raise RuleError(
                    f"door {door} would be left with no way in: keep at least one of its "
                    f"methods ({', '.join(sorted(configured))}) enabled",
                    key=NO_METHOD_LEFT_KEY,
                )
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

    def _compact(self) -> None:
        # secure_delete zeroes freed pages in the database, but copies of them can still sit in
        # the WAL; a truncating checkpoint and a vacuum leave no trace of the deleted rows.
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
