"""Access decisions from the real engine: the door's event entity, and unlocking a Home
Assistant lock only for signed, fresh, new events (R12)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from engine_client import FACE_DOOR, FACE_NAME, EngineUnderTest
from homeassistant.const import (
    EVENT_CALL_SERVICE,
    EVENT_STATE_CHANGED,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from test_facegate_fixtures import PIN, RecordingLock, add_test_lock, setup_entry, wait_for

from custom_components.facegate.const import (
    CONF_LOCKS,
    CONF_TAG_DEVICES,
    CONF_TAGS,
    DOMAIN,
    EVENT_ACCESS,
)
from custom_components.facegate.coordinator import FacegateCoordinator
from custom_components.facegate.logbook import describe_access

TAG = "04:a2:19:7c:55:80"
COOLDOWN_S = 5.0  # the engine's default between two decisions for the same face
FACE_TIMEOUT_S = 40.0


def _signed(event: dict[str, Any], key: str) -> dict[str, Any]:
    fields = {k: v for k, v in event.items() if k != "sig"}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {
        **fields,
        "sig": hmac.new(bytes.fromhex(key), text.encode(), hashlib.sha256).hexdigest(),
    }


@pytest.fixture
async def coordinator(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    back_door_lock: RecordingLock,
) -> FacegateCoordinator:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_LOCKS: {"back_door": "lock.back_door"}}
    )
    return await setup_entry(hass, mock_config_entry)


async def _granted(
    hass: HomeAssistant, engine: EngineUnderTest, coordinator: FacegateCoordinator
) -> dict[str, Any]:
    """A real PIN decision at the back door, as it arrived over the event stream."""
    await hass.async_add_executor_job(
        lambda: engine.create_person("Li Wei", consent=False, pin=PIN)
    )
    decision = await engine.async_api(
        "POST", "/api/access/credential", {"door": "back_door", "kind": "pin", "value": PIN}
    )
    assert decision["result"] == "granted"
    await wait_for(
        lambda: coordinator.data.decisions.get("back_door", {}).get("id") == decision["id"]
    )
    await hass.async_block_till_done()
    return dict(coordinator.data.decisions["back_door"])


async def test_a_granted_decision_fires_the_event_and_unlocks_once(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    coordinator: FacegateCoordinator,
    back_door_lock: RecordingLock,
) -> None:
    assert hass.states.get("event.back_door_access_decision").state == STATE_UNKNOWN
    event = await _granted(hass, clean_engine, coordinator)

    state = hass.states.get("event.back_door_access_decision")
    assert state.attributes["event_type"] == "granted"
    assert state.attributes["method"] == "pin"
    assert state.attributes["reason"] == "match"
    assert state.attributes["person_name"] == "Li Wei"
    assert "sig" not in state.attributes
    assert hass.states.get("sensor.back_door_last_decision").state == "granted"
    assert float(coordinator.data.decisions["back_door"]["latency_ms"]) >= 0
    assert back_door_lock.unlocks == 1
    assert hass.states.get("lock.back_door").state == "unlocked"
    assert event["sig"]


async def test_forged_stale_and_replayed_decisions_unlock_nothing(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    coordinator: FacegateCoordinator,
    back_door_lock: RecordingLock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = await _granted(hass, clean_engine, coordinator)
    assert back_door_lock.unlocks == 1
    key = clean_engine.event_key

    def deliver(candidate: dict[str, Any]) -> None:
        coordinator.handle_message({"type": "decision", "event": candidate})

    deliver(event)  # replayed
    deliver({**event, "id": "forged-1", "ts": round(time.time(), 3)})  # signature no longer fits
    deliver(_signed({**event, "id": "forged-2"}, "ab" * 32))  # signed with another key
    deliver(_signed({**event, "id": "stale", "ts": round(time.time() - 10, 3)}, key))
    deliver({**event, "id": "unsigned", "sig": None})
    await hass.async_block_till_done()
    assert back_door_lock.unlocks == 1
    # The stale one says the clocks are apart, in Settings → Repairs.
    stale_issue = (DOMAIN, f"{coordinator.config_entry.entry_id}_decisions_stale")
    assert stale_issue in ir.async_get(hass).issues
    reasons = [r.message for r in caplog.records if "Dropped a decision event" in r.message]
    assert len(reasons) == 5
    assert sum("replayed" in r for r in reasons) == 1
    assert sum("stale" in r for r in reasons) == 1
    assert sum("bad signature" in r for r in reasons) == 3

    # The same check passes a correctly signed, fresh, new event: the guard is not just closed.
    deliver(_signed({**event, "id": "fresh", "ts": round(time.time(), 3)}, key))
    await hass.async_block_till_done()
    assert back_door_lock.unlocks == 2
    assert stale_issue not in ir.async_get(hass).issues  # a fresh decision: gone by itself


async def test_denied_and_mqtt_doors_never_touch_a_home_assistant_lock(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    coordinator: FacegateCoordinator,
    back_door_lock: RecordingLock,
) -> None:
    await hass.async_add_executor_job(
        lambda: clean_engine.create_person("Li Wei", consent=False, pin=PIN)
    )
    denied = await clean_engine.async_api(
        "POST", "/api/access/credential", {"door": "back_door", "kind": "pin", "value": "958231"}
    )
    assert denied["result"] == "denied"
    front = await clean_engine.async_api(
        "POST", "/api/access/credential", {"door": "front_door", "kind": "pin", "value": PIN}
    )
    assert front["result"] == "granted"
    await wait_for(lambda: "front_door" in coordinator.data.decisions)
    await wait_for(lambda: "back_door" in coordinator.data.decisions)
    await hass.async_block_till_done()
    assert hass.states.get("event.back_door_access_decision").attributes["event_type"] == "denied"
    assert hass.states.get("event.back_door_access_decision").attributes["person_name"] is None
    assert hass.states.get("event.front_door_access_decision").attributes["event_type"] == "granted"
    assert back_door_lock.unlocks == 0


async def test_a_missing_or_failing_lock_is_logged_and_a_repair_issue(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    coordinator: FacegateCoordinator,
    back_door_lock: RecordingLock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    back_door_lock.jammed = True
    event = await _granted(hass, clean_engine, coordinator)
    assert "Could not unlock lock.back_door for door back_door: the lock is jammed" in caplog.text

    hass.config_entries.async_update_entry(
        coordinator.config_entry, options={CONF_LOCKS: {"back_door": "lock.gone"}}
    )
    fresh = _signed({**event, "id": "another", "ts": round(time.time(), 3)}, clean_engine.event_key)
    coordinator.handle_message({"type": "decision", "event": fresh})
    await hass.async_block_till_done()
    assert "Could not unlock lock.gone for door back_door: no such entity" in caplog.text
    assert back_door_lock.unlocks == 0
    issue_id = f"{coordinator.config_entry.entry_id}_lock_failed_back_door"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.severity == ir.IssueSeverity.ERROR
    assert issue.translation_placeholders == {
        "door": "back_door",
        "lock": "lock.gone",
        "error": "no such entity",
    }
    # The right lock, working again: the next grant unlocks it and the issue goes.
    back_door_lock.jammed = False
    hass.config_entries.async_update_entry(
        coordinator.config_entry, options={CONF_LOCKS: {"back_door": "lock.back_door"}}
    )
    third = _signed({**event, "id": "third", "ts": round(time.time(), 3)}, clean_engine.event_key)
    coordinator.handle_message({"type": "decision", "event": third})
    await hass.async_block_till_done()
    assert back_door_lock.unlocks == 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_scanned_tags_are_presented_at_their_door(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    coordinator: FacegateCoordinator,
    back_door_lock: RecordingLock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await hass.async_add_executor_job(lambda: clean_engine.create_person("Li Wei", tag=TAG))
    hass.config_entries.async_update_entry(
        coordinator.config_entry,
        options={
            CONF_LOCKS: {"back_door": "lock.back_door"},
            CONF_TAGS: {"back_door": [TAG], "nowhere": ["lost-tag"]},
            CONF_TAG_DEVICES: {"front_door": ["phone-at-the-front"]},
        },
    )

    # A tag nobody configured: nothing is presented anywhere.
    hass.bus.async_fire("tag_scanned", {"tag_id": "unknown-tag", "device_id": "elsewhere"})
    hass.bus.async_fire("tag_scanned", {"device_id": "phone-at-the-front"})  # no tag id
    await hass.async_block_till_done()
    assert coordinator.data.decisions == {}

    # The tag, scanned anywhere: the back door decides, and its lock opens.
    hass.bus.async_fire("tag_scanned", {"tag_id": TAG, "device_id": "kitchen-phone"})
    await wait_for(lambda: "back_door" in coordinator.data.decisions)
    await hass.async_block_till_done()
    decision = coordinator.data.decisions["back_door"]
    assert (decision["method"], decision["result"]) == ("tag", "granted")
    assert back_door_lock.unlocks == 1

    # The same tag at the front door's reader: the reader's door decides.
    hass.bus.async_fire("tag_scanned", {"tag_id": TAG, "device_id": "phone-at-the-front"})
    await wait_for(lambda: "front_door" in coordinator.data.decisions)
    assert coordinator.data.decisions["front_door"]["result"] == "granted"

    # A door the engine does not know: logged, nothing raised.
    hass.bus.async_fire("tag_scanned", {"tag_id": "lost-tag"})
    await hass.async_block_till_done()
    assert "Could not present a scanned tag at nowhere" in caplog.text


@pytest.fixture
async def side_door_lock(hass: HomeAssistant) -> RecordingLock:
    """`lock.side_door`, the Home Assistant lock the harness binds to its camera door."""
    lock = await add_test_lock(hass, "Side door")
    assert hass.states.get("lock.side_door") is not None
    return lock


async def test_a_face_at_the_camera_door_fires_the_event_and_unlocks_once(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    mock_config_entry: MockConfigEntry,
    side_door_lock: RecordingLock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """R12 for a real face decision: the harness's side door watches a looping RTSP clip of the
    face enrolled here; the first grant fires the event entity and unlocks `lock.side_door` once,
    and the same event replayed, forged or stale unlocks nothing."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_LOCKS: {FACE_DOOR: "lock.side_door"}}
    )
    coordinator = await setup_entry(hass, mock_config_entry)
    # A real camera: the engine reads the harness's RTSP stream.
    await wait_for(lambda: hass.states.get("binary_sensor.side_door_camera").state == STATE_ON)
    assert hass.states.get("event.side_door_access_decision").state == STATE_UNKNOWN

    fired: list[tuple[str, dict[str, Any]]] = []  # (decision id, the event entity's attributes)
    unlocked: list[tuple[str, str]] = []  # (decision id at the time, the lock unlocked)

    @callback
    def on_state(event: Event) -> None:
        if event.data["entity_id"] == "event.side_door_access_decision":
            decision = coordinator.data.decisions[FACE_DOOR]
            fired.append((decision["id"], dict(event.data["new_state"].attributes)))

    @callback
    def on_call(event: Event) -> None:
        if (event.data["domain"], event.data["service"]) == ("lock", "unlock"):
            decision = coordinator.data.decisions.get(FACE_DOOR, {})
            unlocked.append((decision.get("id"), event.data["service_data"]["entity_id"]))

    remove = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, on_state),
        hass.bus.async_listen(EVENT_CALL_SERVICE, on_call),
    ]
    try:

        def enrol() -> None:
            person = clean_engine.create_person(FACE_NAME, consent=True)
            assert clean_engine.enrol_face(person["id"])["templates"]
            clean_engine.set_method(FACE_DOOR, "face", True)

        await hass.async_add_executor_job(enrol)
        # The clip loops a blank door then the face: the first grant comes within a loop or two.
        await wait_for(
            lambda: any(a["event_type"] == "granted" for _, a in fired), timeout=FACE_TIMEOUT_S
        )
        # No second grant: face recognition off at the door (the next would come a cooldown on).
        await clean_engine.async_api(
            "POST", f"/api/doors/{FACE_DOOR}/methods", {"method": "face", "enabled": False}
        )
        await hass.async_block_till_done()
        event_id, attributes = next((i, a) for i, a in fired if a["event_type"] == "granted")
        assert attributes["method"] == "face"
        assert attributes["reason"] == "match"
        assert attributes["person_name"] == FACE_NAME
        assert "sig" not in attributes
        assert unlocked == [(event_id, "lock.side_door")]
        assert side_door_lock.unlocks == 1
        assert hass.states.get("lock.side_door").state == "unlocked"
        await wait_for(lambda: hass.states.get("switch.side_door_face_unlock").state == STATE_OFF)

        # The same face event replayed, forged or stale: dropped, nothing unlocked.
        event = dict(coordinator.data.decisions[FACE_DOOR])
        assert (event["id"], event["method"]) == (event_id, "face")
        key = clean_engine.event_key
        for candidate in (
            event,
            {**event, "id": "forged-face", "ts": round(time.time(), 3)},
            _signed({**event, "id": "stale-face", "ts": round(time.time() - 10, 3)}, key),
        ):
            coordinator.handle_message({"type": "decision", "event": candidate})
        await hass.async_block_till_done()
        dropped = [r.message for r in caplog.records if "Dropped a decision event" in r.message]
        assert len(dropped) == 3

        # Longer than the engine's cooldown: the camera still shows the face, but no further
        # decision and no further unlock arrives.
        await asyncio.sleep(COOLDOWN_S + 1)
        await hass.async_block_till_done()
        assert [i for i, a in fired if a["event_type"] == "granted"] == [event_id]
        assert unlocked == [(event_id, "lock.side_door")]
        assert side_door_lock.unlocks == 1
    finally:
        for unsubscribe in remove:
            unsubscribe()


async def test_the_logbook_says_who_came_in_and_never_keeps_a_name(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    coordinator: FacegateCoordinator,
    back_door_lock: RecordingLock,
) -> None:
    fired: list[dict[str, Any]] = []
    hass.bus.async_listen(EVENT_ACCESS, lambda event: fired.append(dict(event.data)))
    event = await _granted(hass, clean_engine, coordinator)
    await wait_for(lambda: bool(fired))
    [granted] = fired
    # What the recorder keeps: ids and words of the decision, never the person's name.
    assert granted["person_id"] == event["person"]["id"] and "Li Wei" not in str(granted)
    # Tied to the door's event entity, so that the door's device page lists it too.
    assert describe_access(hass, granted) == {
        "name": "Back door",
        "message": "Li Wei came in by PIN",
        "entity_id": "event.back_door_access_decision",
    }
    hass.config.language = "zh-Hans"
    assert describe_access(hass, granted)["message"] == "Li Wei 通过密码进门"
    hass.config.language = "en"

    await clean_engine.async_api(
        "POST", "/api/access/credential", {"door": "back_door", "kind": "pin", "value": "958231"}
    )
    await wait_for(lambda: len(fired) == 2)
    assert (
        describe_access(hass, fired[1])["message"] == "someone unknown was refused (PIN: unknown)"
    )

    await clean_engine.async_api("DELETE", f"/api/people/{event['person']['id']}")
    await wait_for(lambda: event["person"]["id"] not in coordinator.data.people)
    assert describe_access(hass, granted)["message"] == "a resident since erased came in by PIN"


async def test_the_last_decision_survives_a_reload(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    coordinator: FacegateCoordinator,
    back_door_lock: RecordingLock,
) -> None:
    await _granted(hass, clean_engine, coordinator)
    entry = coordinator.config_entry
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: hass.states.get("sensor.back_door_last_decision").state != "unavailable")
    state = hass.states.get("sensor.back_door_last_decision")
    assert state.state == "granted"
    assert (state.attributes["method"], state.attributes["reason"]) == ("pin", "match")
    assert back_door_lock.unlocks == 1  # the reload opened nothing
