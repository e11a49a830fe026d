"""The integration's services against the real engine."""

from __future__ import annotations

import asyncio
import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from engine_client import EngineUnderTest
from homeassistant.components import persistent_notification
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
from test_facegate_fixtures import PIN, device_id, find_device, wait_for

from custom_components.facegate import const
from custom_components.facegate.const import DOMAIN


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


async def _person(
    hass: HomeAssistant, engine: EngineUnderTest, entry: MockConfigEntry, **kwargs: Any
) -> tuple[str, str]:
    """A new person in the engine, and their device once Home Assistant has it."""
    person = await hass.async_add_executor_job(lambda: engine.create_person("Li Wei", **kwargs))
    await wait_for(lambda: find_device(hass, entry, person["id"]) is not None)
    return person["id"], device_id(hass, entry, person["id"])


async def test_credentials_are_added_and_removed(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    person_id, device = await _person(hass, clean_engine, init_integration)
    added = await _call(
        hass,
        "add_credential",
        {"person": device, "kind": "pin", "value": PIN, "label": "keypad"},
    )
    assert added == {"id": added["id"], "kind": "pin", "label": "keypad"}
    await wait_for(lambda: hass.states.get("sensor.li_wei_credentials").state == "1")

    # The engine's refusals come with a code, said in the user's language; bad input, so a
    # ServiceValidationError.
    with pytest.raises(ServiceValidationError) as refused:
        await _call(hass, "add_credential", {"person": device, "kind": "pin", "value": "1111"})
    assert refused.value.translation_key == "refusal_pin_length"
    assert refused.value.translation_placeholders == {"low": "6", "high": "12"}
    with pytest.raises(ServiceValidationError) as weak:
        await _call(hass, "add_credential", {"person": device, "kind": "pin", "value": "123456"})
    assert weak.value.translation_key == "refusal_pin_weak"
    assert weak.value.translation_placeholders == {"weakness": "one repeated digit or a plain run"}

    await hass.services.async_call(
        DOMAIN,
        "remove_credential",
        {"person": device, "credential_id": added["id"]},
        blocking=True,
    )
    await wait_for(lambda: hass.states.get("sensor.li_wei_credentials").state == "0")
    person = await clean_engine.async_api("GET", f"/api/people/{person_id}")
    assert person["credentials"] == []


async def test_consent_is_renewed_only_with_the_persons_agreement_and_withdrawn(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    person_id, device = await _person(hass, clean_engine, init_integration, consent=True, days=30)
    # A month left: time to invite the person to renew it.
    await wait_for(lambda: hass.states.get("sensor.li_wei_face_consent").state == "expiring")
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "renew_consent", {"person": device, "agree": False}, blocking=True
        )
    assert refused.value.translation_key == "agree_required"

    await hass.services.async_call(
        DOMAIN, "renew_consent", {"person": device, "agree": True, "days": 200}, blocking=True
    )
    person = await clean_engine.async_api("GET", f"/api/people/{person_id}")
    assert person["consent"]["status"] == "live"
    assert person["consent"]["expires_at"] > person["consents"][0]["given_at"] + 199 * 86400
    await wait_for(lambda: hass.states.get("sensor.li_wei_face_consent").state == "live")

    await hass.services.async_call(DOMAIN, "withdraw_consent", {"person": device}, blocking=True)
    await wait_for(lambda: hass.states.get("switch.li_wei_face_consent").state == "off")


async def test_erasure_needs_confirmation_and_returns_the_receipt(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    person_id, device = await _person(hass, clean_engine, init_integration, pin=PIN)
    with pytest.raises(ServiceValidationError) as refused:
        await _call(hass, "erase_person", {"person": device, "confirm": False})
    assert refused.value.translation_key == "erase_needs_confirmation"

    receipt = await _call(hass, "erase_person", {"person": device, "confirm": True})
    assert receipt["deleted"]["credentials"] == 1
    await wait_for(lambda: find_device(hass, init_integration, person_id) is None)
    assert hass.states.get("switch.li_wei_face_consent") is None


async def test_an_export_is_deleted_after_its_day(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clean_engine: EngineUnderTest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(const, "EXPORT_KEEP_S", 0.3)
    _person_id, device = await _person(hass, clean_engine, init_integration, pin=PIN)
    response = await _call(hass, "export_person", {"person": device})
    assert response["deleted_after_s"] == 0.3
    path = Path(response["path"])
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1))  # the hourly sweep
    await hass.async_block_till_done()
    assert path.exists()  # not yet past its time
    await asyncio.sleep(0.4)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=2))
    await wait_for(lambda: not path.exists())


async def test_export_writes_a_private_file_under_the_config_dir(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    person_id, device = await _person(hass, clean_engine, init_integration, pin=PIN)
    response = await _call(hass, "export_person", {"person": device})
    assert response["deleted_after_s"] == 86400
    path = Path(response["path"])
    assert path.parent == Path(hass.config.path("facegate_exports"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["person"]["id"] == person_id
    assert PIN not in path.read_text(encoding="utf-8")
    # Erased, the person's exported file goes too (R7).
    await _call(hass, "erase_person", {"person": device, "confirm": True})
    await wait_for(lambda: not path.exists())


async def test_enrolment_needs_a_camera_door(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    _person_id, device = await _person(hass, clean_engine, init_integration, consent=True)
    door = device_id(hass, init_integration, "back_door")
    with pytest.raises(HomeAssistantError) as refused:
        await _call(hass, "enrol_from_camera", {"person": device, "door": door})
    assert refused.value.translation_key == "engine_refused"
    assert "no face camera" in refused.value.translation_placeholders["message"]


async def test_devices_that_are_not_people_or_doors_are_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    _person_id, person = await _person(hass, clean_engine, init_integration)
    door = device_id(hass, init_integration, "back_door")
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(DOMAIN, "withdraw_consent", {"person": door}, blocking=True)
    assert refused.value.translation_key == "unknown_person"
    with pytest.raises(ServiceValidationError) as refused:
        await _call(hass, "enrol_from_camera", {"person": person, "door": person})
    assert refused.value.translation_key == "unknown_door"
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "withdraw_consent", {"person": "no-such-device"}, blocking=True
        )
    with pytest.raises(vol.Invalid):
        await _call(hass, "add_credential", {"person": person, "kind": "iris", "value": "x"})


async def test_services_need_a_loaded_engine(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    _person_id, device = await _person(hass, clean_engine, init_integration)
    await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "withdraw_consent", {"person": device}, blocking=True
        )
    assert refused.value.translation_key == "not_loaded"


async def test_enrolment_refuses_a_door_of_another_engine(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    """Two entries (the same engine under two ids here): person and door must share one."""
    _person_id, device = await _person(hass, clean_engine, init_integration)
    other = MockConfigEntry(domain=DOMAIN, unique_id="other", data=dict(init_integration.data))
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    door = device_id(hass, other, "back_door")
    with pytest.raises(ServiceValidationError) as refused:
        await _call(hass, "enrol_from_camera", {"person": device, "door": door})
    assert refused.value.translation_key == "different_engines"
    await hass.config_entries.async_unload(other.entry_id)
    await hass.async_block_till_done()


async def test_only_an_administrator_may_call_the_actions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clean_engine: EngineUnderTest,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    """Every action changes or reveals a resident's data: a user who is not an administrator
    is refused, and the engine keeps the person as they were."""
    person_id, device = await _person(hass, clean_engine, init_integration, pin=PIN)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("add_credential", {"person": device, "kind": "tag", "value": "04:77:13:9a:21:c0"}),
        ("remove_credential", {"person": device, "credential_id": "x"}),
        ("renew_consent", {"person": device, "agree": True}),
        ("withdraw_consent", {"person": device}),
        ("erase_person", {"person": device, "confirm": True}),
        ("export_person", {"person": device}),
        ("create_person", {"name": "Zhao Lei"}),
        ("invite_person", {"person": device}),
    ]
    for service, data in calls:
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN,
                service,
                data,
                blocking=True,
                context=Context(user_id=hass_read_only_user.id),
            )
    person = await clean_engine.async_api("GET", f"/api/people/{person_id}")
    assert [c["kind"] for c in person["credentials"]] == ["pin"]
    # An administrator is let through (here to a refusal of the engine's own: no such id).
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            "remove_credential",
            {"person": device, "credential_id": "x"},
            blocking=True,
            context=Context(user_id=hass_admin_user.id),
        )


async def test_a_resident_is_added_and_invited_from_home_assistant(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    """The administrator's whole part: a name, then an invitation shown with its QR code. The
    consent stays the resident's own act on their phone (R2): nothing here records one."""
    shown: dict[str, Any] = {}
    persistent_notification.async_register_callback(hass, lambda _kind, notes: shown.update(notes))
    before = (await clean_engine.async_api("GET", "/api/audit/verify"))["last_seq"]
    answer = await _call(hass, "create_person", {"name": "王芳", "minor": True})
    assert answer["name"] == "王芳"
    invitation = answer["invitation"]
    assert "/invite/" in invitation["url"]
    assert invitation["qr_code"].startswith("data:image/svg+xml;base64,")
    [person] = (await clean_engine.async_api("GET", "/api/people"))["people"]
    assert (person["name"], person["minor"], person["consent"]) == (
        "王芳",
        True,
        {"status": "none"},
    )
    await wait_for(lambda: f"{DOMAIN}_invitation_{person['id']}" in shown)
    note = shown[f"{DOMAIN}_invitation_{person['id']}"]
    assert invitation["url"] in note["message"] and note["title"] == "Invitation for 王芳"
    assert f"![QR code]({invitation['qr_code']})" in note["message"]

    await wait_for(lambda: find_device(hass, init_integration, person["id"]) is not None)
    device = device_id(hass, init_integration, person["id"])
    again = await _call(hass, "invite_person", {"person": device})
    assert again["url"] != invitation["url"]  # a new link; the first one no longer works
    # The notification is replaced (one per person), and shown a moment later.
    await wait_for(lambda: again["url"] in shown[f"{DOMAIN}_invitation_{person['id']}"]["message"])
    assert invitation["url"] not in shown[f"{DOMAIN}_invitation_{person['id']}"]["message"]
    audit = await clean_engine.async_api("GET", f"/api/audit?after={before}&limit=1000")
    kinds = [e["kind"] for e in audit["entries"]]
    assert kinds.count("invitation_created") == 2 and "consent_given" not in kinds

    with pytest.raises(vol.Invalid):  # a name is all that is needed, and it is needed
        await _call(hass, "create_person", {"name": ""})
    with pytest.raises(HomeAssistantError) as refused:
        await _call(hass, "create_person", {"name": "a\u202eb"})  # a control character
    assert refused.value.translation_key == "engine_refused"


async def test_a_visitor_code_and_a_credential_that_ends(
    hass: HomeAssistant, init_integration: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    """As Keymaster's code slots: a code that ends or opens only so many times, and a
    visitor's code generated by the engine, shown once with a message to forward."""
    soon = dt_util.now() + timedelta(hours=3)
    visitor = await _call(hass, "add_visitor", {"name": "Plumber", "valid_until": soon.isoformat()})
    assert visitor["name"] == "Plumber" and visitor["code"].isdigit()
    assert (
        visitor["code"] in visitor["message"]["en"]
        and visitor["code"] in visitor["message"]["zh-Hans"]
    )
    granted = await clean_engine.async_api(
        "POST",
        "/api/access/credential",
        {"door": "back_door", "kind": "pin", "value": visitor["code"]},
    )
    assert (granted["result"], granted["person"]["name"]) == ("granted", "Plumber")

    person_id, device = await _person(hass, clean_engine, init_integration)
    await _call(
        hass,
        "add_credential",
        {"person": device, "kind": "tag", "value": "04:11:22:33:44:55", "max_uses": 1,
         "valid_until": soon.isoformat()},
    )  # fmt: skip
    person = await clean_engine.async_api("GET", f"/api/people/{person_id}")
    [tag] = [c for c in person["credentials"] if c["kind"] == "tag"]
    assert tag["max_uses"] == 1 and tag["valid_until"] is not None
    body = {"door": "back_door", "kind": "tag", "value": "04:11:22:33:44:55"}
    assert (await clean_engine.async_api("POST", "/api/access/credential", body))[
        "result"
    ] == "granted"
    second = await clean_engine.async_api("POST", "/api/access/credential", body)
    assert (second["result"], second["reason"]) == ("denied", "used_up")

    with pytest.raises(vol.Invalid):  # a visitor's code must end
        await _call(hass, "add_visitor", {"name": "Courier"})
