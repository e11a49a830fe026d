"""The store's schema, as numbered SQL files applied in order (`NNNN_what.sql` beside this).

`PRAGMA user_version` says how far a database has come. Each migration runs in its own
transaction and sets that number with it, so a crash leaves the database at the last one that
completed; two processes opening the database at once take turns (BEGIN IMMEDIATE) and the
second finds the work done. A database from a newer facegate is refused, never written: this
code cannot know what that schema means. A new migration is a new file; a released one never
changes (tests/engine/fixtures/ keeps a database of the last release, which must still open).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from facegate.errors import FacegateError

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files(__name__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.number)
    if [m.number for m in found] != list(range(1, len(found) + 1)):
        raise FacegateError(f"the store's migrations are not numbered 1..{len(found)}")
    return found


def latest() -> int:
    return len(migrations())


def statements(sql: str) -> list[str]:
    """The script's statements, one by one (a trigger's body keeps its own semicolons)."""
    found, pending = [], ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                found.append(pending.strip())
            pending = ""
    if pending.strip() and not all(
        part.strip().startswith("--") for part in pending.strip().splitlines()
    ):
        raise FacegateError(f"an incomplete SQL statement ends a migration: {pending[:80]!r}")
    return found


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, path: Path) -> list[str]:
    """Brings the database at `path` (open on `db`, autocommit) up to this code's schema;
    the names of the migrations applied."""
    known = migrations()
    if version(db) > len(known):
        raise FacegateError(
            f"the database {path} was written by a newer facegate (schema {version(db)}; this "
            f"one knows up to {len(known)}): run that version, or restore a backup made by this "
            "one; nothing was changed"
        )
    applied = []
    for migration in known:
        db.execute("BEGIN IMMEDIATE")
        try:
            if version(db) >= migration.number:
                db.execute("ROLLBACK")
                continue
            for statement in statements(migration.sql):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {migration.number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        applied.append(migration.name)
    return applied
