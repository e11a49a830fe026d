"""Phone keys: a passkey (WebAuthn) on the resident's own phone, registered from their pages
and kept as a `phone` credential plus the public key that checks its signatures. The id of a
passkey is no secret (the phone sends it with every signature), so a phone credential that
has a passkey opens a door only through a verified signature (access/credential_gate.py)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass

from facegate.identity.credential_records import CredentialRecords
from facegate.identity.credentials import lookup_key
from facegate.identity.records import Credential

PHONE_KEY_LABEL = "phone key"


@dataclass(frozen=True, kw_only=True)
class Passkey:
    credential_id: str  # the `phone` credential's row id
    webauthn_id: str  # the authenticator's credential id, base64url
    public_key: bytes
    sign_count: int


class PasskeyRecords(CredentialRecords):
    def add_passkey(
        self, person_id: str, *, webauthn_id: str, public_key: bytes, sign_count: int
    ) -> Credential:
        """The phone credential and its public key, in one transaction: never a phone
        credential without the key that its signatures are checked with."""
        person = self.person(person_id)
        lookup = lookup_key(self._credential_secret, "phone", webauthn_id)
        credential = Credential(
            id=uuid.uuid4().hex,
            person_id=person_id,
            kind="phone",
            label=PHONE_KEY_LABEL,
            created_at=time.time(),
        )
        with self._transaction() as db:
            self._insert_credential(db, person, credential, lookup, passkey=True)
            db.execute(
                "INSERT INTO passkeys VALUES (?, ?, ?, ?, ?)",
                (credential.id, webauthn_id, public_key, sign_count, credential.created_at),
            )
        return credential

    def passkeys(self, person_id: str) -> list[Passkey]:
        rows = self._query(
            "SELECT k.* FROM passkeys k JOIN credentials c ON c.id = k.credential_id "
            "WHERE c.person_id = ? ORDER BY k.created_at",
            (person_id,),
        )
        return [_passkey(row) for row in rows]

    def passkey(self, credential_id: str) -> Passkey | None:
        """The passkey behind a phone credential, or None for a plain phone id."""
        rows = self._query("SELECT * FROM passkeys WHERE credential_id = ?", (credential_id,))
        return _passkey(rows[0]) if rows else None

    def note_signature(self, credential_id: str, sign_count: int) -> None:
        """The authenticator's counter after a verified signature (a cloned key shows up as
        a counter that goes back)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE passkeys SET sign_count = ? WHERE credential_id = ?",
                (sign_count, credential_id),
            )


def _passkey(row: sqlite3.Row) -> Passkey:
    return Passkey(
        credential_id=row["credential_id"],
        webauthn_id=row["webauthn_id"],
        public_key=bytes(row["public_key"]),
        sign_count=int(row["sign_count"]),
    )
