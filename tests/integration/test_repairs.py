"""Repairs and the engine's health in Home Assistant, against the real engine: what needs a
person becomes a translated repair issue and an entity on the engine's device, and goes away
by itself once fixed; the health is read again on a timer and after a reconnect."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from engine_client import FACE_DOOR, EngineUnderTest
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from test_facegate_fixtures import open_issues, setup_entry, wait_for

from custom_components.facegate import const


async def test_a_face_door_without_liveness_is_named_on_the_engine_and_in_repairs(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    # The harness's side door has its liveness off (engine_client.DOORS): what must show.
    issues = open_issues(hass, init_integration)
    issue = issues[f"liveness_off_{FACE_DOOR}"]
    assert (issue.translation_key, issue.severity) == ("liveness_off", ir.IssueSeverity.WARNING)
    assert issue.translation_placeholders == {"door": FACE_DOOR}
    sensor = hass.states.get("binary_sensor.facegate_liveness_check_off")
    assert sensor.state == STATE_ON and sensor.attributes["doors"] == [FACE_DOOR]
    assert hass.states.get("binary_sensor.facegate_mqtt_broker").state == STATE_ON
    assert hass.states.get("binary_sensor.facegate_audit_log").state == STATE_OFF  # no problem
    assert "audit_broken" not in issues and "mqtt_down" not in issues


async def test_what_health_says_becomes_issues_and_entities_and_goes_when_fixed(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    healthy = dict(coordinator.data.health)
    people = [{"name": "Wang Fang", "consent": {"status": "needs_renewal"}}]
    broken: dict[str, Any] = {
        **healthy,
        "audit_ok": False,
        "audit_problem": "entry 7 was altered",
        "mqtt_connected": False,
        "cameras": {"side_cam": {"online": False}},
        "tampered_rows": {"people": ["p1"]},
        "refused_templates": 2,
        "under_attack": {"front_door": ["pin"]},
    }
    coordinator.repairs.sync_health(broken, people)
    coordinator.async_set_updated_data(replace(coordinator.data, health=broken))
    await hass.async_block_till_done()
    issues = open_issues(hass, init_integration)
    assert issues["audit_broken"].translation_placeholders == {"problem": "entry 7 was altered"}
    assert issues["audit_broken"].severity == ir.IssueSeverity.ERROR
    assert "mqtt_down" in issues and "camera_offline_side_cam" in issues
    assert issues["tampered"].translation_placeholders == {"count": "3"}
    assert issues["guessing_attack_front_door"].translation_placeholders == {
        "door": "front_door",
        "methods": "pin",
    }
    assert issues["consents_need_renewal"].translation_placeholders == {
        "count": "1",
        "names": "Wang Fang",
    }
    assert hass.states.get("binary_sensor.facegate_audit_log").state == STATE_ON
    assert hass.states.get("binary_sensor.facegate_mqtt_broker").state == STATE_OFF
    cameras = hass.states.get("binary_sensor.facegate_cameras")
    assert cameras.state == STATE_ON and cameras.attributes["offline"] == ["side_cam"]

    coordinator.repairs.sync_health(healthy, [])
    # Left: what is still true of the harness (test_onboarding.py repairs the missing locks).
    assert set(open_issues(hass, init_integration)) == {
        f"liveness_off_{FACE_DOOR}",
        "lock_missing_back_door",
        f"lock_missing_{FACE_DOOR}",
    }


async def test_the_health_is_read_again_on_a_timer(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    clean_engine: EngineUnderTest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(const, "HEALTH_POLL_S", 0.2)
    coordinator = await setup_entry(hass, mock_config_entry)
    assert coordinator.data.health["people"] == 0
    await hass.async_add_executor_job(lambda: clean_engine.create_person("Zhou Li"))
    await wait_for(lambda: coordinator.data.health["people"] == 1)
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    assert open_issues(hass, mock_config_entry) == {}  # nothing of an unloaded engine to repair


async def test_the_repair_texts_exist_in_both_languages() -> None:
    import json
    from pathlib import Path

    folder = Path(const.__file__).parent / "translations"
    for language in ("en", "zh-Hans"):
        issues = json.loads((folder / f"{language}.json").read_text(encoding="utf-8"))["issues"]
        for key in (
            "audit_broken", "mqtt_down", "camera_offline", "tampered", "guessing_attack",
            "liveness_off", "consents_need_renewal", "lock_failed", "decisions_stale",
        ):  # fmt: skip
            assert issues[key]["title"] and issues[key]["description"], (language, key)
