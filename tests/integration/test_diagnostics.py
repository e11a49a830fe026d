"""Diagnostics carry the engine's state with every personal field and secret redacted."""

from __future__ import annotations

import json

from engine_harness import EngineUnderTest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from test_facegate_fixtures import *  # noqa: F403 - the shared fixtures
from test_facegate_fixtures import PIN, setup_entry, wait_for

from custom_components.facegate.const import CONF_TAGS
from custom_components.facegate.diagnostics import async_get_config_entry_diagnostics

TAG = "04:77:13:9a:21:c0"


async def test_diagnostics_redact_everything_personal(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    person = await hass.async_add_executor_job(
        lambda: clean_engine.create_person("Zhang Min", consent=True, pin=PIN, tag=TAG)
    )
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_TAGS: {"back_door": [TAG]}}
    )
    coordinator = await setup_entry(hass, mock_config_entry)
    await clean_engine.async_api(
        "POST", "/api/access/credential", {"door": "back_door", "kind": "pin", "value": PIN}
    )
    await wait_for(lambda: "back_door" in coordinator.data.decisions)

    diagnostics = await async_get_config_entry_diagnostics(hass, mock_config_entry)
    text = json.dumps(diagnostics, ensure_ascii=False)
    for secret in (
        "Zhang Min",
        person["id"],
        person["credentials"][0]["id"],
        PIN,
        TAG,
        clean_engine.token,
        clean_engine.event_key,
        clean_engine.installation_id,
        coordinator.data.decisions["back_door"]["sig"],
    ):
        assert secret not in text

    # What is left is what helps: states, counts and the doors' configuration.
    assert diagnostics["event_stream_connected"] is True
    assert diagnostics["entry"]["data"]["token"] == "**REDACTED**"
    [redacted] = diagnostics["people"]
    assert redacted["consent"]["status"] == "live"
    assert [c["kind"] for c in redacted["credentials"]] == ["pin", "tag"]
    [decision] = diagnostics["decisions"]
    assert (decision["result"], decision["person"]) == (
        "granted",
        {"id": "**REDACTED**", "name": "**REDACTED**"},
    )
    assert {door["id"] for door in diagnostics["doors"]} == {"front_door", "back_door"}
