"""Doors and people as entities, driven by the real engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from engine_client import FACE_DOOR, EngineUnderTest
from homeassistant.components import persistent_notification
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion
from test_facegate_fixtures import PIN, find_device, placeholders, setup_entry, wait_for

from custom_components.facegate.api import FacegateConnectionError, FacegateRequestError
from custom_components.facegate.binary_sensor import FacegateCameraOnline, FacegateGuessingAttack
from custom_components.facegate.entity import engine_error
from custom_components.facegate.switch import FacegateMethodSwitch

# Two residents for the snapshots: one with live consent and a PIN, one who has not consented.
SNAPSHOT_PEOPLE = {"Li Wei": {"consent": True, "pin": "587241"}, "Wang Fang": {}}


@pytest.fixture
async def residents(hass: HomeAssistant, clean_engine: EngineUnderTest) -> list[dict[str, Any]]:
    """The snapshot's residents, in the engine before the integration is set up."""
    return await hass.async_add_executor_job(
        lambda: [
            clean_engine.create_person(name, **settings)
            for name, settings in SNAPSHOT_PEOPLE.items()
        ]
    )


# No binary_sensor: its one entity follows the harness's live camera (test_decisions checks it;
# test_face_is_never_left_the_only_way_in covers the camera sensor).
@pytest.mark.parametrize(
    "init_integration",
    [Platform.EVENT, Platform.SENSOR, Platform.SWITCH],
    indirect=True,
)
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "residents", "init_integration")
async def test_entities(
    hass: HomeAssistant,
    *,
    snapshot: SnapshotAssertion,
    entity_registry: er.EntityRegistry,
    mock_config_entry: MockConfigEntry,
    clean_engine: EngineUnderTest,
    residents: list[dict[str, Any]],
) -> None:
    """Each platform's states and registry entries, as snapshots (snapshots-ha<release>/)."""
    stable = {clean_engine.installation_id: "<installation>"}
    for person in residents:
        stable[person["id"]] = f"<id of {person['name']}>"
        stable.update(
            {c["id"]: f"<{c['kind']} of {person['name']}>" for c in person["credentials"]}
        )
    if expiry := hass.states.get("sensor.li_wei_face_consent_expires"):
        # From the engine's clock: checked here, a placeholder in the snapshot.
        expires = datetime.fromisoformat(expiry.state)
        assert abs(expires - (datetime.now(UTC) + timedelta(days=365))) < timedelta(minutes=5)
        stable[expiry.state] = "<in 365 days>"
    await snapshot_platform(
        hass,
        entity_registry,
        snapshot.with_defaults(matcher=placeholders(stable)),
        mock_config_entry.entry_id,
    )


async def test_doors_and_people_become_entities(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    person = await hass.async_add_executor_job(
        lambda: clean_engine.create_person("Li Wei", consent=True, pin=PIN)
    )
    await setup_entry(hass, mock_config_entry)

    # Each configured method of each door, on.
    for entity_id in (
        "switch.front_door_pin",
        "switch.front_door_card",
        "switch.front_door_nfc_tag",
        "switch.back_door_pin",
        "switch.back_door_nfc_tag",
    ):
        assert hass.states.get(entity_id).state == STATE_ON, entity_id
    assert hass.states.get("switch.back_door_card") is None  # not configured there
    assert hass.states.get("sensor.back_door_last_decision").state == STATE_UNKNOWN
    # The latency is for tuning: there, but off until someone turns it on.
    latency = er.async_get(hass).async_get("sensor.back_door_decision_latency")
    assert latency is not None and latency.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get("sensor.back_door_decision_latency") is None
    # The side door's camera (test_decisions checks it is online), and at every door, whose
    # methods all include a code, a guessing-attack sensor that is off; the engine's health.
    assert sorted(hass.states.async_entity_ids("binary_sensor")) == [
        "binary_sensor.back_door_guessing_attack",
        "binary_sensor.facegate_audit_log",
        "binary_sensor.facegate_cameras",
        "binary_sensor.facegate_liveness_check_off",
        "binary_sensor.facegate_mqtt_broker",
        "binary_sensor.front_door_guessing_attack",
        "binary_sensor.side_door_camera",
        "binary_sensor.side_door_guessing_attack",
    ]
    assert hass.states.get("binary_sensor.front_door_guessing_attack").state == STATE_OFF

    assert hass.states.get("switch.li_wei_face_consent").state == STATE_ON
    assert hass.states.get("sensor.li_wei_face_consent").state == "live"
    assert hass.states.get("sensor.li_wei_face_photos_enrolled").state == "0"
    expiry = datetime.fromisoformat(hass.states.get("sensor.li_wei_face_consent_expires").state)
    assert abs(expiry - (datetime.now(UTC) + timedelta(days=365))) < timedelta(minutes=5)
    credentials = hass.states.get("sensor.li_wei_credentials")
    assert credentials.state == "1"
    [credential] = credentials.attributes["credentials"]
    assert credential == {"id": person["credentials"][0]["id"], "kind": "pin", "label": "test pin"}
    # No erase button: a press could only refuse (erasure is the erase_person action with
    # confirm: true), and the logbook would record it as pressed.
    assert hass.states.async_entity_ids("button") == []

    # Never a PIN in any state or attribute.
    for state in hass.states.async_all():
        assert PIN not in str(state.as_dict())

    # The engine is a device; each door and each person a device behind it.
    engine_device = find_device(hass, mock_config_entry, None)
    assert engine_device is not None
    assert engine_device.model == "Engine"
    door = find_device(hass, mock_config_entry, "back_door")
    assert door is not None
    assert (door.name, door.via_device_id) == ("Back door", engine_device.id)
    entry = er.async_get(hass).async_get("switch.back_door_pin")
    assert entry.unique_id == f"{clean_engine.installation_id}_back_door_method_pin"
    assert entry.translation_key == "method_pin"


async def test_a_method_switch_turns_the_method_off_and_on(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    await setup_entry(hass, mock_config_entry)
    target = {ATTR_ENTITY_ID: "switch.back_door_pin"}

    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_OFF, target, blocking=True)
    assert hass.states.get("switch.back_door_pin").state == STATE_OFF
    doors = await clean_engine.async_api("GET", "/api/doors")
    back = next(d for d in doors["doors"] if d["id"] == "back_door")
    assert back["enabled"] == ["tag"]

    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_ON, target, blocking=True)
    assert hass.states.get("switch.back_door_pin").state == STATE_ON


async def test_face_is_never_left_the_only_way_in(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """R4 at the harness's camera door; the camera sensor on a door added to the state."""
    coordinator = await setup_entry(hass, mock_config_entry)
    garage = {
        "id": "garage",
        "name": "Garage",
        "methods": ["face", "pin"],
        "enabled": ["face", "pin"],
        "camera": {"name": "garage_cam", "online": True},
        "lock": "mqtt",
    }
    coordinator.async_set_updated_data(
        replace(coordinator.data, doors={**coordinator.data.doors, "garage": garage})
    )
    # R4 is the engine's rule (its store checks it): with face unlock on at the side door,
    # turning off its PIN would leave the face alone; the refusal comes back translated, by
    # its key. (The harness turns face unlock off again after the test.)
    await FacegateMethodSwitch(coordinator, FACE_DOOR, "face").async_turn_on()
    with pytest.raises(ServiceValidationError) as refused:
        await FacegateMethodSwitch(coordinator, FACE_DOOR, "pin").async_turn_off()
    assert refused.value.translation_key == "r4_face_only"
    assert "pin" in coordinator.data.doors[FACE_DOOR]["enabled"]
    # With face unlock off again, the PIN is the door's last way in: it stays on.
    await FacegateMethodSwitch(coordinator, FACE_DOOR, "face").async_turn_off()
    with pytest.raises(ServiceValidationError) as refused:
        await FacegateMethodSwitch(coordinator, FACE_DOOR, "pin").async_turn_off()
    assert refused.value.translation_key == "no_method_left"
    assert "pin" in coordinator.data.doors[FACE_DOOR]["enabled"]
    camera = FacegateCameraOnline(coordinator, "garage")
    assert camera.is_on
    # The engine says when a camera goes offline or comes back.
    coordinator.handle_message({"type": "camera", "camera": "garage_cam", "online": False})
    assert not camera.is_on
    assert coordinator.data.doors["back_door"]["camera"] is None
    coordinator.handle_message({"type": "camera", "camera": "garage_cam", "online": True})
    assert camera.is_on

    # The engine's own R4 refusal is translated the same way; other errors keep its message.
    r4 = engine_error(
        FacegateRequestError(409, "R4: the face must never be the only way in", "r4_face_only")
    )
    assert isinstance(r4, ServiceValidationError) and r4.translation_key == "r4_face_only"
    other = engine_error(FacegateRequestError(404, "no door with id x"))
    assert other.translation_placeholders == {"message": "no door with id x"}
    assert engine_error(FacegateConnectionError("down")).translation_key == "cannot_connect"


async def test_a_guessing_attack_at_a_door_turns_its_problem_sensor_on(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """R12: the engine pushes a door's state when a method is locked out again and again; the
    door's `guessing_attack` sensor follows it (the engine tests push the real thing)."""
    coordinator = await setup_entry(hass, mock_config_entry)
    attack = FacegateGuessingAttack(coordinator, "front_door")
    assert not attack.is_on
    front = coordinator.data.doors["front_door"]
    coordinator.handle_message(
        {
            "type": "state",
            "change": "door",
            "door": {
                **front,
                "credential_attempts": {
                    **front["credential_attempts"],
                    "under_attack": ["pin"],
                    "locked_methods": ["pin"],
                    "lockouts": 2,
                },
            },
        }
    )
    assert attack.is_on
    assert attack.extra_state_attributes == {
        "methods": ["pin"],
        "locked_methods": ["pin"],
        "lockouts": 2,
    }
    # Every door with something to guess at has one; the engine's own list says which.
    entities = er.async_entries_for_config_entry(er.async_get(hass), mock_config_entry.entry_id)
    sensors = {e.unique_id for e in entities if e.translation_key == "guessing_attack"}
    assert len(sensors) == len(coordinator.data.doors)


async def test_an_engine_refusal_is_a_translated_error(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    coordinator = await setup_entry(hass, mock_config_entry)
    door = coordinator.data.doors["back_door"]
    coordinator.async_set_updated_data(
        replace(
            coordinator.data,
            doors={**coordinator.data.doors, "back_door": {**door, "methods": ["pin", "card"]}},
        )
    )
    with pytest.raises(HomeAssistantError) as refused:
        await FacegateMethodSwitch(coordinator, "back_door", "card").async_turn_off()
    assert refused.value.translation_key == "engine_refused"
    assert "not configured for card" in refused.value.translation_placeholders["message"]


async def test_consent_can_be_withdrawn_and_switching_it_on_invites_the_person(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    await hass.async_add_executor_job(
        lambda: clean_engine.create_person("Li Wei", consent=True, pin=PIN)
    )
    await setup_entry(hass, mock_config_entry)
    target = {ATTR_ENTITY_ID: "switch.li_wei_face_consent"}

    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_OFF, target, blocking=True)
    await wait_for(lambda: hass.states.get("switch.li_wei_face_consent").state == STATE_OFF)
    assert hass.states.get("sensor.li_wei_face_consent").state == "withdrawn"
    # Nothing left to expire: unavailable, and the consent sensor says why.
    assert hass.states.get("sensor.li_wei_face_consent_expires").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.li_wei_face_consent").state == "withdrawn"
    assert hass.states.get("sensor.li_wei_credentials").state == "1"  # the PIN keeps working

    # Consent is the person's own act (R2): switching it on hands them an invitation to give
    # it on their own phone, shown with its QR code; the switch stays off until they do.
    shown: dict[str, Any] = {}
    persistent_notification.async_register_callback(hass, lambda _kind, notes: shown.update(notes))
    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_ON, target, blocking=True)
    await wait_for(lambda: bool(shown))
    [note] = shown.values()
    assert note["title"] == "Invitation for Li Wei" and "/invite/" in note["message"]
    assert hass.states.get("switch.li_wei_face_consent").state == STATE_OFF


async def test_people_come_and_go_with_the_engine(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    await setup_entry(hass, mock_config_entry)
    assert hass.states.get("switch.wang_fang_face_consent") is None

    person = await clean_engine.async_api("POST", "/api/people", {"name": "Wang Fang"})
    await wait_for(lambda: hass.states.get("switch.wang_fang_face_consent") is not None)
    assert hass.states.get("switch.wang_fang_face_consent").state == STATE_OFF

    await clean_engine.async_api("DELETE", f"/api/people/{person['id']}")
    await wait_for(lambda: hass.states.get("switch.wang_fang_face_consent") is None)
    assert find_device(hass, mock_config_entry, person["id"]) is None
    assert er.async_get(hass).async_get("switch.wang_fang_face_consent") is None


async def test_a_door_given_to_the_engine_later_appears_and_a_removed_one_goes(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    """A new engine configuration arrives as the event stream's snapshot after the engine's
    restart: its new door gets a device and entities, a door no longer there loses them."""
    coordinator = await setup_entry(hass, mock_config_entry)
    doors = list(coordinator.data.doors.values())
    garage = {
        "id": "garage",
        "name": "Garage",
        "methods": ["pin", "tag"],
        "enabled": ["pin", "tag"],
        "face_enabled": False,
        "camera": None,
        "lock": "mqtt",
        "credential_attempts": {},
    }
    people = list(coordinator.data.people.values())

    def snapshot(with_doors: list[dict[str, Any]]) -> None:
        coordinator.handle_message(
            {"type": "state", "change": "snapshot", "doors": with_doors, "people": people}
        )

    snapshot([*doors, garage])
    await hass.async_block_till_done()
    assert hass.states.get("switch.garage_pin").state == STATE_ON
    assert hass.states.get("event.garage_access_decision") is not None
    assert find_device(hass, mock_config_entry, "garage") is not None

    snapshot(doors)
    await hass.async_block_till_done()
    assert find_device(hass, mock_config_entry, "garage") is None
    assert hass.states.get("switch.garage_pin") is None

    snapshot([*doors, garage])  # and back again
    await hass.async_block_till_done()
    assert hass.states.get("switch.garage_pin").state == STATE_ON
