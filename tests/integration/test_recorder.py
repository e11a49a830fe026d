"""What Home Assistant's recorder keeps of the doors: the method and the reason of each
decision, never the name of who came in (R7, R10)."""

from __future__ import annotations

import asyncio

import pytest
from engine_client import EngineUnderTest
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.history import state_changes_during_period
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from test_facegate_fixtures import PIN, setup_entry, wait_for


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Here the recorder is set up before Home Assistant itself, as its fixture requires."""


async def test_the_recorder_keeps_no_name_of_who_came_in(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    """The door's event shows who came in while it is the latest, but the recorder's history
    (kept for days, and in every backup) holds the method and the reason, never the name."""
    coordinator = await setup_entry(hass, mock_config_entry)
    started = dt_util.utcnow()
    await hass.async_add_executor_job(
        lambda: clean_engine.create_person("Li Wei", consent=False, pin=PIN)
    )
    decision = await clean_engine.async_api(
        "POST", "/api/access/credential", {"door": "back_door", "kind": "pin", "value": PIN}
    )
    await wait_for(
        lambda: coordinator.data.decisions.get("back_door", {}).get("id") == decision["id"]
    )
    await hass.async_block_till_done()
    live = hass.states.get("event.back_door_access_decision")
    assert live is not None and live.attributes["person_name"] == "Li Wei"
    await async_wait_recording_done(hass)
    history = await get_instance(hass).async_add_executor_job(
        lambda: state_changes_during_period(
            hass, started, entity_id="event.back_door_access_decision"
        )
    )
    recorded = history["event.back_door_access_decision"]
    assert recorded and recorded[-1].attributes["method"] == "pin"
    assert all("person_name" not in state.attributes for state in recorded)


async def test_an_erased_person_s_history_is_purged_from_the_recorder(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    """Erasure reaches Home Assistant's own copy too (R7): the person's device, entities and
    the recorded history of those entities."""
    started = dt_util.utcnow()
    await hass.async_add_executor_job(
        lambda: clean_engine.create_person("Li Wei", consent=True, pin=PIN)
    )
    coordinator = await setup_entry(hass, mock_config_entry)
    entity = "sensor.li_wei_credentials"
    assert hass.states.get(entity).state == "1"

    async def history() -> list[object]:
        await async_wait_recording_done(hass)
        found = await get_instance(hass).async_add_executor_job(
            lambda: state_changes_during_period(hass, started, entity_id=entity)
        )
        return list(found.get(entity, []))

    assert await history()
    person_id = next(iter(coordinator.data.people))
    await clean_engine.async_api("DELETE", f"/api/people/{person_id}")
    await wait_for(lambda: hass.states.get(entity) is None)
    for _ in range(50):  # the purge runs on the recorder's own thread
        if not await history():
            break
        await asyncio.sleep(0.1)
    assert await history() == []
