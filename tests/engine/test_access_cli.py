"""Access groups, validity and visitors from the command line (`facegate group|visitor`,
`facegate person groups|validity`), run as subprocesses against a real store; what they write
is what the engine's decision path reads."""

from __future__ import annotations

import json
import time
from pathlib import Path

from facegate.config import load
from facegate.identity.store import IdentityStore
from test_rights_cli import facegate  # the CLI as a subprocess, as there

CONFIG = """\
data_dir: data
timezone: Asia/Shanghai
mqtt: {host: 127.0.0.1}
doors:
  unit3:
    name: Building 3
    methods: [pin, card]
    lock: {command_topic: lock/unit3}
  gate:
    name: Main gate
    methods: [pin]
    lock: {command_topic: lock/gate}
"""


def _config(tmp_path: Path) -> str:
    path = tmp_path / "facegate.yaml"
    path.write_text(CONFIG)
    assert facegate("notice", "--config", str(path)).returncode == 0  # creates the store
    return str(path)


def _admit(config: str, person: str, door: str, credential: str | None = None) -> str | None:
    settings = load(Path(config))
    store = IdentityStore(settings.data_dir)
    try:
        return store.admit(
            person, door, credential_id=credential, now=time.time(), zone=settings.zone
        )
    finally:
        store.close()


def test_groups_and_a_person_s_groups_from_the_command_line(tmp_path: Path) -> None:
    config = _config(tmp_path)
    added = facegate("group", "add", "--config", config, "--name", "Building 3", "--door", "unit3")
    assert added.returncode == 0, added.stderr
    groups = json.loads(facegate("group", "list", "--config", config, "--json").stdout)
    building = next(g for g in groups if g["name"] == "Building 3")
    assert building["doors"] == ["unit3"] and not building["every_door"]
    wrong = facegate("group", "add", "--config", config, "--name", "Gate", "--door", "nope")
    assert wrong.returncode != 0 and "no door with id nope" in wrong.stderr

    store = IdentityStore(load(Path(config)).data_dir)
    person = store.add_person("Li Wei").id
    store.close()
    assert _admit(config, person, "gate") is None  # "All doors", as everyone by default
    moved = facegate(
        "person", "groups", "--config", config, "--person", person, "--group", building["id"]
    )
    assert moved.returncode == 0 and building["id"] in moved.stdout
    assert _admit(config, person, "unit3") is None
    assert _admit(config, person, "gate") == "not_allowed"
    limited = facegate(
        "person", "validity", "--config", config, "--person", person, "--until", "2020-01-01"
    )
    assert limited.returncode == 0, limited.stderr
    assert _admit(config, person, "unit3") == "expired"
    unknown = facegate("person", "groups", "--config", config, "--person", person, "--group", "x")
    assert unknown.returncode != 0 and "no access group with id x" in unknown.stderr


def test_a_visitor_code_is_printed_once_and_opens_only_its_group_s_doors(tmp_path: Path) -> None:
    config = _config(tmp_path)
    facegate("group", "add", "--config", config, "--name", "Main gate", "--door", "gate")
    groups = json.loads(facegate("group", "list", "--config", config, "--json").stdout)
    gate = next(g["id"] for g in groups if g["name"] == "Main gate")
    until = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 86400))
    made = facegate(
        "visitor", "add", "--config", config, "--name", "Courier Zhang", "--group", gate,
        "--until", until, "--uses", "1", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    visitor = json.loads(made.stdout)
    code = visitor["code"]
    assert "Main gate" in visitor["message"]["en"] and code in visitor["message"]["zh-Hans"]
    store = IdentityStore(load(Path(config)).data_dir)
    try:
        found = store.find_credential("pin", code)
        assert found is not None
        person, credential = found
        assert person.visitor and person.name == "Courier Zhang"
        # Kept only as its keyed hash: the code is nowhere in the database file.
        assert code.encode() not in store.path.read_bytes()
    finally:
        store.close()
    assert _admit(config, person.id, "unit3", credential.id) == "not_allowed"
    assert _admit(config, person.id, "gate", credential.id) is None
    assert _admit(config, person.id, "gate", credential.id) == "used_up"
    endless = facegate("visitor", "add", "--config", config, "--name", "Guest", "--group", gate)
    assert endless.returncode != 0 and "--until" in endless.stderr


def test_an_invitation_link_and_its_qr_code_from_the_command_line(tmp_path: Path) -> None:
    config = _config(tmp_path)
    store = IdentityStore(load(Path(config)).data_dir)
    person = store.add_person("Li Wei").id
    store.close()
    made = facegate("person", "invite", "--config", config, "--person", person)
    assert made.returncode == 0, made.stderr
    url = next(w for w in made.stdout.split() if w.startswith("http"))
    assert url.startswith("http://127.0.0.1:8766/invite/") and len(url.rsplit("/", 1)[1]) >= 43
    assert "█" in made.stdout  # the QR code, drawn in the terminal
    store = IdentityStore(load(Path(config)).data_dir)
    try:
        session, _token = store.redeem(url.rsplit("/", 1)[1])
        assert session.person_id == person
    finally:
        store.close()
    unknown = facegate("person", "invite", "--config", config, "--person", "nobody")
    assert unknown.returncode != 0 and "no person with id nobody" in unknown.stderr
