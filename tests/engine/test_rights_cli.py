"""A resident's rights through the command line: `facegate audit verify|purge`,
`facegate person export|erase|withdraw` and `facegate notice`, run as subprocesses against a
store filled through the real identity-store API (no models needed: templates are random unit
vectors, sealed like any other)."""

from __future__ import annotations

import hmac
import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from facegate.audit_records import entry_hash
from facegate.config import load
from facegate.errors import TamperError
from facegate.identity.store import AUDIT_HEAD_NAME, AUDIT_KEY_NAME, DB_NAME, IdentityStore
from facegate.notice import build_notice, publish_notice

CONFIG = """\
data_dir: data
mqtt: {host: 127.0.0.1}
cameras: {cam: {source: "rtsp://127.0.0.1:1/door"}}
doors:
  front_door:
    name: Front door
    camera: cam
    methods: [face, pin, card]
    lock: {command_topic: lock/set}
"""
PIN = "482913"
DAY = 86400.0


def facegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "facegate.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write_config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "facegate.yaml"
    path.write_text(CONFIG)
    return path


@dataclass
class Resident:
    id: str
    name: str
    audit_ref: str
    sealed: bytes  # the sealed template as stored
    lookup: str  # the credential's keyed hash as stored


def add_resident(
    config_path: Path, name: str, *, pin: str | None = None, given_at: float | None = None
) -> Resident:
    """A person with consent, one face template and optionally a PIN, and two door decisions,
    all through the identity store's own API."""
    config = load(config_path)
    store = IdentityStore(config.data_dir)
    try:
        notice = build_notice(config, store.groups())
        publish_notice(store, notice)
        person = store.add_person(name)
        store.give_consent(
            person.id,
            notice_version=notice.version,
            method="signed_name",
            signer=name,
            now=given_at,
        )
        vector = np.random.default_rng(7).standard_normal(320).astype(np.float32)
        store.add_template(person.id, vector / np.linalg.norm(vector), embedder=config.embedder)
        if pin is not None:
            store.add_credential(person.id, "pin", pin, label="front door keypad")
        for result in ("granted", "denied"):
            store.record_access(
                {
                    "door": "front_door",
                    "method": "face",
                    "result": result,
                    "reason": "match" if result == "granted" else "unknown",
                    "score": 0.61,
                    "latency_ms": 31.0,
                    "person": {"id": person.id, "name": name} if result == "granted" else None,
                }
            )
    finally:
        store.close()
    db = sqlite3.connect(config.data_dir / DB_NAME)
    (sealed,) = db.execute(
        "SELECT sealed FROM templates WHERE person_id = ?", (person.id,)
    ).fetchone()
    row = db.execute("SELECT lookup FROM credentials WHERE person_id = ?", (person.id,)).fetchone()
    db.close()
    return Resident(person.id, name, person.audit_ref, bytes(sealed), row[0] if row else "")


def sql(config_path: Path, *statements: str) -> None:
    db = sqlite3.connect(load(config_path).data_dir / DB_NAME, isolation_level=None)
    for statement in statements:
        db.execute(statement)
    db.close()


def last_seq(config_path: Path) -> int:
    db = sqlite3.connect(load(config_path).data_dir / DB_NAME)
    (seq,) = db.execute("SELECT max(seq) FROM audit").fetchone()
    db.close()
    return int(seq)


@pytest.fixture
def populated(tmp_path: Path) -> Path:
    """A data directory with two residents and their audit trail; returns the config path."""
    config = write_config(tmp_path / "base")
    add_resident(config, "Wang Fang", pin="610374")
    add_resident(config, "Li Jing", pin="826159")
    return config


def rehash_from(config: Path, seq: int, *, recipe=entry_hash) -> None:
    """What a forger who knows the (public) hash recipe would do after an edit."""
    db = sqlite3.connect(load(config).data_dir / DB_NAME, isolation_level=None)
    row = db.execute("SELECT hash FROM audit WHERE seq = ?", (seq - 1,)).fetchone()
    prev = row[0] if row else "0" * 64
    rows = db.execute(
        "SELECT seq, ts, kind, subject, door, data FROM audit WHERE seq >= ? ORDER BY seq", (seq,)
    ).fetchall()
    for number, ts, kind, subject, door, data in rows:
        digest = recipe(prev, number, ts, kind, subject, door, data)
        db.execute("UPDATE audit SET prev = ?, hash = ? WHERE seq = ?", (prev, digest, number))
        prev = digest
    db.close()


def copy_of(populated: Path, directory: Path) -> Path:
    """A separate installation holding the same data: one per tampering."""
    shutil.copytree(populated.parent, directory)
    return directory / populated.name


def test_r11_audit_verify_detects_edit_removal_and_reorder(populated: Path, tmp_path: Path):
    intact = facegate("audit", "verify", "--config", str(populated))
    assert intact.returncode == 0, intact.stderr
    last = last_seq(populated)
    assert f"audit log intact: {last} entries (seq 1 to {last})" in intact.stdout
    verdict = json.loads(facegate("audit", "verify", "--config", str(populated), "--json").stdout)
    assert verdict["ok"] is True and verdict["entries"] == last

    cases = {
        "edit": (
            lambda c: sql(c, """UPDATE audit SET data = '{"result":"granted"}' WHERE seq = 3"""),
            "BROKEN at entry 3: entry 3 was altered after it was written",
        ),
        "removal": (
            lambda c: sql(c, "DELETE FROM audit WHERE seq = 4"),
            "BROKEN at entry 5: entry 4 is missing (next is 5)",
        ),
        "reorder": (
            lambda c: sql(
                c,
                "UPDATE audit SET seq = -1 WHERE seq = 5",
                "UPDATE audit SET seq = 5 WHERE seq = 6",
                "UPDATE audit SET seq = 6 WHERE seq = -1",
            ),
            "BROKEN at entry 5: entry 5 does not follow entry 4",
        ),
        "tail removal": (
            lambda c: sql(c, f"DELETE FROM audit WHERE seq = {last}"),
            f"BROKEN at entry {last}: entries after {last - 1} up to {last} were removed",
        ),
        # The hashes are keyed: recomputing them by the public recipe mends nothing.
        "edit with every later hash recomputed": (
            lambda c: (
                sql(c, """UPDATE audit SET data = '{"result":"granted"}' WHERE seq = 3"""),
                rehash_from(c, 3),
            ),
            "BROKEN at entry 3: entry 3 was altered after it was written",
        ),
        "insertion with every later hash recomputed": (
            lambda c: (
                sql(
                    c,
                    "UPDATE audit SET seq = seq + 100 WHERE seq > 4",
                    "UPDATE audit SET seq = seq - 99 WHERE seq > 100",
                    "INSERT INTO audit SELECT 5, ts, kind, subject, door, data, prev, hash "
                    "FROM audit WHERE seq = 4",
                ),
                rehash_from(c, 5),
            ),
            "BROKEN at entry 5: entry 5 was altered after it was written",
        ),
    }
    for index, (name, (tamper, expected)) in enumerate(cases.items()):
        config = copy_of(populated, tmp_path / f"case{index}")
        tamper(config)
        result = facegate("audit", "verify", "--config", str(config))
        assert result.returncode == 1, f"{name}: {result.stdout}{result.stderr}"
        assert expected in result.stdout, f"{name}: {result.stdout}"
        assert "Traceback" not in result.stderr


def test_r11_a_forged_chain_is_neither_extended_nor_signed(populated: Path, tmp_path: Path):
    """The attack that once passed: edit an entry, re-chain every later one, and let the engine
    append one more so that it signs the forged tail. It now refuses to write at all."""
    config = copy_of(populated, tmp_path / "forged")
    data_dir = load(config).data_dir
    last = last_seq(config)
    head_before = (data_dir / AUDIT_HEAD_NAME).read_bytes()
    sql(config, """UPDATE audit SET data = '{"result":"denied"}' WHERE seq = 3""")
    rehash_from(config, 3)
    with pytest.raises(TamperError, match=f"no longer holds entry {last}"):
        add_resident(config, "Sun Mei")
    assert last_seq(config) == last  # nothing was added
    assert (data_dir / AUDIT_HEAD_NAME).read_bytes() == head_before  # nothing was signed
    result = facegate("audit", "verify", "--config", str(config))
    assert result.returncode == 1
    assert "BROKEN at entry 3: entry 3 was altered after it was written" in result.stdout


def test_r11_an_old_unkeyed_log_is_anchored_on_upgrade(populated: Path, tmp_path: Path):
    """A log written with the old public recipe is verified once and anchored: it stays
    verifiable, new entries are keyed, and re-chaining the old part no longer verifies."""
    config = copy_of(populated, tmp_path / "legacy")
    data_dir = load(config).data_dir
    old_last = last_seq(config)
    # What an installation of the previous release holds: the same entries, hashed without a
    # key, no anchor, and a head signed by that release.
    rehash_from(config, 1)
    sql(config, "DELETE FROM audit_anchor")
    db = sqlite3.connect(data_dir / DB_NAME)
    (tail_hash,) = db.execute("SELECT hash FROM audit WHERE seq = ?", (old_last,)).fetchone()
    db.close()
    key = (data_dir / AUDIT_KEY_NAME).read_bytes()
    message = f"head|{old_last}|{tail_hash}".encode()
    head = {"seq": old_last, "hash": tail_hash, "sig": hmac.new(key, message, "sha256").hexdigest()}
    (data_dir / AUDIT_HEAD_NAME).write_text(json.dumps(head))

    add_resident(config, "Sun Mei")  # opens the store: anchors, then appends keyed entries
    verdict = json.loads(facegate("audit", "verify", "--config", str(config), "--json").stdout)
    assert verdict["ok"] is True and verdict["last_seq"] > old_last, verdict
    db = sqlite3.connect(data_dir / DB_NAME)
    assert db.execute("SELECT keyed_from, hash FROM audit_anchor").fetchone() == (
        old_last + 1,
        tail_hash,
    )
    db.close()

    forged = copy_of(config, tmp_path / "legacy_forged")
    sql(forged, """UPDATE audit SET data = '{"result":"denied"}' WHERE seq = 3""")
    rehash_from(forged, 3)  # the old entries, then the keyed ones, by the public recipe
    result = facegate("audit", "verify", "--config", str(forged))
    assert result.returncode == 1
    assert f"BROKEN at entry {old_last + 1}" in result.stdout


def test_r11_purge_keeps_the_chain_verifiable(tmp_path: Path):
    config = write_config(tmp_path / "install")
    now = time.time()
    old = add_resident(config, "Zhao Lei", given_at=now - 40 * DAY)
    db = sqlite3.connect(load(config).data_dir / DB_NAME)
    (old_through,) = db.execute(
        "SELECT max(seq) FROM audit WHERE ts < ?", (now - 30 * DAY,)
    ).fetchone()
    db.close()
    recent = add_resident(config, "Chen Jie")
    before = last_seq(config)

    result = facegate("audit", "purge", "--config", str(config), "--older-than-days", "30")
    assert result.returncode == 0, result.stderr
    assert f"purged {old_through} audit entries older than 30 days" in result.stdout
    assert "audit log intact" in result.stdout
    verify = facegate("audit", "verify", "--config", str(config), "--json")
    verdict = json.loads(verify.stdout)
    assert verify.returncode == 0, verify.stdout
    assert verdict["first_seq"] == old_through + 1
    assert verdict["last_seq"] == before + 1  # the purge itself is an entry
    assert verdict["entries"] == before - old_through + 1

    # The recent resident's trail survived, and the chain still takes new entries.
    export = json.loads(
        facegate("person", "export", "--config", str(config), "--person", recent.id).stdout
    )
    assert {"consent_given", "enrolment"} <= {e["kind"] for e in export["audit"]}
    assert old.id  # the old resident's early entries are the ones that went
    add_resident(config, "Sun Li")
    assert facegate("audit", "verify", "--config", str(config)).returncode == 0

    # The checkpoint that replaces the purged entries cannot be edited or slipped past.
    forged = copy_of(config, tmp_path / "forged")
    sql(forged, "UPDATE audit_checkpoint SET hash = '" + "0" * 64 + "'")
    result = facegate("audit", "verify", "--config", str(forged))
    assert result.returncode == 1
    assert "the retention checkpoint's signature is wrong" in result.stdout
    cut = copy_of(config, tmp_path / "cut")
    sql(cut, f"DELETE FROM audit WHERE seq = {old_through + 1}")
    result = facegate("audit", "verify", "--config", str(cut))
    assert result.returncode == 1
    assert f"entry {old_through + 1} is missing" in result.stdout


def test_r11_purge_refuses_a_broken_chain(populated: Path):
    sql(populated, """UPDATE audit SET data = '{}' WHERE seq = 2""")
    entries = last_seq(populated)
    result = facegate("audit", "purge", "--config", str(populated), "--older-than-days", "0")
    assert result.returncode == 1
    assert "refusing to purge" in result.stderr
    assert "entry 2 was altered" in result.stderr
    # The evidence is still there, and still reported.
    assert last_seq(populated) == entries
    verify = facegate("audit", "verify", "--config", str(populated))
    assert "BROKEN at entry 2" in verify.stdout


def test_r7_erase_prints_a_receipt_and_leaves_no_bytes(tmp_path: Path):
    config = write_config(tmp_path / "install")
    data_dir = load(config).data_dir
    IdentityStore(data_dir).close()
    # The database stays open elsewhere throughout, as it is while the engine runs, so the
    # WAL is not removed when a command exits: erased rows must not survive in it either.
    elsewhere = sqlite3.connect(data_dir / DB_NAME)
    elsewhere.execute("SELECT count(*) FROM people").fetchone()
    name = "Canary Resident 金丝雀"
    person = add_resident(config, name, pin=PIN)
    neighbour = add_resident(config, "Zhou Min", pin="392847")
    assert (data_dir / (DB_NAME + "-wal")).stat().st_size > 0

    # Export first (R11): everything held, never a secret or a vector, readable by us alone.
    out = tmp_path / "export.json"
    export = facegate(
        "person", "export", "--config", str(config), "--person", person.id, "--out", str(out)
    )
    assert export.returncode == 0, export.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["person"]["name"] == name
    assert len(document["consents"]) == 1 and len(document["templates"]) == 1
    assert [c["kind"] for c in document["credentials"]] == ["pin"]
    assert set(document["templates"][0]) == {"id", "embedder", "consent_id", "created_at"}
    assert {"consent_given", "enrolment", "credential_added", "access", "export"} <= {
        e["kind"] for e in document["audit"]
    }
    assert PIN not in out.read_text() and person.lookup not in out.read_text()

    erase = facegate("person", "erase", "--config", str(config), "--person", person.id)
    assert erase.returncode == 0, erase.stderr
    receipt = json.loads(erase.stdout)
    assert receipt["reason"] == "request"
    assert receipt["deleted"] == {
        "templates": 1,
        "credentials": 1,
        "consents": 1,
        "memberships": 1,
        "person": 1,
    }
    assert len(receipt["receipt_id"]) == 32
    assert abs(receipt["erased_at"] - time.time()) < 60

    # Gone from the file itself, not just from the tables: no name, no template, no
    # credential hash, no id, in the database or its WAL.
    files = sorted(data_dir.glob(DB_NAME + "*"))
    assert {data_dir / DB_NAME, data_dir / (DB_NAME + "-wal")} <= set(files)
    stored = b"".join(path.read_bytes() for path in files)
    middle = len(person.sealed) // 2
    for label, needle in {
        "name": name.encode(),
        "name's Chinese part": "金丝雀".encode(),
        "sealed template": person.sealed,
        "32 bytes of the sealed template": person.sealed[middle : middle + 32],
        "credential hash": person.lookup.encode(),
        "person id": person.id.encode(),
    }.items():
        assert needle not in stored, f"the erased person's {label} is still in {files}"
    # The neighbour is untouched; the erased person's entries stay, under a pseudonym that
    # nothing links to anyone any more; and the chain still verifies.
    assert neighbour.sealed in stored
    db = sqlite3.connect(data_dir / DB_NAME)
    assert db.execute(
        "SELECT count(*) FROM people WHERE audit_ref = ?", (person.audit_ref,)
    ).fetchone() == (0,)
    kinds = [
        r[0] for r in db.execute("SELECT kind FROM audit WHERE subject = ?", (person.audit_ref,))
    ]
    db.close()
    assert kinds[-1] == "erasure" and "consent_given" in kinds
    assert facegate("audit", "verify", "--config", str(config)).returncode == 0
    elsewhere.close()
    again = facegate("person", "export", "--config", str(config), "--person", person.id)
    assert again.returncode == 2
    assert f"no person with id {person.id}" in again.stderr


def test_r6_withdraw_in_one_step_deletes_templates_and_keeps_credentials(tmp_path: Path):
    config = write_config(tmp_path / "install")
    person = add_resident(config, "Wu Hao", pin=PIN)
    result = facegate("person", "withdraw", "--config", str(config), "--person", person.id)
    assert result.returncode == 0, result.stderr
    assert "consent withdrawn for Wu Hao" in result.stdout
    assert "1 face template(s) deleted" in result.stdout
    db = sqlite3.connect(load(config).data_dir / DB_NAME)
    assert db.execute("SELECT count(*) FROM templates").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM credentials").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM consents WHERE withdrawn_at IS NULL").fetchone() == (0,)
    db.close()


def test_r1_notice_in_both_languages(tmp_path: Path):
    config = write_config(tmp_path / "install")
    english = facegate("notice", "--config", str(config))
    store = IdentityStore(load(config).data_dir)
    notice = build_notice(load(config), store.groups())  # every group's doors, "All doors" too
    store.close()
    chinese = facegate("notice", "--config", str(config), "--lang", "zh-Hans")
    assert english.returncode == 0 and chinese.returncode == 0, english.stderr + chinese.stderr
    assert english.stdout.startswith(notice.text["en"])
    assert chinese.stdout.startswith(notice.text["zh-Hans"])
    assert f"notice version {notice.version}" in english.stdout
    assert f"版本 {notice.version}" in chinese.stdout
    for line in (
        "Purpose:",
        "Method:",
        "Scope:",
        "Storage:",
        "Retention:",
        "Access:",
        "Withdrawal:",
    ):
        assert line in english.stdout
    assert "Front door: card, PIN code" in english.stdout  # the alternatives at each door
    assert "no ID-card number, title deed or phone number" in english.stdout
    for line in ("目的", "方式", "范围", "存储地点", "保存期限", "可查看者", "撤回方式"):
        assert line in chinese.stdout
    assert "Front door: 门禁卡、密码" in chinese.stdout
    assert "身份证号、房产证或手机号" in chinese.stdout

    as_json = json.loads(
        facegate("notice", "--config", str(config), "--json", "--lang", "zh-Hans").stdout
    )
    assert as_json == notice.to_json("zh-Hans")
    # Showing it is on the record, with the version shown (R11).
    db = sqlite3.connect(load(config).data_dir / DB_NAME)
    shown = [
        json.loads(r[0]) for r in db.execute("SELECT data FROM audit WHERE kind = 'notice_shown'")
    ]
    assert db.execute(
        "SELECT count(*) FROM notices WHERE version = ?", (notice.version,)
    ).fetchone() == (1,)
    db.close()
    assert shown == [{"version": notice.version}] * 3
    bad = facegate("notice", "--config", str(config), "--lang", "fr")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_rights_commands_refuse_a_data_dir_without_a_database(tmp_path: Path):
    config = write_config(tmp_path / "install")
    result = facegate("audit", "verify", "--config", str(config))
    assert result.returncode == 2
    assert "no facegate database at" in result.stderr
    assert not (tmp_path / "install" / "data").exists()  # and nothing was created
