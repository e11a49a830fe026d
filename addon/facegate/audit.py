"""The tamper-evident audit log (R11): append-only, hash-chained, verifiable by anyone with
admin rights.

Each entry's hash covers its sequence number, time, kind, subject, door and data, plus the hash
of the entry before it, so an edited, removed or reordered entry breaks the chain at that
point. A truncated tail is caught by the signed head kept in a file outside the database.
Entries name people only by their audit pseudonym: when a person is erased the link from
pseudonym to person is deleted with them, and their old entries stay verifiable but unlinkable
(R7). A retention purge removes the oldest entries and leaves a signed checkpoint of the last
purged hash, from which the chain is verified onward.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    door TEXT,
    data TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_subject ON audit(subject);
CREATE TABLE IF NOT EXISTS audit_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    ts REAL NOT NULL,
    sig TEXT NOT NULL
);
"""
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
    }
)


@dataclass(frozen=True, kw_only=True)
class Entry:
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
    """sha256 over the previous hash and (seq, ts, kind, subject, door, data as JSON)."""
    body = json.dumps(list(fields), separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


class AuditLog:
    """Works inside the identity store's transactions, so an action and its entry commit
    together or not at all."""

    def __init__(self, key: bytes, head_path: Path) -> None:
        self._key = key
        self._head_path = head_path

    def _sign(self, *parts: object) -> str:
        message = "|".join(str(p) for p in parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def append(
        self,
        db: sqlite3.Connection,
        kind: str,
        *,
        subject: str | None = None,
        door: str | None = None,
        data: dict[str, Any] | None = None,
        now: float | None = None,
    ) -> Entry:
        if kind not in KINDS:
            raise ValueError(f"unknown audit entry kind {kind!r}")
        row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            checkpoint = db.execute("SELECT seq, hash FROM audit_checkpoint").fetchone()
            seq, prev = (checkpoint[0] + 1, checkpoint[1]) if checkpoint else (1, GENESIS)
        else:
            seq, prev = row[0] + 1, row[1]
        ts = round(time.time() if now is None else now, 3)
        data_json = json.dumps(
            data or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        digest = entry_hash(prev, seq, ts, kind, subject, door, data_json)
        db.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, ts, kind, subject, door, data_json, prev, digest),
        )
        return Entry(
            seq=seq,
            ts=ts,
            kind=kind,
            subject=subject,
            door=door,
            data=data or {},
            prev=prev,
            hash=digest,
        )

    def write_head(self, db: sqlite3.Connection) -> None:
        """Records the signed tail after a commit: a deleted tail cannot go unnoticed."""
        row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return
        payload = {"seq": row[0], "hash": row[1], "sig": self._sign("head", row[0], row[1])}
        partial = self._head_path.with_suffix(".part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(payload, handle)
        partial.replace(self._head_path)

    def entries(
        self,
        db: sqlite3.Connection,
        *,
        subject: str | None = None,
        after: int = 0,
        limit: int = 1000,
    ) -> list[Entry]:
        if subject is None:
            rows = db.execute(
                "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
            ).fetchall()
        else:
            rows = db.execute(
                "SELECT * FROM audit WHERE subject = ? AND seq > ? ORDER BY seq LIMIT ?",
                (subject, after, limit),
            ).fetchall()
        return [_entry(r) for r in rows]

    def verify(self, db: sqlite3.Connection) -> Verdict:
        checkpoint = db.execute("SELECT seq, hash, ts, sig FROM audit_checkpoint").fetchone()
        expected_seq, prev = 1, GENESIS
        if checkpoint is not None:
            if not hmac.compare_digest(checkpoint[3], self._sign("checkpoint", *checkpoint[:3])):
                return Verdict(
                    ok=False,
                    entries=0,
                    first_seq=None,
                    last_seq=None,
                    problem="the retention checkpoint's signature is wrong",
                    at_seq=checkpoint[0],
                )
            expected_seq, prev = checkpoint[0] + 1, checkpoint[1]
        count, first, last = 0, None, None
        for row in db.execute("SELECT * FROM audit ORDER BY seq"):
            entry = _entry(row)
            if entry.seq != expected_seq:
                return _broken(
                    count,
                    first,
                    last,
                    entry.seq,
                    f"entry {expected_seq} is missing (next is {entry.seq})",
                )
            if entry.prev != prev:
                return _broken(
                    count,
                    first,
                    last,
                    entry.seq,
                    f"entry {entry.seq} does not follow entry {entry.seq - 1}",
                )
            recomputed = entry_hash(
                entry.prev, entry.seq, entry.ts, entry.kind, entry.subject, entry.door, row["data"]
            )
            if recomputed != entry.hash:
                return _broken(
                    count,
                    first,
                    last,
                    entry.seq,
                    f"entry {entry.seq} was altered after it was written",
                )
            prev, expected_seq = entry.hash, entry.seq + 1
            count, first, last = count + 1, first or entry.seq, entry.seq
        head = self._read_head()
        if head is not None:
            if not hmac.compare_digest(
                str(head.get("sig")), self._sign("head", head.get("seq"), head.get("hash"))
            ):
                return _broken(count, first, last, None, "the signed head file was altered")
            if last is None or head["seq"] > last:
                return _broken(
                    count,
                    first,
                    last,
                    head["seq"],
                    f"entries after {last or 0} up to {head['seq']} were removed",
                )
            if head["seq"] == last and head["hash"] != prev:
                return _broken(count, first, last, last, f"entry {last} was replaced")
        return Verdict(ok=True, entries=count, first_seq=first, last_seq=last)

    def _read_head(self) -> dict[str, Any] | None:
        try:
            loaded = json.loads(self._head_path.read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            return {"sig": "unreadable"}
        return loaded if isinstance(loaded, dict) else {"sig": "unreadable"}

    def purge_before(self, db: sqlite3.Connection, cutoff: float) -> int:
        """Deletes the oldest entries written before `cutoff`; keeps the chain verifiable."""
        row = db.execute("SELECT max(seq) FROM audit WHERE ts < ?", (cutoff,)).fetchone()
        last = row[0]
        newest = db.execute("SELECT max(seq) FROM audit").fetchone()[0]
        if last is None or last == newest:
            # The newest entry is never purged: the chain needs a live tail to hang from.
            last = None if last is None else last - 1
        if not last:
            return 0
        head = db.execute("SELECT hash, ts FROM audit WHERE seq = ?", (last,)).fetchone()
        removed = db.execute("DELETE FROM audit WHERE seq <= ?", (last,)).rowcount
        ts = head[1]
        db.execute(
            "INSERT OR REPLACE INTO audit_checkpoint VALUES (1, ?, ?, ?, ?)",
            (last, head[0], ts, self._sign("checkpoint", last, head[0], ts)),
        )
        self.append(db, "retention_purge", data={"removed": removed, "through_seq": last})
        return int(removed)


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        seq=row["seq"],
        ts=row["ts"],
        kind=row["kind"],
        subject=row["subject"],
        door=row["door"],
        data=json.loads(row["data"]),
        prev=row["prev"],
        hash=row["hash"],
    )


def _broken(
    count: int, first: int | None, last: int | None, at: int | None, problem: str
) -> Verdict:
    return Verdict(
        ok=False, entries=count, first_seq=first, last_seq=last, problem=problem, at_seq=at
    )
