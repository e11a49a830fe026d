"""The blueprints under blueprints/automation/facegate/, as Home Assistant loads them, driven by
real decisions of the real engine: the action runs for what the blueprint promises and for
nothing else."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine_client import EngineUnderTest
from engine_harness import REPO
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)
from test_facegate_fixtures import PIN, wait_for

BLUEPRINTS = REPO / "blueprints" / "automation" / "facegate"
DOOR = "event.back_door_access_decision"


async def _use(hass: HomeAssistant, tmp_path: Path, *automations: dict[str, Any]) -> None:
    """The repository's blueprints in this Home Assistant's config folder, then automations
    made from them."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "facegate")
    assert await async_setup_component(hass, "automation", {"automation": list(automations)})
    await hass.async_block_till_done()


async def _present(engine: EngineUnderTest, value: str) -> dict[str, Any]:
    body = {"door": "back_door", "kind": "pin", "value": value}
    decision: dict[str, Any] = await engine.async_api("POST", "/api/access/credential", body)
    return decision


async def test_a_refusal_at_a_door_runs_the_chosen_action(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clean_engine: EngineUnderTest,
    tmp_path: Path,
) -> None:
    notified = async_mock_service(hass, "notify", "notify")
    message = "{{ door }}|{{ method }}|{{ reason }}|{{ who }}"
    await _use(
        hass,
        tmp_path,
        {
            "use_blueprint": {
                "path": "facegate/refused_at_door.yaml",
                "input": {
                    "doors": [DOOR],
                    "refused_action": [{"action": "notify.notify", "data": {"message": message}}],
                },
            }
        },
    )
    await hass.async_add_executor_job(lambda: clean_engine.create_person("Li Wei", pin=PIN))
    assert (await _present(clean_engine, PIN))["result"] == "granted"
    assert (await _present(clean_engine, "958231"))["result"] == "denied"
    await wait_for(lambda: len(notified) == 1)
    await hass.async_block_till_done()
    assert [call.data["message"] for call in notified] == ["Back door|pin|unknown|"]


async def test_a_granted_entry_at_night_turns_the_light_on_and_off(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clean_engine: EngineUnderTest,
    tmp_path: Path,
) -> None:
    on = async_mock_service(hass, "light", "turn_on")
    off = async_mock_service(hass, "light", "turn_off")
    blueprint = "facegate/night_entry_light.yaml"
    # One whose hours hold all day (a test cannot wait for the night), one whose never do.
    always = {"after": "00:00:00", "before": "23:59:59", "minutes": 1}
    never = {"after": "00:00:00", "before": "00:00:01", "minutes": 1}
    await _use(
        hass,
        tmp_path,
        *(
            {
                "id": name,
                "use_blueprint": {
                    "path": blueprint,
                    "input": {"doors": [DOOR], "light": f"light.{name}", **hours},
                },
            }
            for name, hours in (("hall", always), ("porch", never))
        ),
    )
    await hass.async_add_executor_job(lambda: clean_engine.create_person("Li Wei", pin=PIN))
    assert (await _present(clean_engine, "958232"))["result"] == "denied"
    assert (await _present(clean_engine, PIN))["result"] == "granted"
    await wait_for(lambda: len(on) == 1)  # (not block_till_done: it would sit out the delay)
    assert [call.data["entity_id"] for call in on] == [["light.hall"]]
    assert off == []  # not before its minute
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2))
    await wait_for(lambda: len(off) == 1)
    assert [call.data["entity_id"] for call in off] == [["light.hall"]]
