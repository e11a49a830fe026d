"""The tamper-evident audit log (R11): append-only, chained, verifiable by anyone with admin
rights (the audit key is in the data directory, readable by the engine's user only).

Each entry's hash is a MAC, keyed with the audit key, over its sequence number, time, kind,
subject, door and data, plus the hash of the entry before it: an edited, removed, inserted or
reordered entry breaks the chain at that point, and without the key nobody can compute the
hashes that would mend it. The signed head, kept in a file outside the database after every
commit, names the tail's sequence number and hash: a truncated tail, or an entry at the head
that is not the one signed, is caught wherever the head stands, and the log refuses to grow a
chain that no longer holds the entry its head signed.

Logs written before the chain was keyed (plain SHA-256, which anyone can recompute) are
verified once on upgrade and anchored: a signed record of the last such entry's hash, from
which the keyed chain goes on; any later change to the old entries no longer reaches it.
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
from pathlib import Path
from typing import Any

from facegate.audit_records import (
    GENESIS,
    KINDS,
    AuditEntry,
    Head,
    Verdict,
    broken,
    entry_hash,
    entry_mac,
    entry_of_row,
)
from facegate.errors import TamperError


class AuditLog:
    """Works inside the identity store's transactions, so an action and its entry commit
    together or not at all."""

    def __init__(self, key: bytes, head_path: Path) -> None:
        self._key = key
        self._head_path = head_path
        self._keyed_from: int | None = None  # None: an old log that could not be anchored
        self._head: Head | None = None  # the last head this process signed or read

    def _sign(self, *parts: object) -> str:
        message = "|".join(str(p) for p in parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def open(self, db: sqlite3.Connection) -> None:
        """Loads the anchor (anchoring an old unkeyed log once, if it verifies) and the head."""
        anchor = db.execute("SELECT keyed_from, hash, sig FROM audit_anchor").fetchone()
        if anchor is None:
            tail = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            if tail is None:
                tail = db.execute("SELECT seq, hash FROM audit_checkpoint").fetchone()
            keyed_from, follows = (tail[0] + 1, tail[1]) if tail else (1, GENESIS)
            if tail is not None and not self._verify(db, keyed_from=None).ok:
                # Anchoring would vouch for the tampering: leave the old log as it is, to be
                # inspected; it is reported broken and is not extended.
                self._keyed_from = None
                self._head = self._signed_head()
                return
            # Another process opening the same store at the same moment anchors the same place.
            db.execute(
                "INSERT OR IGNORE INTO audit_anchor VALUES (1, ?, ?, ?)",
                (keyed_from, follows, self._sign("anchor", keyed_from, follows)),
            )
            anchor = db.execute("SELECT keyed_from, hash, sig FROM audit_anchor").fetchone()
        self._keyed_from = int(anchor[0])
        self._head = self._signed_head()

    def _hash(self, prev: str, seq: int, *fields: object) -> str:
        if self._keyed_from is not None and seq >= self._keyed_from:
            return entry_mac(self._key, prev, seq, *fields)
        return entry_hash(prev, seq, *fields)

    def _check_tail(self, db: sqlite3.Connection) -> None:
        """Refuses to go on from a chain that no longer holds the entry its head signed."""
        if self._keyed_from is None:
            raise TamperError("the audit log was broken before it was anchored; not extending it")
        on_file = self._signed_head()
        heads = [h for h in (self._head, on_file) if h is not None]
        if not heads:
            return
        head = max(heads, key=lambda h: h.seq)
        row = db.execute("SELECT hash FROM audit WHERE seq = ?", (head.seq,)).fetchone()
        if row is None or not hmac.compare_digest(row[0], head.hash):
            raise TamperError(
                f"the audit log no longer holds entry {head.seq} as its signed head recorded "
                "it; not extending it (run `facegate audit verify`)"
            )

    def append(
        self,
        db: sqlite3.Connection,
        kind: str,
        *,
        subject: str | None = None,
        door: str | None = None,
        data: dict[str, Any] | None = None,
        now: float | None = None,
    ) -> AuditEntry:
        if kind not in KINDS:
            raise ValueError(f"unknown audit entry kind {kind!r}")
        self._check_tail(db)
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
        digest = self._hash(prev, seq, ts, kind, subject, door, data_json)
        db.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, ts, kind, subject, door, data_json, prev, digest),
        )
        return AuditEntry(
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
        """Records the signed tail after a commit: a deleted tail cannot go unnoticed. A tail
        that no longer grows from the last head is not signed: that would vouch for it."""
        row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None or (self._head is not None and row[0] == self._head.seq):
            return
        try:
            self._check_tail(db)
        except TamperError:
            return
        payload = {"seq": row[0], "hash": row[1], "sig": self._sign("head", row[0], row[1])}
        partial = self._head_path.with_suffix(".part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(payload, handle)
        partial.replace(self._head_path)
        self._head = Head(seq=row[0], hash=row[1])

    def entries(
        self,
        db: sqlite3.Connection,
        *,
        subject: str | None = None,
        after: int = 0,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        if subject is None:
            rows = db.execute(
                "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
            ).fetchall()
        else:
            rows = db.execute(
                "SELECT * FROM audit WHERE subject = ? AND seq > ? ORDER BY seq LIMIT ?",
                (subject, after, limit),
            ).fetchall()
        return [entry_of_row(r) for r in rows]

    def verify(self, db: sqlite3.Connection) -> Verdict:
        anchor = db.execute("SELECT keyed_from, hash, sig FROM audit_anchor").fetchone()
        if anchor is not None and not hmac.compare_digest(
            anchor[2], self._sign("anchor", anchor[0], anchor[1])
        ):
            return broken(0, None, None, anchor[0], "the audit anchor's signature is wrong")
        return self._verify(db, keyed_from=None if anchor is None else (anchor[0], anchor[1]))

    def _verify(self, db: sqlite3.Connection, *, keyed_from: tuple[int, str] | None) -> Verdict:
        checkpoint = db.execute("SELECT seq, hash, ts, sig FROM audit_checkpoint").fetchone()
        expected_seq, prev = 1, GENESIS
        if checkpoint is not None:
            if not hmac.compare_digest(checkpoint[3], self._sign("checkpoint", *checkpoint[:3])):
                return broken(
                    0, None, None, checkpoint[0], "the retention checkpoint's signature is wrong"
                )
            expected_seq, prev = checkpoint[0] + 1, checkpoint[1]
        head = self._read_head()
        count, first, last = 0, None, None
        for row in db.execute("SELECT * FROM audit ORDER BY seq"):
            entry = entry_of_row(row)
            problem = self._entry_problem(
                entry,
                row["data"],
                expected_seq=expected_seq,
                prev=prev,
                keyed_from=keyed_from,
                head=head,
            )
            if problem is not None:
                return broken(count, first, last, entry.seq, problem)
            prev, expected_seq = entry.hash, entry.seq + 1
            count, first, last = count + 1, first or entry.seq, entry.seq
        problem, at = self._head_problem(head, count, first, last, anchored=keyed_from is not None)
        if problem is not None:
            return broken(count, first, last, at, problem)
        return Verdict(ok=True, entries=count, first_seq=first, last_seq=last)

    def _entry_problem(
        self,
        entry: AuditEntry,
        data_json: str,
        *,
        expected_seq: int,
        prev: str,
        keyed_from: tuple[int, str] | None,
        head: dict[str, Any] | None,
    ) -> str | None:
        if entry.seq != expected_seq:
            return f"entry {expected_seq} is missing (next is {entry.seq})"
        follows = entry.prev == prev
        if keyed_from is not None and entry.seq == keyed_from[0]:
            follows = follows and entry.prev == keyed_from[1]  # where the anchor says it goes on
        if not follows:
            return f"entry {entry.seq} does not follow entry {entry.seq - 1}"
        fields = (entry.seq, entry.ts, entry.kind, entry.subject, entry.door, data_json)
        keyed = keyed_from is not None and entry.seq >= keyed_from[0]
        recomputed = (
            entry_mac(self._key, entry.prev, *fields) if keyed else entry_hash(entry.prev, *fields)
        )
        if not hmac.compare_digest(recomputed, entry.hash):
            return f"entry {entry.seq} was altered after it was written"
        if head is not None and head.get("seq") == entry.seq and head.get("hash") != entry.hash:
            return f"entry {entry.seq} was replaced"  # the signed head recorded another
        return None

    def _head_problem(
        self,
        head: dict[str, Any] | None,
        count: int,
        first: int | None,
        last: int | None,
        *,
        anchored: bool,
    ) -> tuple[str | None, int | None]:
        if head is None:
            # Every commit writes the head; an old, unanchored log may predate it.
            return ("the signed head file is missing", None) if count and anchored else (None, None)
        seq = head.get("seq")
        if not hmac.compare_digest(str(head.get("sig")), self._sign("head", seq, head.get("hash"))):
            return "the signed head file was altered", None
        if not isinstance(seq, int) or last is None or seq > last:
            return f"entries after {last or 0} up to {seq} were removed", (
                seq if isinstance(seq, int) else None
            )
        if first is not None and seq < first:
            return "the signed head names a purged entry", seq
        return None, None

    def _signed_head(self) -> Head | None:
        head = self._read_head()
        if head is None:
            return None
        seq, digest = head.get("seq"), head.get("hash")
        if not isinstance(seq, int) or not isinstance(digest, str):
            raise TamperError("the audit log's signed head file is unreadable")
        if not hmac.compare_digest(str(head.get("sig")), self._sign("head", seq, digest)):
            raise TamperError("the audit log's signed head file was altered")
        return Head(seq=seq, hash=digest)

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
