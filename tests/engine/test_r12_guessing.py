"""A guesser at the keypad (R12): the count outlives a restart, only the method being guessed
is locked out, and the administrator is told — a signed alert, an audit entry, health."""

from __future__ import annotations

import json
import time

from conftest_api import Stream
from conftest_keypad import CARD, DOOR, PIN, WRONG_PIN
from facegate.events import verify
from facegate.web.server import ApiServer

pytest_plugins = ["conftest_mqtt", "conftest_keypad"]

ALERT_TOPIC = f"facegate/{DOOR}/alert"


def test_r12_the_keypad_count_and_lockout_survive_a_restart(make_door) -> None:
    first = make_door(max_failures=3, window_s=600, lockout_s=300)
    first.resident(pin=PIN, card=CARD)
    first.start()
    for _ in range(2):
        assert first.present_and_wait("pin", WRONG_PIN)["reason"] == "unknown"
    first.stop()
    # A restart every few minutes once gave a guesser a fresh count (2,880 guesses a day).
    second = make_door(max_failures=3, window_s=600, lockout_s=300)
    second.start()
    assert second.present_and_wait("pin", WRONG_PIN)["reason"] == "unknown"
    assert second.stats()["locked_methods"] == ["pin"]
    second.stop()
    third = make_door(max_failures=3, window_s=600, lockout_s=300)
    third.start()
    stats = third.stats()
    assert stats["locked_methods"] == ["pin"] and 290 < stats["lockout_remaining_s"] <= 300
    assert third.engine.present_credential(DOOR, "pin", PIN)["reason"] == "rate_limited"
    # The card, another method, was never locked.
    assert third.present_and_wait("card", CARD)["reason"] == "match"


def test_r12_a_guessing_attack_is_reported_to_the_administrator(make_door) -> None:
    door = make_door(max_failures=2, window_s=30, lockout_s=1)
    door.resident(pin=PIN)
    door.start()
    gate = door.engine.credential_gate
    for lockout in (1, 2):
        while door.stats()["locked_out"]:
            time.sleep(0.05)
        for _ in range(2):
            assert door.present_and_wait("pin", WRONG_PIN)["reason"] == "unknown"
        assert door.stats()["lockouts"] == lockout
        if lockout == 1:
            # One lockout can be a resident who forgot their code: no alarm yet.
            assert gate.under_attack() == {}
    assert door.watch.wait_for(lambda m: any(x.topic == ALERT_TOPIC for x in m), 5)
    (alert,) = [json.loads(m.text) for m in door.watch.on(ALERT_TOPIC)]
    assert verify(alert, door.engine.event_key)
    assert (alert["kind"], alert["door"], alert["method"], alert["streak"]) == (
        "guessing_attack",
        DOOR,
        "pin",
        2,
    )
    assert alert["lockout_s"] == 2.0  # the second lockout in a row lasts twice as long
    assert gate.under_attack() == {DOOR: ["pin"]}
    assert door.stats()["under_attack"] == ["pin"]
    attacks = [e for e in door.store.audit_entries() if e.kind == "guessing_attack"]
    assert [(e.door, e.data["method"], e.data["streak"]) for e in attacks] == [
        (DOOR, "pin", 1),
        (DOOR, "pin", 2),
    ]
    assert PIN not in json.dumps(alert) and WRONG_PIN not in json.dumps(alert)


def test_r12_home_assistant_hears_of_a_lockout_and_of_an_attack_when_it_starts_and_ends(
    make_door,
) -> None:
    """The event stream pushes the door's state when the engine changes it by itself, so the
    integration's door shows the lockout and the attack without asking."""
    door = make_door(max_failures=2, window_s=30, lockout_s=1)
    door.start()
    server = ApiServer(door.engine, "127.0.0.1", 0)
    server.start()
    stream = Stream(server.url, server.token)
    try:

        def pushed(predicate) -> dict:
            return stream.wait_for(
                lambda m: (
                    m.get("change") == "door"
                    and m["door"]["id"] == DOOR
                    and predicate(m["door"]["credential_attempts"])
                )
            )

        for _ in range(2):
            door.engine.present_credential(DOOR, "pin", WRONG_PIN)
        assert pushed(lambda a: a["locked_methods"] == ["pin"])["door"]["enabled"]
        while door.stats()["locked_out"]:
            time.sleep(0.05)
        for _ in range(2):
            door.engine.present_credential(DOOR, "pin", WRONG_PIN)
        pushed(lambda a: a["under_attack"] == ["pin"])
        # A day later the attack is over: housekeeping says so on the stream too.
        gate = door.engine.credential_gate
        throttle = gate._state[DOOR].throttles["pin"]
        throttle.locked_until -= 2 * 86400  # as if the last lockout ended two days ago
        door.engine.housekeeping()
        pushed(lambda a: a["under_attack"] == [] and a["lockouts"] == 2)
    finally:
        stream.close()
        server.stop()
