"""Credentials (R4, R5): a PIN, card, tag or phone kept only as a keyed hash, unique, and
looked up as fast as a face is matched."""

from __future__ import annotations

import sqlite3
import time
import uuid

from facegate.errors import CredentialInUseError, FacegateError, NotFoundError
from facegate.identity.credentials import CredentialError, CredentialKind, lookup_key
from facegate.identity.records import Credential, Person, credential_of_row
from facegate.identity.store_core import StoreCore
from facegate.identity.validity import Validity
from facegate.plain_text import text_problem


class CredentialRecords(StoreCore):
    # Credentials ---------------------------------------------------------------------------

    def add_credential(
        self,
        person_id: str,
        kind: CredentialKind,
        value: str,
        label: str = "",
        validity: Validity | None = None,
    ) -> Credential:
        """No consent needed and no personal document asked for: anyone can have one (R4).
        `validity` limits when it opens a door (from / until, uses, weekly hours)."""
        person = self.person(person_id)
        validity = validity or Validity()
        validity.check()
        if person.visitor and validity.valid_until is None:
            raise FacegateError("a visitor's code must have an end (valid_until)")
        lookup = lookup_key(self._credential_secret, kind, value)
        if (problem := text_problem(label)) is not None:
            raise CredentialError(f"the credential's label {problem}")
        credential = Credential(
            id=uuid.uuid4().hex,
            person_id=person_id,
            kind=kind,
            label=label.strip()[:60],
            created_at=time.time(),
            validity=validity,
        )
        with self._transaction() as db:
            self._insert_credential(db, person, credential, lookup)
        return credential

    def _insert_credential(
        self,
        db: sqlite3.Connection,
        person: Person,
        credential: Credential,
        lookup: str,
        **audit: object,
    ) -> None:
        """The credential's row and its audit entry, in the caller's transaction."""
        try:
            db.execute(
                "INSERT INTO credentials (id, person_id, kind, label, lookup, created_at, "
                "valid_from, valid_until, max_uses, schedule) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    credential.id,
                    person.id,
                    credential.kind,
                    credential.label,
                    lookup,
                    credential.created_at,
                    *credential.validity.columns(),
                ),
            )
        except sqlite3.IntegrityError:
            raise CredentialInUseError(
                f"this {credential.kind} is already in use; choose another", key="in_use"
            ) from None
        validity = credential.validity
        self.audit.append(
            db,
            "credential_added",
            subject=person.audit_ref,
            data={
                "credential_id": credential.id,
                "kind": credential.kind,
                **({"validity": validity.to_json()} if validity.limited else {}),
                **audit,
            },
        )

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
            "SELECT * FROM credentials WHERE person_id = ? ORDER BY created_at", (person_id,)
        )
        return [credential_of_row(r) for r in self._sound("credentials", rows)]

    def find_credential(self, kind: CredentialKind, value: str) -> tuple[Person, Credential] | None:
        """The holder of a presented credential; None for an unknown or malformed value.

        TamperError when the credential's row or its holder's was altered outside the engine
        (a PIN re-pointed to another person opens nothing, under nobody's name: R8)."""
        try:
            lookup = lookup_key(self._credential_secret, kind, value)
        except FacegateError:
            return None
        rows = self._query(
            "SELECT * FROM credentials WHERE lookup = ? AND kind = ?", (lookup, kind)
        )
        if not rows:
            return None
        self._rows.check("credentials", rows[0])
        return self.person(rows[0]["person_id"]), credential_of_row(rows[0])
