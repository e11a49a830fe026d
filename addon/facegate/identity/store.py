"""The identity store: one SQLite file (WAL) in the data directory.

People, consent records, sealed face templates, hashed credentials and the audit log live in
one database so that an action and its audit entry commit together. No template row can exist
without a live consent record (R2). Rows are deleted with secure_delete on and the file is
vacuumed after an erasure, so erased data does not linger in free pages or in the WAL (R7).
The parts live beside this module (store_core, consent_records, template_records,
credential_records, records); this one adds the access log and the person's rights.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from facegate.audit_records import AuditEntry, Verdict, entry_of_row
from facegate.errors import TamperError
from facegate.identity.access_records import AccessRecords
from facegate.identity.invitation_records import InvitationRecords
from facegate.identity.passkey_records import PasskeyRecords
from facegate.identity.records import (
    Consent,
    Credential,
    DeletionReceipt,
    PersonOverview,
    change_throttle,
    consent_of_row,
    credential_of_row,
    person_of_row,
)
from facegate.identity.store_core import AUDIT_HEAD_NAME, AUDIT_KEY_NAME, DB_NAME
from facegate.identity.template_records import TemplateRecords
from facegate.vocabulary import EraseReason

# What other modules import from here; the records themselves come from records.py.
__all__ = ["AUDIT_HEAD_NAME", "AUDIT_KEY_NAME", "DB_NAME", "IdentityStore"]


class IdentityStore(TemplateRecords, PasskeyRecords, AccessRecords, InvitationRecords):
    # Access log ----------------------------------------------------------------------------

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

    # Failure counts and lockouts (access/throttle.py) -------------------------------------

    def throttles(self, prefix: str) -> dict[str, dict[str, Any]]:
        rows = self._query(
            "SELECT * FROM throttles WHERE substr(scope, 1, length(?)) = ?", (prefix, prefix)
        )
        return {row["scope"]: dict(row) for row in rows}

    def save_throttle(
        self,
        scope: str,
        record: dict[str, Any],
        *,
        attack: dict[str, Any] | None = None,
        door: str | None = None,
    ) -> None:
        """Keeps a throttle's state; `attack` (a lockout that started) is audited with it."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO throttles VALUES (?, ?, ?, ?, ?)",
                (
                    scope,
                    record["failures"],
                    record["locked_until"],
                    record["streak"],
                    record["lockouts"],
                ),
            )
            if attack is not None:
                self.audit.append(db, "guessing_attack", door=door, data=attack)

    def audit_entries(self, *, after: int = 0, limit: int = 1000) -> list[AuditEntry]:
        with self._lock:
            return self.audit.entries(self._db, after=after, limit=limit)

    def recent_access(self, limit: int = 50) -> list[tuple[AuditEntry, str | None]]:
        """The latest decisions, newest first, each with the name of its person while that
        person is still here (the log itself holds only the pseudonym, R11)."""
        rows = self._query(
            "SELECT a.*, p.name AS person_name FROM audit a LEFT JOIN people p "
            "ON p.audit_ref = a.subject WHERE a.kind = 'access' ORDER BY a.seq DESC LIMIT ?",
            (limit,),
        )
        return [(entry_of_row(row), row["person_name"]) for row in rows]

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

    # Overviews ----------------------------------------------------------------------------

    def overviews(self, person_id: str | None = None) -> list[PersonOverview]:
        """Every person (or one) with their consents, template count and credentials: five
        reads in one transaction, whatever the number of people, so the lists and the event
        stream's snapshot see one moment. Altered rows are left out, as everywhere (R8)."""
        args = (person_id, person_id)
        with self._reading() as db:
            people = db.execute(
                "SELECT * FROM people WHERE (? IS NULL OR id = ?) ORDER BY created_at", args
            ).fetchall()
            consents = db.execute(
                "SELECT * FROM consents WHERE (? IS NULL OR person_id = ?) ORDER BY given_at",
                args,
            ).fetchall()
            templates = db.execute(
                "SELECT person_id, count(*) FROM templates WHERE (? IS NULL OR person_id = ?) "
                "GROUP BY person_id",
                args,
            ).fetchall()
            credentials = db.execute(
                "SELECT * FROM credentials WHERE (? IS NULL OR person_id = ?) ORDER BY created_at",
                args,
            ).fetchall()
            memberships = db.execute(
                "SELECT * FROM memberships WHERE (? IS NULL OR person_id = ?) ORDER BY group_id",
                args,
            ).fetchall()
        held: dict[str, list[Consent]] = {}
        for row in self._sound("consents", consents):
            held.setdefault(row["person_id"], []).append(consent_of_row(row))
        keys: dict[str, list[Credential]] = {}
        for row in self._sound("credentials", credentials):
            keys.setdefault(row["person_id"], []).append(credential_of_row(row))
        counts = {row[0]: int(row[1]) for row in templates}
        groups: dict[str, list[str]] = {}
        for row in self._sound("memberships", memberships):
            groups.setdefault(row["person_id"], []).append(row["group_id"])
        return [
            PersonOverview(
                person=person_of_row(row),
                consents=held.get(row["id"], []),
                templates=counts.get(row["id"], 0),
                credentials=keys.get(row["id"], []),
                groups=groups.get(row["id"], []),
            )
            for row in self._sound("people", people)
        ]

    # Rights --------------------------------------------------------------------------------

    def export_person(self, person_id: str) -> dict[str, Any]:
        """Everything held about a person, in one document (R11): never a secret or a vector."""
        person = self.person(person_id, checked=False)
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
            "groups": self.person_groups(person_id),
            "templates": [dict(t) for t in templates],
            "audit": [e.to_json() for e in entries],
        }

    def erase_person(self, person_id: str, reason: EraseReason = "request") -> DeletionReceipt:
        """Deletes the person and everything linked to them, at once (R7), altered or not."""
        person = self.person(person_id, checked=False)
        receipt_id = uuid.uuid4().hex
        with self._transaction() as db:
            counts = {
                table: int(
                    db.execute(
                        f"SELECT count(*) FROM {table} WHERE person_id = ?",  # noqa: S608
                        (person_id,),
                    ).fetchone()[0]
                )
                for table in ("templates", "credentials", "consents", "memberships")
            }
            db.execute("DELETE FROM people WHERE id = ?", (person_id,))  # cascades
            db.execute("DELETE FROM throttles WHERE scope = ?", (change_throttle(person_id),))
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
