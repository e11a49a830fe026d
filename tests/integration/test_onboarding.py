"""The main journey inside Home Assistant, against the real engine: an administrator adds a
resident and hands over the invitation; the resident consents and enrols a face on their own
phone (the engine's resident pages); Home Assistant shows them by itself. And the two failures
that leave a resident at a shut door — a lock that does not exist, the broker gone — are repair
issues that go away by themselves once fixed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine_client import ENROL_PHOTO, EngineUnderTest
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from resident_phone import ResidentPhone
from test_facegate_fixtures import add_test_lock, find_device, open_issues, setup_entry, wait_for

from custom_components.facegate.const import CONF_LOCKS, DOMAIN

BROKER_BACK_S = 60.0  # the engine's link retries at 1 s, doubling up to 30 s


async def test_a_resident_added_in_home_assistant_consents_and_enrols_on_their_phone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clean_engine: EngineUnderTest,
    hass_admin_user: MockUser,
) -> None:
    answer = await hass.services.async_call(
        DOMAIN,
        "create_person",
        {"name": "Wang Fang"},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert answer is not None
    link = str(answer["invitation"]["url"])
    [person] = (await clean_engine.async_api("GET", "/api/people"))["people"]
    person_id = person["id"]
    await wait_for(lambda: find_device(hass, init_integration, person_id) is not None)
    assert hass.states.get("switch.wang_fang_face_consent").state == STATE_OFF
    assert hass.states.get("sensor.wang_fang_face_consent").state == "none"
    assert hass.states.get("sensor.wang_fang_face_photos_enrolled").state == "0"
    assert hass.states.get("sensor.wang_fang_face_consent_expires") is None

    # The resident, on their phone: the link, the notice and consent, one face photo.
    photo = await hass.async_add_executor_job(
        (clean_engine.data_dir.parent / ENROL_PHOTO).read_bytes
    )
    phone = ResidentPhone()
    welcome, faces, home = await phone.async_run(
        ("open_invitation", link), ("consent", "Wang Fang"), ("enrol", photo)
    )
    assert "Wang Fang" in welcome and 'name="image"' in faces
    assert "1 photo(s) enrolled" in home

    # Home Assistant was told over the event stream: nothing here asked the engine again.
    await wait_for(lambda: hass.states.get("switch.wang_fang_face_consent").state == STATE_ON)
    await wait_for(lambda: hass.states.get("sensor.wang_fang_face_photos_enrolled").state == "1")
    assert hass.states.get("sensor.wang_fang_face_consent").state == "live"
    expires = hass.states.get("sensor.wang_fang_face_consent_expires")
    assert expires is not None
    until = dt.datetime.fromisoformat(expires.state) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=360) < until <= dt.timedelta(days=366)
    person = await clean_engine.async_api("GET", f"/api/people/{person_id}")
    assert person["consent"]["status"] == "live" and person["templates"] == 1


async def test_a_door_whose_lock_does_not_exist_is_a_repair_until_it_does(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """The harness binds the back and side doors to lock.back_door and lock.side_door, which
    this Home Assistant does not have: said before anyone is let in."""
    issues = open_issues(hass, init_integration)
    back, side = issues["lock_missing_back_door"], issues["lock_missing_side_door"]
    assert (back.severity, back.is_fixable) == (ir.IssueSeverity.ERROR, True)
    assert back.translation_placeholders == {"door": "Back door", "lock": "lock.back_door"}
    assert side.translation_placeholders == {"door": "Side door", "lock": "lock.side_door"}
    assert "lock_missing_front_door" not in issues  # its lock is an MQTT topic

    # Fixed by adding the lock: the issue goes by itself.
    await add_test_lock(hass, "Back door")
    await wait_for(lambda: "lock_missing_back_door" not in open_issues(hass, init_integration))

    # Fixed from the issue itself, as Settings → Repairs does it: another lock chosen.
    await add_test_lock(hass, "Garden gate")
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    issue_id = f"{init_integration.entry_id}_lock_missing_side_door"
    started = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow: dict[str, Any] = await started.json()
    assert flow["step_id"] == "choose", flow
    assert flow["description_placeholders"]["door"] == "Side door"
    done = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={"lock": "lock.garden_gate"}
    )
    assert (await done.json())["type"] == "create_entry"
    assert init_integration.options[CONF_LOCKS]["side_door"] == "lock.garden_gate"
    await hass.async_block_till_done()
    assert (
        open_issues(hass, init_integration)
        .keys()
        .isdisjoint({"lock_missing_back_door", "lock_missing_side_door"})
    )

    assert hass.states.get("lock.garden_gate") is not None
    # The chosen lock removed from Home Assistant: said again, at once.
    er.async_get(hass).async_remove("lock.garden_gate")
    await wait_for(lambda: "lock_missing_side_door" in open_issues(hass, init_integration))


async def test_the_broker_stopping_is_a_repair_until_it_is_back(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    await setup_entry(hass, mock_config_entry)
    broker = "binary_sensor.facegate_mqtt_broker"
    assert hass.states.get(broker).state == STATE_ON
    assert "mqtt_down" not in open_issues(hass, mock_config_entry)
    try:
        await clean_engine.async_set_broker(False)
        # The engine says so on its event stream within seconds (no health poll needed).
        await wait_for(lambda: "mqtt_down" in open_issues(hass, mock_config_entry), timeout=20)
        assert hass.states.get(broker).state == STATE_OFF
        issue = open_issues(hass, mock_config_entry)["mqtt_down"]
        assert issue.severity == ir.IssueSeverity.ERROR
    finally:
        await clean_engine.async_set_broker(True)
    await wait_for(
        lambda: "mqtt_down" not in open_issues(hass, mock_config_entry), timeout=BROKER_BACK_S
    )
    assert hass.states.get(broker).state == STATE_ON
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
