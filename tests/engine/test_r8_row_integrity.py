"""People, consents and credentials carry a keyed MAC (R8): a row changed on disk, by anyone
without the row key, is refused where it is used and reported in health.

The attacker here has the SQLite file and this source code, not the key: they write with their
own connection, registering a stand-in for the engine's MAC function (or dropping the triggers
that call it), exactly as an editor or a script would.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from conftest_keypad import CARD, DOOR, PIN
from facegate.errors import TamperError
from facegate.identity.records import MAX_CONSENT_DAYS
from facegate.identity.row_seal import SEALED_KIND, SQL_FUNCTION
from facegate.identity.store import IdentityStore

pytest_plugins = ["conftest_mqtt", "conftest_keypad"]

RELEASE = Path(__file__).parent / "fixtures" / "release-343dce0" / "data"
EMBEDDER = "mobilefacenet"


def _edit(data_dir: Path, sql: str, args: tuple[object, ...] = ()) -> None:
    """A write by someone who has the file but not the key."""
    db = sqlite3.connect(data_dir / "facegate.db")
    db.create_function(SQL_FUNCTION, -1, lambda *_values: "0" * 64)
    with db:
        assert db.execute(sql, args).rowcount == 1
    db.close()


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _resident(store: IdentityStore, name: str, seed: int) -> str:
    store.record_notice(version="n1", scope="face:door", text_en="n", text_zh="n")
    person = store.add_person(name)
    store.give_consent(person.id, notice_version="n1", method="signed_name", signer=name)
    store.add_template(person.id, _unit(seed), embedder=EMBEDDER)
    return person.id


def test_r8_a_pin_row_pointed_at_another_person_opens_nothing(make_door) -> None:
    door = make_door()
    wang = door.resident("Wang Fang", pin=PIN)
    chen = door.resident("Chen Jie")
    door.start()
    assert door.present_and_wait("pin", PIN)["person"]["id"] == wang
    _edit(door.engine.config.data_dir, "UPDATE credentials SET person_id = ?", (chen,))
    event = door.present_and_wait("pin", PIN)
    # Before: the door opened under Chen's name. Now nobody's: the row is refused.
    assert (event["result"], event["reason"], event["person"]) == ("denied", "tampered", None)
    time.sleep(0.3)
    assert len(door.locks()) == 1  # the first, honest, grant only
    (credential,) = door.store.tampered_rows()["credentials"]
    assert door.store.credentials(chen) == []
    assert door.store.credentials(wang) == []
    # The administrator can still remove it, and the holder's own rights still reach them.
    assert door.store.export_person(chen)["person"]["id"] == chen
    door.store.erase_person(chen)
    assert door.store.tampered_rows() == {}
    assert credential


def test_r8_a_consent_pushed_past_the_cap_is_not_live(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = IdentityStore(data)
    wang = _resident(store, "Wang Fang", 1)
    chen = _resident(store, "Chen Jie", 2)
    assert len(store.load_templates(EMBEDDER).templates) == 2
    consent = store.live_consent(wang)
    assert consent is not None
    forever = consent.given_at + 10 * MAX_CONSENT_DAYS * 86400.0
    _edit(data, "UPDATE consents SET expires_at = ? WHERE id = ?", (forever, consent.id))
    # The face of the altered consent no longer opens anything; the other resident's does.
    loaded = store.load_templates(EMBEDDER)
    assert [t.person_id for t in loaded.templates] == [chen]
    assert len(loaded.refused) == 1 and "outside the engine" in str(loaded.refused[0])
    assert store.live_consent(wang) is None
    assert store.consents(wang) == []
    with pytest.raises(TamperError):
        store.renew_consent(wang, notice_version="n1")
    # An engine write to the row (a notice of another scope marks consents for renewal) does
    # not launder it: it stays refused.
    assert store.require_renewal_outside("face:other") == 2
    assert store.tampered_rows() == {"consents": [consent.id]}
    store.close()
    # Nor does a restart.
    again = IdentityStore(data)
    assert again.tampered_rows() == {"consents": [consent.id]}
    assert again.verify_audit().ok
    again.close()


def test_r8_a_row_stripped_of_its_mac_is_not_adopted_on_the_next_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = IdentityStore(data)
    wang = store.add_person("Wang Fang").id
    store.close()
    # Without the key the attacker cannot compute a MAC; dropping the triggers and clearing the
    # column, hoping the engine takes the row for one written before MACs, does not help.
    db = sqlite3.connect(data / "facegate.db")
    with db:
        for name in [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ]:
            db.execute(f"DROP TRIGGER {name}")
        db.execute("UPDATE people SET name = 'Someone Else', mac = NULL")
    db.close()
    store = IdentityStore(data)
    with pytest.raises(TamperError, match="outside the engine"):
        store.person(wang)
    assert store.people() == []
    assert store.tampered_rows() == {"people": [wang]}
    assert [e.kind for e in store.audit_entries()].count(SEALED_KIND) == 1
    store.close()


def test_r8_a_database_of_the_last_release_is_sealed_once_and_keeps_everything(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    shutil.copytree(RELEASE, data)
    data.chmod(0o700)
    for key in data.iterdir():
        key.chmod(0o600)
    store = IdentityStore(data)
    people = {p.name: p.id for p in store.people()}
    assert sorted(people) == ["Chen Jie", "Wang Fang"]
    assert all(store.live_consent(pid) is not None for pid in people.values())
    assert len(store.load_templates(EMBEDDER).templates) == 2
    found = store.find_credential("pin", PIN)
    assert found is not None and found[0].name == "Wang Fang"
    found = store.find_credential("card", CARD)
    assert found is not None and found[0].name == "Chen Jie"
    assert store.tampered_rows() == {}
    assert store.verify_audit().ok
    sealed = [e for e in store.audit_entries() if e.kind == SEALED_KIND]
    # The access tables came sealed with migration 0003: nothing of theirs was left to adopt.
    assert [e.data for e in sealed] == [
        {"people": 2, "consents": 2, "credentials": 2, "access_groups": 0, "memberships": 0}
    ]
    assert all(store.person_groups(pid) == ["all-doors"] for pid in people.values())
    assert any(e.kind == "access" and e.door == DOOR for e in store.audit_entries())
    store.close()
    # Sealed once: the next start adopts nothing, and a later edit is caught.
    _edit(data, "UPDATE people SET minor = 0 WHERE id = ?", (people["Chen Jie"],))
    store = IdentityStore(data)
    assert [e.kind for e in store.audit_entries()].count(SEALED_KIND) == 1
    assert store.tampered_rows() == {"people": [people["Chen Jie"]]}
    store.close()
