"""The identity store: consent before templates (R2), sealed templates (R8), withdrawal (R6/R7)."""

import sqlite3
import stat

import numpy as np
import pytest
from facegate.errors import ConsentError, TamperError
from facegate.identity.keys import load_or_create_key
from facegate.identity.seal import TemplateSealer
from facegate.identity.store import IdentityStore


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(192).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def store(tmp_path):
    store = IdentityStore(tmp_path / "data")
    store.record_notice(version="abc", scope="s1", text_en="notice", text_zh="告知")
    yield store
    store.close()


def _consented(store: IdentityStore, name: str = "Wang Fang"):
    person = store.add_person(name)
    store.give_consent(person.id, notice_version="abc", method="signed_name", signer=name)
    return person


def test_r2_no_template_without_consent(store):
    person = store.add_person("Li Jing")
    with pytest.raises(ConsentError, match="R2"):
        store.add_template(person.id, _vector(1), embedder="mobilefacenet")
    assert store.template_count() == 0


def test_r8_template_round_trips_sealed(store, tmp_path):
    person = _consented(store)
    store.add_template(person.id, _vector(2), embedder="mobilefacenet")
    loaded = store.load_templates("mobilefacenet")
    assert loaded.refused == []
    np.testing.assert_array_equal(loaded.templates[0].vector, _vector(2))
    raw = sqlite3.connect(store.path).execute("SELECT sealed FROM templates").fetchone()[0]
    assert _vector(2).astype("<f4").tobytes() not in raw  # not stored in clear
    for name in ("facegate.db", "template.key"):
        assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600


def test_r8_tampered_template_is_refused(store):
    person = _consented(store)
    store.add_template(person.id, _vector(3), embedder="mobilefacenet")
    db = sqlite3.connect(store.path)
    (blob,) = db.execute("SELECT sealed FROM templates").fetchone()
    flipped = bytearray(blob)
    flipped[-20] ^= 0x01
    db.execute("UPDATE templates SET sealed = ?", (bytes(flipped),))
    db.commit()
    loaded = store.load_templates("mobilefacenet")
    assert loaded.templates == []
    assert len(loaded.refused) == 1
    assert "failed authentication" in str(loaded.refused[0])


def test_r8_template_moved_to_another_person_is_refused(store):
    ann, bob = _consented(store, "Ann"), _consented(store, "Bob")
    store.add_template(ann.id, _vector(4), embedder="mobilefacenet")
    db = sqlite3.connect(store.path)
    db.execute("UPDATE templates SET person_id = ?", (bob.id,))
    db.commit()
    loaded = store.load_templates("mobilefacenet")
    assert loaded.templates == [] and len(loaded.refused) == 1


def test_r8_key_readable_by_others_is_refused(tmp_path):
    key_path = tmp_path / "template.key"
    load_or_create_key(key_path)
    key_path.chmod(0o644)
    with pytest.raises(TamperError, match="chmod 600"):
        load_or_create_key(key_path)


def test_r8_wrong_key_cannot_open_a_template():
    blob = TemplateSealer(b"k" * 32).seal(_vector(5), template_id="t", person_id="p", embedder="e")
    with pytest.raises(TamperError):
        TemplateSealer(b"x" * 32).open(blob, template_id="t", person_id="p", embedder="e")


def test_r6_withdrawal_deletes_templates_and_stops_matching(store):
    person = _consented(store)
    store.add_template(person.id, _vector(6), embedder="mobilefacenet")
    assert store.withdraw_consent(person.id) == 1
    assert store.template_count() == 0
    assert store.live_consent(person.id) is None
    with pytest.raises(ConsentError):
        store.add_template(person.id, _vector(6), embedder="mobilefacenet")


def test_r6_expired_consent_templates_are_not_loaded(store):
    person = store.add_person("Zhang Wei")
    store.give_consent(
        person.id, notice_version="abc", method="signed_name", signer="Zhang Wei", days=1, now=0.0
    )
    assert store.live_consent(person.id) is None
    assert store.load_templates("mobilefacenet").templates == []


def test_r6_consent_is_never_unlimited(store):
    person = store.add_person("Chen Jie")
    with pytest.raises(ConsentError, match="never unlimited"):
        store.give_consent(
            person.id, notice_version="abc", method="signed_name", signer="Chen Jie", days=100 * 365
        )


def test_r2_paper_consent_needs_a_witness(store):
    person = store.add_person("Zhao Lei")
    with pytest.raises(ConsentError, match="witness"):
        store.give_consent(person.id, notice_version="abc", method="paper", signer="Zhao Lei")
