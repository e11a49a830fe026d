"""Reads that see one moment of the store, at a cost that does not grow with the people."""

from __future__ import annotations

from pathlib import Path

from facegate.identity.store import IdentityStore


def test_everyone_is_read_at_one_moment_in_the_same_few_queries(tmp_path: Path) -> None:
    """The people list and the event stream's snapshot do not cost a query per person."""
    store = IdentityStore(tmp_path / "data")
    store.record_notice(version="n1", scope="face:door", text_en="n", text_zh="n")
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)  # the store's own connection

    def count(people: int) -> int:
        while len(store.people()) < people:
            person = store.add_person(f"Resident {len(store.people()) + 1}")
            store.give_consent(person.id, notice_version="n1", method="checkbox", signer="R")
            store.add_credential(person.id, "card", f"CARD-{person.id[:12]}")
        statements.clear()
        overviews = store.overviews()
        assert len(overviews) == people
        assert all(len(o.consents) == 1 and len(o.credentials) == 1 for o in overviews)
        return len(statements)

    assert count(2) == count(25) <= 7  # BEGIN, five reads, COMMIT
    store.close()
