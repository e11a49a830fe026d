"""A keyed MAC over the meaning of every person, consent and credential row (R8).

Templates are sealed with AES-GCM (seal.py); the rows that decide who a template or a PIN
belongs to, and whether a consent is live, need the same protection: re-pointing a PIN row to
another person must not open the door under that person's name, and pushing a consent's
expiry past the 3-year cap must not keep it live. Each row carries `mac`, an HMAC-SHA256 with
the row key over its table and every other column; a row whose MAC does not match is refused
where it is used and reported in health.

The MAC is written by SQLite triggers that call a function this module registers on the
store's own connection, so no write path can forget it — and a write through any other
connection (an editor, a script) fails or leaves a row that no longer matches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3

from facegate.errors import TamperError

FORMAT = "fg-row1"
SQL_FUNCTION = "facegate_row_mac"
# Declared once: the columns each sealed table's MAC covers, in order. `mac` itself is not one.
SEALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "people": (
        "id",
        "audit_ref",
        "name",
        "birth_year",
        "minor",
        "leaves_on",
        "disabled_methods",
        "created_at",
        "valid_from",
        "valid_until",
        "max_uses",
        "uses",
        "schedule",
        "visitor",
    ),
    "consents": (
        "id",
        "person_id",
        "notice_version",
        "method",
        "signer",
        "witness",
        "guardian",
        "entered_by",
        "given_at",
        "expires_at",
        "renewed_at",
        "withdrawn_at",
        "needs_renewal",
    ),
    "credentials": (
        "id",
        "person_id",
        "kind",
        "label",
        "lookup",
        "created_at",
        "valid_from",
        "valid_until",
        "max_uses",
        "uses",
        "schedule",
    ),
    # Who may open which door (migration 0003): a membership slipped in, or a door added to a
    # group, outside the engine opens nothing.
    "access_groups": ("id", "name", "doors", "every_door", "created_at"),
    "memberships": ("id", "group_id", "person_id", "created_at"),
}
# The audit entry that says the rows were sealed: once the (keyed) audit log holds it, a row
# without a MAC is a tampered row, never one to adopt.
SEALED_KIND = "rows_sealed"


def mac_call(table: str, alias: str) -> str:
    """The SQL expression of a row's expected MAC, `alias` naming the row (NEW, p, c ...)."""
    columns = ", ".join(f"{alias}.{column}" for column in SEALED_COLUMNS[table])
    return f"{SQL_FUNCTION}('{table}', {columns})"


def sound(table: str, alias: str) -> str:
    """The SQL expression that is 1 when the row's MAC matches, 0 when not."""
    return f"coalesce({alias}.mac = {mac_call(table, alias)}, 0)"


def triggers() -> str:
    statements = []
    for table, columns in SEALED_COLUMNS.items():
        new = mac_call(table, "NEW")
        # Table and column names come from SEALED_COLUMNS above, never from input.
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_sealed_insert AFTER INSERT ON {table} "  # noqa: S608
            f"BEGIN UPDATE {table} SET mac = {new} WHERE rowid = NEW.rowid; END;"
        )
        # An engine write to a row that was already altered keeps it refused: resealing it
        # would launder the alteration (a renewal of a consent whose expiry was pushed out).
        # Only the sealed columns: the trigger's own update of `mac` must not fire it again.
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_sealed_update AFTER UPDATE OF "  # noqa: S608
            f"{', '.join(columns)} ON {table} BEGIN UPDATE {table} SET mac = CASE WHEN "
            f"{sound(table, 'OLD')} THEN {new} ELSE NULL END WHERE rowid = NEW.rowid; END;"
        )
    return "\n".join(statements)


class RowSealer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def mac(self, table: str, *values: object) -> str:
        body = json.dumps([FORMAT, table, *values], separators=(",", ":"), ensure_ascii=False)
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def register(self, db: sqlite3.Connection) -> None:
        """The MAC function on the store's connection: before migrating, since a migration
        that writes or widens sealed rows seals them itself (0003)."""
        db.create_function(SQL_FUNCTION, -1, self.mac, deterministic=True)

    def install(self, db: sqlite3.Connection) -> bool:
        """The triggers in the file (the `mac` columns come from migrations 0002 and 0003).
        True when the file had the triggers already (its rows are sealed: none is ever
        adopted again)."""
        names = {
            f"{table}_sealed_{when}" for table in SEALED_COLUMNS for when in ("insert", "update")
        }
        found = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
        db.executescript(triggers())
        return names <= {row[0] for row in found}

    def adopt(self, db: sqlite3.Connection) -> dict[str, int]:
        """Seals the rows of a database written before rows were sealed (once: the caller
        checks the audit log for an earlier SEALED_KIND entry); returns how many per table."""
        counts = {}
        for table in SEALED_COLUMNS:
            counts[table] = db.execute(
                f"UPDATE {table} SET mac = {mac_call(table, table)} WHERE mac IS NULL"  # noqa: S608
            ).rowcount
        return counts

    def check(self, table: str, row: sqlite3.Row) -> None:
        """Raises TamperError for a row whose MAC does not match."""
        expected = self.mac(table, *(row[column] for column in SEALED_COLUMNS[table]))
        stored = row["mac"]
        if not (isinstance(stored, str) and hmac.compare_digest(stored, expected)):
            raise TamperError(
                f"{table} row {row['id']} failed authentication: it was changed outside the "
                "engine; it is refused (R8)"
            )
