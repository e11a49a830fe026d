"""Who may open which door, and when, at real keypads: the real engine, a real mosquitto, the
codes typed on zigbee2mqtt keypads and the lock commands and signed events on the broker.

Two doors: the front door of "Building 3" and the compound's back gate, each with a keypad.
The clock the engine reads for validity and schedules is the test's, where a test needs a
particular moment (a Tuesday, a daylight-saving Sunday); the rest runs on the real clock.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest_keypad import ACCESS_TOPIC, DOOR, KEYPAD, LOCK_TOPIC, PIN, READER, TAGS, Door
from conftest_mqtt import Mosquitto
from facegate.config import parse
from facegate.identity.validity import Validity, Window, moment, time_zone

pytest_plugins = ["conftest_mqtt", "conftest_keypad"]

GATE = "back_gate"
GATE_KEYPAD = "zigbee2mqtt/gate_keypad"
GATE_LOCK = "test/gate_lock/set"
GATE_ACCESS = f"facegate/{GATE}/access"


class Clock:
    """The wall clock the engine's access decisions read; the test moves it."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def _config(tmp_path: Path, models_dir: Path, port: int, timezone: str) -> dict[str, object]:
    return {
        "data_dir": str(tmp_path / "data"),
        "models_dir": str(models_dir),
        "timezone": timezone,
        "mqtt": {"host": "127.0.0.1", "port": port},
        "doors": {
            DOOR: {
                "name": "Building 3",
                "methods": ["pin", "card", "tag"],
                "lock": {"command_topic": LOCK_TOPIC},
                "credential_inputs": [
                    {"topic": KEYPAD, "kind": "pin", "json_key": "action_code"},
                    {"topic": READER, "kind": "card"},
                    {"topic": TAGS, "kind": "tag"},
                ],
            },
            GATE: {
                "name": "Back gate",
                "methods": ["pin"],
                "lock": {"command_topic": GATE_LOCK},
                "credential_inputs": [
                    {"topic": GATE_KEYPAD, "kind": "pin", "json_key": "action_code"}
                ],
            },
        },
    }


@pytest.fixture
def make_doors(tmp_path: Path, models_dir: Path, mosquitto: Mosquitto) -> Iterator[Callable]:
    made: list[Door] = []

    def make(clock: Callable[[], float] = time.time, timezone: str = "Asia/Shanghai") -> Door:
        config = parse(_config(tmp_path, models_dir, mosquitto.port, timezone))
        door = Door(config, mosquitto, clock)
        made.append(door)
        return door

    yield make
    for door in made:
        door.stop()


def _type(door: Door, where: str, code: str) -> dict[str, object]:
    """Types `code` on the keypad of `where`; the signed event that door answers with."""
    keypad, access = (KEYPAD, ACCESS_TOPIC) if where == DOOR else (GATE_KEYPAD, GATE_ACCESS)
    seen = len(door.watch.on(access))
    door.keys.publish(keypad, json.dumps({"action": "disarm", "action_code": code}))
    assert door.watch.wait_for(lambda m: len([x for x in m if x.topic == access]) > seen, 5)
    return json.loads(door.watch.on(access)[seen].text)


def _visitor(door: Door, code: str, validity: Validity, groups: list[str]) -> str:
    visitor = door.store.add_person("Courier Zhang", groups=groups, visitor=True)
    door.store.add_credential(visitor.id, "pin", code, "courier", validity)
    return visitor.id


def test_a_resident_of_one_group_is_let_in_at_its_door_and_refused_at_another(make_doors):
    door = make_doors()
    building = door.store.add_group("Building 3", [DOOR], known=[DOOR, GATE])
    li = door.store.add_person("Li Wei", groups=[building.id])
    door.store.add_credential(li.id, "pin", PIN)
    door.start()

    granted = _type(door, DOOR, PIN)
    assert (granted["result"], granted["reason"]) == ("granted", "match")
    refused = _type(door, GATE, PIN)
    assert (refused["result"], refused["reason"]) == ("denied", "not_allowed")
    assert refused["person"] == {"id": li.id, "name": "Li Wei"}  # a real code, at a wrong door
    time.sleep(0.3)
    assert [m.text for m in door.watch.on(LOCK_TOPIC)] == ["UNLOCK"]
    assert door.watch.on(GATE_LOCK) == []
    # A code that is real is not a guess: the gate's keypad counts no failure.
    gate = door.engine.credential_gate
    assert gate is not None and gate.stats(GATE)["failures"] == 0
    access = [e.data for e in door.store.audit_entries() if e.kind == "access"]
    assert [(e["result"], e["reason"]) for e in access] == [
        ("granted", "match"),
        ("denied", "not_allowed"),
    ]
    # A person in no group opens nothing at all.
    door.store.set_groups(li.id, [])
    assert _type(door, DOOR, PIN)["reason"] == "not_allowed"


def test_a_visitor_code_opens_only_in_its_hours_and_stops_after_its_last_use(make_doors):
    zone = time_zone("Asia/Shanghai")
    clock = Clock(moment("2026-12-08T07:59", zone))  # a Tuesday, a minute early
    door = make_doors(clock)
    code = "70318264"
    cleaner = Validity(
        valid_until=moment("2026-12-31", zone, end=True),
        max_uses=2,
        schedule=(Window.parse("tue 08:00-12:00"),),
    )
    visitor = _visitor(door, code, cleaner, ["all-doors"])
    door.start()

    assert _type(door, DOOR, code)["reason"] == "outside_schedule"
    clock.at = moment("2026-12-08T10:00", zone)
    assert _type(door, DOOR, code)["reason"] == "match"
    clock.at = moment("2026-12-09T10:00", zone)  # Wednesday
    assert _type(door, GATE, code)["reason"] == "outside_schedule"
    clock.at = moment("2026-12-15T11:59", zone)  # the next Tuesday
    assert _type(door, GATE, code)["reason"] == "match"
    assert _type(door, DOOR, code)["reason"] == "used_up"
    time.sleep(0.3)
    assert len(door.watch.on(LOCK_TOPIC)) == 1 and len(door.watch.on(GATE_LOCK)) == 1
    [credential] = door.store.credentials(visitor)
    assert (credential.validity.uses, credential.validity.max_uses) == (2, 2)
    assert door.store.tampered_rows() == {}  # every use was written through the sealed row


def test_a_code_that_expires_while_the_engine_runs_is_refused_without_a_restart(make_doors):
    door = make_doors()
    ends = time.time() + 2.0
    _visitor(door, "58194451", Validity(valid_until=ends), ["all-doors"])
    door.start()
    assert _type(door, DOOR, "58194451")["reason"] == "match"
    time.sleep(max(0.0, ends - time.time()) + 0.1)
    expired = _type(door, DOOR, "58194451")
    assert (expired["result"], expired["reason"]) == ("denied", "expired")


def test_a_schedule_across_a_daylight_saving_change_behaves_as_written(make_doors):
    """Berlin, Sunday 29 March 2026, the clocks go forward: "sun 08:00-09:00" opens at 08:00
    on the wall (06:00 UTC that day, 07:00 UTC the Sunday before)."""
    clock = Clock(moment("2026-03-22T07:30+00:00", None))  # 08:30 CET
    door = make_doors(clock, timezone="Europe/Berlin")
    code = "61830472"
    _visitor(
        door,
        code,
        Validity(
            valid_until=moment("2026-12-31", None), schedule=(Window.parse("sun 08:00-09:00"),)
        ),
        ["all-doors"],
    )
    door.start()
    assert _type(door, DOOR, code)["reason"] == "match"
    clock.at = moment("2026-03-29T07:30+00:00", None)  # 09:30 CEST: the window has closed
    assert _type(door, DOOR, code)["reason"] == "outside_schedule"
    clock.at = moment("2026-03-29T06:30+00:00", None)  # 08:30 CEST
    assert _type(door, DOOR, code)["reason"] == "match"
    clock.at = moment("2026-10-25T07:30+00:00", None)  # 08:30 CET again, after the change back
    assert _type(door, DOOR, code)["reason"] == "match"


def test_r8_a_membership_slipped_in_outside_the_engine_opens_nothing(make_doors):
    door = make_doors()
    building = door.store.add_group("Building 3", [DOOR], known=[DOOR, GATE])
    gate = door.store.add_group("Back gate", [GATE], known=[DOOR, GATE])
    li = door.store.add_person("Li Wei", groups=[building.id])
    door.store.add_credential(li.id, "pin", PIN)
    door.start()
    # Someone with the database file but not the row key adds Li to the gate's group.
    db = sqlite3.connect(door.engine.config.data_dir / "facegate.db")
    db.execute("DROP TRIGGER memberships_sealed_insert")  # it needs the key: dropped first
    db.execute(
        "INSERT INTO memberships (id, group_id, person_id, created_at) VALUES (?, ?, ?, ?)",
        (f"{gate.id}/{li.id}", gate.id, li.id, time.time()),
    )
    db.commit()
    db.close()
    assert _type(door, GATE, PIN)["reason"] == "not_allowed"
    assert door.store.tampered_rows() == {"memberships": [f"{gate.id}/{li.id}"]}
    assert door.watch.on(GATE_LOCK) == []
