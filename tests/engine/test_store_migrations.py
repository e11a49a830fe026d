"""The store's schema moves forward by numbered migrations (identity/migrations/)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from facegate.errors import FacegateError, TamperError
from facegate.identity.migrations import latest, migrations, statements
from facegate.identity.store import IdentityStore

RELEASE = Path(__file__).parent / "fixtures" / "release-343dce0" / "data"


def _copy_release(tmp_path: Path, source: Path = RELEASE) -> Path:
    data = tmp_path / "data"
    shutil.copytree(source, data)
    data.chmod(0o700)
    for path in data.iterdir():
        path.chmod(0o600)
    return data


def _version(data: Path) -> int:
    db = sqlite3.connect(data / "facegate.db")
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def test_a_database_of_the_last_release_is_brought_to_the_current_schema(tmp_path: Path) -> None:
    data = _copy_release(tmp_path)
    assert _version(data) == 0
    db = sqlite3.connect(data / "facegate.db")
    entries = [tuple(r) for r in db.execute("SELECT * FROM audit ORDER BY seq")]
    db.close()
    store = IdentityStore(data)
    people = store.people()
    assert sorted(p.name for p in people) == ["Chen Jie", "Wang Fang"]
    assert [len(store.consents(p.id)) for p in people] == [1, 1]
    assert [len(store.credentials(p.id)) for p in people] == [1, 1]
    assert store.template_count() == 2
    # Every entry of the old log is kept as it was, and the chain still verifies.
    kept = store.audit_entries(limit=1000)
    assert [(e.seq, e.kind, e.hash) for e in kept[: len(entries)]] == [
        (row[0], row[2], row[7]) for row in entries
    ]
    assert store.verify_audit().ok
    store.close()
    assert _version(data) == latest() >= 2
    # Opening it again applies nothing: the audit log has one sealing of the rows.
    again = IdentityStore(data)
    assert [e.kind for e in again.audit_entries()].count("rows_sealed") == 1
    again.close()
    assert _version(data) == latest()


def test_a_fresh_database_starts_at_the_latest_schema(tmp_path: Path) -> None:
    IdentityStore(tmp_path / "data").close()
    assert _version(tmp_path / "data") == latest()


def test_a_database_from_a_newer_facegate_is_refused_and_left_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    IdentityStore(data).close()
    db = sqlite3.connect(data / "facegate.db")
    db.execute(f"PRAGMA user_version = {latest() + 1}")
    db.close()
    before = (data / "facegate.db").read_bytes()
    with pytest.raises(FacegateError, match="newer facegate"):
        IdentityStore(data)
    assert (data / "facegate.db").read_bytes() == before


def test_migrations_are_numbered_from_one_and_split_into_whole_statements() -> None:
    found = migrations()
    assert [m.number for m in found] == list(range(1, len(found) + 1))
    trigger = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; END;"
    assert statements(f"-- a; comment\nCREATE TABLE a (x);\n{trigger}\n-- the end\n") == [
        "-- a; comment\nCREATE TABLE a (x);",
        trigger,
    ]


SCHEMA_2 = Path(__file__).parent / "fixtures" / "release-004ce9a" / "data"


def test_everyone_of_an_earlier_release_opens_every_door_after_the_upgrade(tmp_path: Path) -> None:
    """Migration 0003 (access groups): an installation of the last release keeps working —
    everyone is in "All doors", every sealed row still authenticates over its wider columns,
    and the PIN and card still open the door."""
    data = _copy_release(tmp_path, SCHEMA_2)
    assert _version(data) == 2
    store = IdentityStore(data)
    assert _version(data) == latest() >= 3
    people = {p.name: p.id for p in store.people()}
    assert sorted(people) == ["Chen Jie", "Wang Fang"]
    [group] = store.groups()
    assert (group.id, group.name, group.every_door, group.members) == (
        "all-doors",
        "All doors",
        True,
        2,
    )
    assert all(store.person_groups(pid) == ["all-doors"] for pid in people.values())
    assert store.tampered_rows() == {}
    found = store.find_credential("pin", "482913")
    assert found is not None and found[0].name == "Wang Fang"
    now = time.time()
    assert (
        store.admit(
            people["Wang Fang"], "front_door", credential_id=found[1].id, now=now, zone=None
        )
        is None
    )
    assert store.verify_audit().ok
    store.close()


def test_a_row_altered_before_the_upgrade_stays_refused_after_it(tmp_path: Path) -> None:
    """Re-sealing the widened rows must not launder an alteration made before (R8)."""
    data = _copy_release(tmp_path, SCHEMA_2)
    db = sqlite3.connect(data / "facegate.db")
    # Without the row key the trigger cannot run: the attacker drops it first.
    db.execute("DROP TRIGGER credentials_sealed_update")
    db.execute(
        "UPDATE credentials SET person_id = (SELECT id FROM people WHERE name = 'Chen Jie') "
        "WHERE kind = 'pin'"
    )
    db.commit()
    db.close()
    store = IdentityStore(data)
    assert list(store.tampered_rows()) == ["credentials"]
    with pytest.raises(TamperError):
        store.find_credential("pin", "482913")
    store.close()
