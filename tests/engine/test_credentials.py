"""PIN, card and tag at a real engine over a real mosquitto: same path as the face (R4, R5, R11,
R12). The door has no camera at all; the keypad and readers publish on their own topics."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time

import pytest
from conftest_keypad import (
    ACCESS_TOPIC,
    CARD,
    DOOR,
    KEYPAD,
    LOCK_TOPIC,
    PIN,
    READER,
    TAG,
    VALUES,
    WRONG_PIN,
)
from conftest_mqtt import Mosquitto
from facegate.config import parse
from facegate.events import AccessEvent, sign, verify

pytest_plugins = ["conftest_mqtt", "conftest_keypad"]


def _face_event_keys() -> set[str]:
    face = AccessEvent(
        door=DOOR,
        method="face",
        result="granted",
        reason="match",
        person_id="p",
        person_name="n",
        score=0.9,
        liveness={"score": 0.9, "verdict": "live"},
        latency_ms=1.0,
    )
    return set(sign(face.payload(), b"k"))


def test_r5_pin_card_and_tag_open_the_door_through_the_same_path(make_door) -> None:
    door = make_door()
    person = door.resident(pin=PIN, card=CARD, tag=TAG)
    door.start()
    for count, kind in enumerate(("pin", "card", "tag"), start=1):
        event = door.present_and_wait(kind, VALUES[kind])
        assert event["result"] == "granted", event
        assert event["reason"] == "match"
        assert event["method"] == kind
        assert event["door"] == DOOR
        assert event["person"] == {"id": person, "name": "Li Wei"}
        assert set(event) == _face_event_keys()  # the face's event, field for field
        assert verify(event, door.engine.event_key)
        assert event["latency_ms"] < 1000
        assert door.watch.wait_for(
            lambda m, n=count: len([x for x in m if x.topic == LOCK_TOPIC]) >= n, 2
        )
        time.sleep(0.3)  # a second unlock, if there were one, would have arrived by now
        assert [(m.text, m.qos, m.retain) for m in door.locks()] == [("UNLOCK", 1, False)] * count
    assert all(m.qos == 1 and not m.retain for m in door.watch.on(ACCESS_TOPIC))
    assert door.stats()["granted"] == 3


def test_r12_a_grant_the_broker_never_acknowledged_is_recorded_as_lock_offline(
    make_door, mosquitto: Mosquitto
) -> None:
    """A hung broker takes the lock command on the wire but never acknowledges it: the door
    does not count that as opened. The decision is `lock_offline` in the return value and the
    audit log; the link counts the unacknowledged command."""
    door = make_door()
    person = door.resident(pin=PIN)
    door.start()
    mosquitto.freeze()
    event = door.engine.present_credential(DOOR, "pin", PIN)
    assert (event["result"], event["reason"]) == ("denied", "lock_offline")
    assert event["person"] == {"id": person, "name": "Li Wei"}
    assert door.link.unacknowledged_commands == 1
    audited = [e.data for e in door.store.audit_entries(limit=1000) if e.kind == "access"]
    assert audited[-1]["reason"] == "lock_offline"
    mosquitto.kill()  # whatever the hung broker held is lost with it


def test_r5_a_card_reaches_the_lock_without_transport_delay(make_door) -> None:
    """Publish -> lock command at a separate subscriber, as the latency benchmark measures it.
    Nagle's algorithm on the engine's socket used to add a delayed ACK (~40 ms) to each."""
    door = make_door()
    door.resident(card=CARD)
    door.start()
    times = []
    for count in range(1, 11):
        sent = time.monotonic()
        door.keys.publish(READER, CARD)
        assert door.watch.wait_for(
            lambda m, n=count: len([x for x in m if x.topic == LOCK_TOPIC]) >= n, 2
        )
        times.append((door.locks()[count - 1].at - sent) * 1000)
        time.sleep(0.1)
    assert sorted(times)[len(times) // 2] < 25, times


def test_r4_credentials_need_no_face_and_no_consent(make_door) -> None:
    door = make_door()
    person = door.resident("Zhang Min", pin=PIN)
    door.start()
    # No camera is configured, nobody consented to anything, no face exists anywhere.
    assert door.engine.config.doors[DOOR].camera is None
    assert door.engine.readers == {}
    assert door.store.consents(person) == []
    assert door.store.template_count() == 0
    event = door.present_and_wait("pin", PIN)
    assert (event["result"], event["reason"]) == ("granted", "match")
    assert door.watch.wait_for(lambda m: any(x.topic == LOCK_TOPIC for x in m), 2)
    # The same through the engine's own entry point (HTTP API, Home Assistant tag_scanned).
    direct = door.engine.present_credential(DOOR, "pin", PIN)
    assert (direct["result"], direct["method"]) == ("granted", "pin")
    assert door.watch.wait_for(lambda m: len([x for x in m if x.topic == LOCK_TOPIC]) == 2, 2)
    # And no personal document was asked for: the data model has nowhere to put one.
    columns = {
        row[1] for row in sqlite3.connect(door.store.path).execute("PRAGMA table_info(people)")
    }
    assert not columns & {"id_card", "id_number", "phone", "phone_number", "title_deed", "deed"}


def test_wrong_pin_is_denied_and_counted(make_door, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    door = make_door()
    door.resident(pin=PIN)
    door.start()
    event = door.present_and_wait("pin", WRONG_PIN)
    assert (event["result"], event["reason"], event["person"]) == ("denied", "unknown", None)
    assert event["method"] == "pin"
    assert verify(event, door.engine.event_key)
    time.sleep(0.3)
    assert door.locks() == []
    stats = door.stats()
    assert (stats["attempts"], stats["failures"], stats["granted"]) == (1, 1, 0)
    assert stats["locked_out"] is False
    # A malformed PIN (too short) is a wrong PIN too, and counted.
    event = door.engine.present_credential(DOOR, "pin", "12")
    assert event["reason"] == "unknown"
    assert door.stats()["failures"] == 2
    assert WRONG_PIN not in caplog.text
    assert PIN not in caplog.text


def test_r12_repeated_failures_are_rate_limited(make_door, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    door = make_door(max_failures=3, window_s=30, lockout_s=1.5)
    door.resident(pin=PIN, card=CARD)
    door.start()
    lookups: list[str] = []
    real_find = door.store.find_credential

    def counting_find(kind, value):
        lookups.append(kind)
        return real_find(kind, value)

    door.store.find_credential = counting_find
    for _ in range(3):
        assert door.present_and_wait("pin", WRONG_PIN)["reason"] == "unknown"
    assert door.stats()["locked_out"] is True
    assert door.stats()["locked_methods"] == ["pin"]
    # Locked out: even the right PIN is refused, twice, without being looked up. The caller
    # gets a signed denial; nothing is published or audited for each (a flood of codes must
    # not fill the disk), only counted.
    assert len(lookups) == 3
    # The event is published before the decision's audit entry is written (the lock first):
    # the third failure's entry may land a moment after its event.
    deadline = time.monotonic() + 5
    while sum(e.kind == "access" for e in door.store.audit_entries(limit=10_000)) < 3:
        assert time.monotonic() < deadline, "the failures were not audited"
        time.sleep(0.05)
    published, audited = len(door.events()), len(door.store.audit_entries(limit=10_000))
    for _ in range(2):
        event = door.engine.present_credential(DOOR, "pin", PIN)
        assert (event["result"], event["reason"], event["person"]) == (
            "denied",
            "rate_limited",
            None,
        )
        assert verify(event, door.engine.event_key)
    assert len(lookups) == 3
    time.sleep(0.3)
    assert door.locks() == []
    assert len(door.events()) == published
    assert len(door.store.audit_entries(limit=10_000)) == audited
    stats = door.stats()
    assert (stats["failures"], stats["rate_limited"], stats["lockouts"]) == (3, 2, 1)
    # The method being guessed is locked, not the door: a resident's card still opens it.
    event = door.present_and_wait("card", CARD)
    assert (event["result"], event["reason"]) == ("granted", "match")
    assert any("R12" in r.getMessage() for r in caplog.records)
    # After the lockout the right PIN opens again.
    deadline = time.monotonic() + 5
    while door.stats()["locked_out"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    event = door.present_and_wait("pin", PIN)
    assert (event["result"], event["reason"]) == ("granted", "match")
    assert door.watch.wait_for(lambda m: any(x.topic == LOCK_TOPIC for x in m), 2)
    # The refusals of the lockout are summarised in one audit entry once it is over.
    summaries = [
        e.data for e in door.store.audit_entries(limit=10_000) if e.data.get("refused") is not None
    ]
    assert [(d["reason"], d["refused"]) for d in summaries] == [("rate_limited", 2)]
    assert PIN not in caplog.text
    assert WRONG_PIN not in caplog.text


def test_r12_a_flood_of_codes_during_a_lockout_is_counted_not_recorded(make_door) -> None:
    """Once 35,000 audit rows and 5.8 MB of log a minute: now one summary for the lot."""
    door = make_door(max_failures=2, window_s=30, lockout_s=60)
    door.start()
    for _ in range(2):
        door.engine.present_credential(DOOR, "pin", WRONG_PIN)
    assert door.stats()["locked_out"] is True
    audited = len(door.store.audit_entries(limit=100_000))
    for _ in range(2000):
        door.engine.present_credential(DOOR, "pin", WRONG_PIN)
    assert len(door.store.audit_entries(limit=100_000)) == audited
    assert door.stats()["rate_limited"] == 2000
    door.engine.credential_gate.summarise(ending=True)  # as the engine does when it stops
    entries = door.store.audit_entries(limit=100_000)
    assert len(entries) == audited + 1
    assert entries[-1].data["refused"] == 2000


def test_r12_lockouts_in_a_row_grow_longer(make_door) -> None:
    door = make_door(max_failures=2, window_s=30, lockout_s=1)
    door.start()
    for expected in (1.0, 2.0, 4.0):
        while door.stats()["locked_out"]:
            time.sleep(0.05)
        for _ in range(2):
            assert door.present_and_wait("pin", WRONG_PIN)["reason"] == "unknown"
        stats = door.stats()
        assert stats["locked_out"] is True
        assert expected - 0.5 < stats["lockout_remaining_s"] <= expected
    assert door.stats()["lockouts"] == 3


def test_method_disabled_at_door_or_for_person_is_denied(make_door) -> None:
    door = make_door()
    person = door.resident(pin=PIN, card=CARD, tag=TAG)
    door.start()
    # An administrator turns the card reader off at this door.
    door.engine.set_door_method(DOOR, "card", False)
    event = door.present_and_wait("card", CARD)
    assert (event["result"], event["reason"]) == ("denied", "door_disabled")
    # The resident turns their tag off.
    door.store.update_person(person, disabled_methods=["tag"])
    event = door.present_and_wait("tag", TAG)
    assert (event["result"], event["reason"]) == ("denied", "method_disabled")
    assert event["person"] == {"id": person, "name": "Li Wei"}
    # Not configured at this door at all.
    event = door.engine.present_credential(DOOR, "phone", "ha-device-1234")
    assert (event["result"], event["reason"]) == ("denied", "door_disabled")
    time.sleep(0.3)
    assert door.locks() == []
    # None of that is a guess: nothing counts towards the lockout.
    assert door.stats()["failures"] == 0
    # The PIN still works, and the card again once the door allows it.
    assert door.present_and_wait("pin", PIN)["result"] == "granted"
    door.engine.set_door_method(DOOR, "card", True)
    assert door.present_and_wait("card", CARD)["result"] == "granted"
    assert door.watch.wait_for(lambda m: len([x for x in m if x.topic == LOCK_TOPIC]) == 2, 2)


def test_r12_retained_or_malformed_codes_do_nothing(make_door) -> None:
    door = make_door()
    door.resident(pin=PIN, card=CARD)
    # Valid codes left retained on the broker, as a misconfigured reader would: a replay.
    door.keys.publish(KEYPAD, json.dumps({"action": "disarm", "action_code": PIN}), retain=True)
    door.keys.publish(READER, CARD, retain=True)
    door.start()
    for topic, payload in (
        (KEYPAD, b"\xff\xfe\x00"),  # not UTF-8
        (KEYPAD, b"{not json"),
        (KEYPAD, b'{"action": "arm_all_zones"}'),  # no code: a mode change, not an attempt
        (KEYPAD, b'{"battery": 87, "action_code": null}'),  # a state report
        (KEYPAD, b'{"action_code": ""}'),
        (KEYPAD, b'{"action_code": {"nested": "482913"}}'),
        (KEYPAD, b"[1, 2, 3]"),
        (KEYPAD, PIN.encode()),  # raw, where JSON is expected
        (READER, b"   "),
        (READER, b"A" * 20_000),
    ):
        door.keys.publish(topic, payload)
    time.sleep(1.0)
    assert door.locks() == []
    assert door.events() == []
    assert door.stats()["attempts"] == 0
    # The inputs are alive all the same: a live code opens exactly once.
    assert door.present_and_wait("pin", PIN)["result"] == "granted"
    time.sleep(0.3)
    assert len(door.locks()) == 1


def test_r11_each_credential_decision_is_in_the_audit_log(make_door) -> None:
    door = make_door(max_failures=2, lockout_s=30)
    person = door.resident(pin=PIN, card=CARD, tag=TAG)
    door.start()
    door.store.update_person(person, disabled_methods=["tag"])
    outcomes = [
        ("pin", PIN, "match"),
        ("card", CARD, "match"),
        ("tag", TAG, "method_disabled"),
        ("pin", WRONG_PIN, "unknown"),
        ("card", "DEADBEEF00", "unknown"),
        ("pin", WRONG_PIN, "unknown"),  # the second wrong PIN locks the keypad out
    ]
    for kind, value, reason in outcomes:
        assert door.present_and_wait(kind, value)["reason"] == reason
    # Refusals during the lockout are summarised, not recorded one by one.
    assert door.engine.present_credential(DOOR, "pin", PIN)["reason"] == "rate_limited"
    door.engine.credential_gate.summarise(ending=True)
    access = [e for e in door.store.audit_entries() if e.kind == "access"]
    assert [(e.data["method"], e.data["reason"]) for e in access] == [
        *((kind, reason) for kind, _value, reason in outcomes),
        ("credential", "rate_limited"),
    ]
    assert access[-1].data["refused"] == 1
    assert all(e.door == DOOR for e in access)
    # The holder appears only by pseudonym, and only where a credential named them.
    ref = door.store.person(person).audit_ref
    assert [e.subject for e in access] == [ref, ref, ref, None, None, None, None]
    assert door.store.verify_audit().ok
    # No presented value, in any form, anywhere in the audit data.
    texts: list[str] = []

    def strings(value: object) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                strings(key)
                strings(item)
        elif isinstance(value, list):
            for item in value:
                strings(item)

    for entry in door.store.audit_entries():
        strings(entry.to_json())
    secrets = [PIN, WRONG_PIN, CARD, CARD.replace(":", ""), TAG, "DEADBEEF00"]
    assert not [s for s in secrets for text in texts if s in text]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([{"topic": "zigbee2mqtt/+", "kind": "pin"}], "credential_inputs.0.topic"),
        ([{"topic": "readers/#", "kind": "card"}], "credential_inputs.0.topic"),
        ([{"topic": "readers/front", "kind": "phone"}], "credential_inputs.0.kind"),
        ([{"topic": "readers/front", "kind": "face"}], "credential_inputs.0.kind"),
        (
            [{"topic": "readers/a", "kind": "pin"}, {"topic": "readers/a", "kind": "card"}],
            "credential_inputs.1.topic",
        ),
        ([{"topic": LOCK_TOPIC, "kind": "card"}], "credential_inputs.0.topic"),
        ([{"topic": "readers/a", "kind": "pin", "json_key": ""}], "credential_inputs.0.json_key"),
    ],
)
def test_credential_inputs_are_validated_naming_the_key(tmp_path, inputs, message) -> None:
    from facegate.errors import ConfigError

    raw = {
        "data_dir": str(tmp_path),
        "mqtt": {"host": "127.0.0.1"},
        "doors": {
            DOOR: {
                "methods": ["pin", "card"],
                "lock": {"command_topic": LOCK_TOPIC},
                "credential_inputs": inputs,
            }
        },
    }
    with pytest.raises(ConfigError, match=re.escape(f"doors.{DOOR}.{message}")):
        parse(raw)


def test_credential_limits_have_defaults_and_bounds(tmp_path) -> None:
    from facegate.errors import ConfigError

    raw = {
        "data_dir": str(tmp_path),
        "mqtt": {"host": "127.0.0.1"},
        "doors": {DOOR: {"methods": ["pin"], "lock": {"command_topic": LOCK_TOPIC}}},
    }
    limits = parse(raw).credentials
    assert (limits.max_failures, limits.window_s, limits.lockout_s) == (5, 60.0, 60.0)
    assert parse({**raw, "credentials": {"lockout_s": 300}}).credentials.lockout_s == 300.0
    with pytest.raises(ConfigError, match=re.escape("credentials.max_failures")):
        parse({**raw, "credentials": {"max_failures": 0}})
