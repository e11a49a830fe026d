"""What the audit log is made of: its table, its entry kinds, an entry and a verdict, and the
recipes of its hashes (the keyed MAC, and the public SHA-256 of logs written before it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
# The audit tables are made by the store's migrations (identity/migrations/0001_initial.sql).

KINDS = frozenset(
    {
        "notice_shown",
        "consent_given",
        "consent_renewed",
        "consent_withdrawn",
        "consent_expired",
        "consent_needs_renewal",
        "person_created",
        "person_updated",
        "enrolment",
        "credential_added",
        "credential_removed",
        "access",
        "export",
        "erasure",
        "config_changed",
        "retention_purge",
        "rows_sealed",  # identity/row_seal.py: the rows got their MACs (once per database)
        "guessing_attack",  # access/credential_gate.py: a method at a door was locked out
        # identity/access_records.py: who may open which door, and when
        "group_created",
        "group_changed",
        "group_removed",
        "groups_changed",  # a person's groups
        "validity_changed",  # a person's or a credential's from / until, uses, hours
        # identity/invitation_records.py: a resident's own way in to their pages
        "invitation_created",
        "invitation_revoked",
        "invitation_used",
        "consent_declined",  # the resident chose a PIN, card or phone key instead of a face
    }
)


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    seq: int
    ts: float
    kind: str
    subject: str | None
    door: str | None
    data: dict[str, Any]
    prev: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "subject": self.subject,
            "door": self.door,
            "data": self.data,
            "prev": self.prev,
            "hash": self.hash,
        }


@dataclass(frozen=True, kw_only=True)
class Verdict:
    ok: bool
    entries: int
    first_seq: int | None
    last_seq: int | None
    problem: str | None = None
    at_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "problem": self.problem,
            "at_seq": self.at_seq,
        }


def entry_hash(prev: str, *fields: object) -> str:
    """The unkeyed recipe of logs written before the anchor: sha256 over the previous hash and
    (seq, ts, kind, subject, door, data as JSON)."""
    body = json.dumps(list(fields), separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


def entry_mac(key: bytes, prev: str, *fields: object) -> str:
    """HMAC-SHA256 with the audit key over what entry_hash covers."""
    body = json.dumps(list(fields), separators=(",", ":"))
    return hmac.new(key, (prev + body).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def entry_of_row(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        ts=row["ts"],
        kind=row["kind"],
        subject=row["subject"],
        door=row["door"],
        data=json.loads(row["data"]),
        prev=row["prev"],
        hash=row["hash"],
    )


def broken(
    count: int, first: int | None, last: int | None, at: int | None, problem: str
) -> Verdict:
    return Verdict(
        ok=False, entries=count, first_seq=first, last_seq=last, problem=problem, at_seq=at
    )
