"""The rules as store behaviour: notice versions (R1), consent (R2, R3, R6), erasure (R7) and the
audit chain (R11). The HTTP API and the CLI expose the same operations; their own tests cover
the wire."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pytest
from facegate.config import parse
from facegate.errors import ConsentError, FacegateError
from facegate.identity.store import IdentityStore
from facegate.notice import build_notice, publish_notice


def _config(**door_overrides):
    door = {"camera": "cam", "methods": ["face", "pin"], "lock": {"command_topic": "l/set"}}
    door.update(door_overrides)
    return parse(
        {
            "data_dir": "data",
            "mqtt": {"host": "127.0.0.1"},
            "cameras": {"cam": {"source": "rtsp://127.0.0.1/x"}},
            "doors": {"front": door, "back": {"methods": ["pin"], "lock": {"command_topic": "b"}}},
        }
    )


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(320).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def store(tmp_path):
    store = IdentityStore(tmp_path / "data")
    yield store
    store.close()


@pytest.fixture
def notice(store):
    notice = build_notice(_config(), store.groups())
    publish_notice(store, notice)
    return notice


def _enrolled(store, notice, name="Wang Fang", seed=1):
    person = store.add_person(name)
    store.give_consent(person.id, notice_version=notice.version, method="signed_name", signer=name)
    store.add_template(person.id, _vector(seed), embedder="fused")
    return person


def test_r1_notice_is_bilingual_and_names_what_the_rules_require():
    notice = build_notice(_config(), ())
    assert set(notice.text) == {"en", "zh-Hans"}
    english, chinese = notice.text["en"], notice.text["zh-Hans"]
    for topic in ("Purpose", "Method", "Scope", "Storage", "Retention", "Access", "Withdrawal"):
        assert topic in english
    for topic in ("目的", "方式", "范围", "存储", "保存期限", "可查看者", "撤回"):
        assert topic in chinese
    assert "PIN" in english and "密码" in chinese  # the alternatives at each door


def test_r1_wording_changes_the_version_but_only_scope_changes_require_renewal():
    base = build_notice(_config(), ())
    renamed = build_notice(_config(name="Main entrance"), ())
    assert renamed.version != base.version
    assert renamed.scope == base.scope
    more_faces = _config()
    more_faces.doors["back"] = more_faces.doors["front"].__class__(
        **{**vars(more_faces.doors["back"]), "methods": frozenset({"face", "pin"}), "camera": "cam"}
    )
    assert build_notice(more_faces, ()).scope != base.scope


def test_r1_a_change_of_scope_stops_face_unlock_until_renewal(store, notice):
    person = _enrolled(store, notice)
    assert len(store.load_templates("fused").templates) == 1
    wider = _config()
    wider.doors["back"] = wider.doors["front"].__class__(
        **{**vars(wider.doors["back"]), "methods": frozenset({"face", "pin"}), "camera": "cam"}
    )
    new_notice = build_notice(wider, store.groups())
    assert publish_notice(store, new_notice) == 1
    assert store.live_consent(person.id) is None
    assert store.load_templates("fused").templates == []
    with pytest.raises(ConsentError, match="unknown"):
        store.renew_consent(person.id, notice_version="not-a-notice")
    store.renew_consent(person.id, notice_version=new_notice.version)
    assert len(store.load_templates("fused").templates) == 1


def test_r2_consent_must_name_a_notice_the_person_was_shown(store, notice):
    person = store.add_person("Li Jing")
    with pytest.raises(ConsentError, match="notice version"):
        store.give_consent(person.id, notice_version="made-up", method="checkbox", signer="Li")
    assert store.consents(person.id) == []


def test_r3_a_child_under_14_needs_a_guardian(store, notice):
    child = store.add_person("Xiao Ming", birth_year=dt.date.today().year - 9)
    with pytest.raises(ConsentError, match="R3"):
        store.give_consent(
            child.id, notice_version=notice.version, method="signed_name", signer="Xiao Ming"
        )
    flagged = store.add_person("Xiao Hong", minor=True)
    with pytest.raises(ConsentError, match="R3"):
        store.give_consent(
            flagged.id, notice_version=notice.version, method="checkbox", signer="Xiao Hong"
        )
    consent = store.give_consent(
        child.id,
        notice_version=notice.version,
        method="signed_name",
        signer="Wang Fang",
        guardian="Wang Fang (mother)",
    )
    assert consent.guardian == "Wang Fang (mother)"
    teen = store.add_person("Zhang San", birth_year=dt.date.today().year - 16)
    store.give_consent(
        teen.id, notice_version=notice.version, method="signed_name", signer="Zhang San"
    )


def test_r6_expiry_deletes_templates_and_renewal_extends(store, notice):
    person = store.add_person("Zhao Lei")
    consent = store.give_consent(
        person.id, notice_version=notice.version, method="signed_name", signer="Zhao Lei", days=30
    )
    store.add_template(person.id, _vector(2), embedder="fused")
    renewed = store.renew_consent(person.id, notice_version=notice.version, days=365)
    assert renewed.expires_at > consent.expires_at
    assert renewed.renewed_at is not None
    assert store.expire_consents(now=renewed.expires_at - 1) == 0
    assert store.expire_consents(now=renewed.expires_at + 1) == 1
    assert store.template_count(person.id) == 0
    kinds = [e.kind for e in store.audit_entries()]
    assert "consent_renewed" in kinds and "consent_expired" in kinds


def test_r7_erasure_leaves_a_receipt_and_an_unlinkable_pseudonym(store, notice, tmp_path):
    person = _enrolled(store, notice, name="Zhou Xiuying", seed=3)
    store.add_credential(person.id, "pin", "583920", label="keypad")
    store.add_credential(person.id, "card", "04:A2:2B:1C")
    db = sqlite3.connect(store.path)
    (sealed,) = db.execute("SELECT sealed FROM templates").fetchone()
    db.close()
    receipt = store.erase_person(person.id)
    assert receipt.deleted == {
        "templates": 1,
        "credentials": 2,
        "consents": 1,
        "memberships": 1,
        "person": 1,
    }
    assert receipt.reason == "request"
    with pytest.raises(FacegateError):
        store.person(person.id)
    entries = store.audit_entries()
    erasure = [e for e in entries if e.kind == "erasure"]
    assert erasure and erasure[0].data["receipt_id"] == receipt.receipt_id
    # The entries about the person remain, under a pseudonym nothing links back to.
    assert {e.subject for e in entries if e.kind not in ("config_changed", "rows_sealed")} == {
        person.audit_ref
    }
    assert all(person.id not in str(e.data) and "Zhou" not in str(e.data) for e in entries)
    assert store.verify_audit().ok
    raw = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("facegate.db*"))
    assert b"Zhou Xiuying" not in raw
    assert sealed not in raw
    assert person.audit_ref.encode() in raw  # still there, but nothing names its owner


def test_r7_move_out_date_is_honoured(store, notice):
    person = store.add_person("Sun Li", leaves_on="2030-06-30")
    assert store.people_moving_out(dt.date(2030, 6, 29)) == []
    assert [p.id for p in store.people_moving_out(dt.date(2030, 6, 30))] == [person.id]
    with pytest.raises(FacegateError, match="not a date"):
        store.add_person("Bad Date", leaves_on="next week")


def test_r11_export_has_everything_held_and_no_secrets(store, notice):
    person = _enrolled(store, notice, name="Qian Wei", seed=4)
    store.add_credential(person.id, "pin", "740361", label="keypad")
    document = store.export_person(person.id)
    assert document["person"]["name"] == "Qian Wei"
    assert len(document["consents"]) == 1
    assert document["credentials"][0] == {
        **document["credentials"][0],
        "kind": "pin",
        "label": "keypad",
    }
    assert set(document["templates"][0]) == {"id", "embedder", "consent_id", "created_at"}
    kinds = [e["kind"] for e in document["audit"]]
    assert kinds[:4] == ["person_created", "consent_given", "enrolment", "credential_added"]
    assert kinds[-1] == "export"
    text = str(document)
    assert "740361" not in text and "scrypt" not in text and "sealed" not in text


def test_r11_audit_chain_detects_edits_removals_reordering_and_truncation(store, notice):
    for seed in range(3):
        _enrolled(store, notice, name=f"Person {seed}", seed=seed)
    assert store.verify_audit().ok
    db = sqlite3.connect(store.path)

    def verdict():
        return store.verify_audit()

    db.execute("UPDATE audit SET data = '{\"templates_deleted\":0}' WHERE seq = 4")
    db.commit()
    broken = verdict()
    assert not broken.ok and broken.at_seq == 4 and "altered" in broken.problem
    store_path = store.path
    db.close()

    fresh = IdentityStore(store_path.parent.parent / "other")
    publish_notice(fresh, notice)
    for seed in range(3):
        _enrolled(fresh, notice, name=f"P{seed}", seed=seed)
    other = sqlite3.connect(fresh.path)
    other.execute("DELETE FROM audit WHERE seq = 5")
    other.commit()
    assert "missing" in fresh.verify_audit().problem
    other.execute("UPDATE audit SET seq = 5 WHERE seq = 6")
    other.commit()
    assert not fresh.verify_audit().ok
    other.close()
    fresh.close()

    tail = IdentityStore(store_path.parent.parent / "tail")
    publish_notice(tail, notice)
    _enrolled(tail, notice, name="T", seed=9)
    last = tail.audit_entries()[-1].seq
    cut = sqlite3.connect(tail.path)
    cut.execute("DELETE FROM audit WHERE seq = ?", (last,))
    cut.commit()
    cut.close()
    truncated = tail.verify_audit()
    assert not truncated.ok and "removed" in truncated.problem
    tail.close()


def test_r11_retention_purge_keeps_the_chain_verifiable(store, notice):
    for seed in range(3):
        _enrolled(store, notice, name=f"Person {seed}", seed=seed)
    before = store.audit_entries()
    assert store.purge_audit(older_than_days=-1) == len(before) - 1
    after = store.audit_entries()
    assert after[0].seq == before[-1].seq
    assert after[-1].kind == "retention_purge"
    assert store.verify_audit().ok
    db = sqlite3.connect(store.path)
    db.execute("UPDATE audit_checkpoint SET hash = ?", ("f" * 64,))
    db.commit()
    db.close()
    assert "checkpoint" in store.verify_audit().problem


def _engine(tmp_path, models_dir, methods=("pin",)):
    from facegate.engine import Engine
    from facegate.mqtt import MqttLink

    config = parse(
        {
            "data_dir": str(tmp_path / "engine"),
            "models_dir": str(models_dir),
            "mqtt": {"host": "127.0.0.1", "port": 1},
            "doors": {"front": {"methods": list(methods), "lock": {"command_topic": "l/set"}}},
        }
    )
    # The link is never started: these tests exercise the engine's own bookkeeping.
    return Engine(config, MqttLink(host="127.0.0.1", port=1, client_id="unused"))


def test_r11_a_changed_configuration_is_audited_once(tmp_path, models_dir):
    first = _engine(tmp_path, models_dir)
    first.store.close()
    again = _engine(tmp_path, models_dir)
    again.store.close()
    changed = _engine(tmp_path, models_dir, methods=("pin", "card"))
    entries = changed.store.audit_entries()
    configs = [e for e in entries if e.kind == "config_changed" and "config" in e.data]
    assert len(configs) == 2
    assert configs[1].data["previous"] == configs[0].data["config"]
    assert changed.store.verify_audit().ok
    changed.store.close()


def test_r7_housekeeping_erases_people_who_moved_out(tmp_path, models_dir):
    engine = _engine(tmp_path, models_dir)
    store = engine.store
    leaving = store.add_person("Leaving", leaves_on="2030-01-31")
    staying = store.add_person("Staying")
    store.add_credential(leaving.id, "card", "04AABBCC")
    engine.housekeeping(today=dt.date(2030, 1, 30))
    assert {p.id for p in store.people()} == {leaving.id, staying.id}
    engine.housekeeping(today=dt.date(2030, 1, 31))
    assert [p.id for p in store.people()] == [staying.id]
    erasure = [e for e in store.audit_entries() if e.kind == "erasure"]
    assert erasure[0].data["reason"] == "move_out"
    assert erasure[0].data["deleted"]["credentials"] == 1
    store.close()


def test_r6_withdrawal_by_another_process_stops_the_running_engine_at_once(tmp_path, models_dir):
    import time as clock

    engine = _engine(tmp_path, models_dir)
    notice = engine.notice
    person = engine.store.add_person("Ma Li")
    engine.store.give_consent(
        person.id, notice_version=notice.version, method="signed_name", signer="Ma Li"
    )
    engine.store.add_template(person.id, _vector(7), embedder=engine.config.embedder)
    engine.start()
    try:
        assert len(engine.gallery()) == 1
        # What `facegate person withdraw` does: its own connection to the same database.
        other = IdentityStore(engine.config.data_dir)
        other.withdraw_consent(person.id)
        other.close()
        deadline = clock.monotonic() + 5
        while len(engine.gallery()) and clock.monotonic() < deadline:
            clock.sleep(0.1)
        assert len(engine.gallery()) == 0
    finally:
        engine.stop()
