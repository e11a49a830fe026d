"""Diagnostics carry the engine's state with every personal field and secret redacted."""

from __future__ import annotations

import asyncio
import json

from engine_client import EngineUnderTest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from test_facegate_fixtures import PIN, placeholders, setup_entry, wait_for

from custom_components.facegate.const import CONF_TAGS
from custom_components.facegate.diagnostics import async_get_config_entry_diagnostics

TAG = "04:77:13:9a:21:c0"


async def test_diagnostics_redact_everything_personal(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
    clean_engine: EngineUnderTest,
    snapshot: SnapshotAssertion,
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

    await asyncio.sleep(0.5)  # the live camera's frames move on after setup
    diagnostics = await async_get_config_entry_diagnostics(hass, mock_config_entry)
    # The engine's health is read afresh, not the copy from setup.
    cached = coordinator.data.health["cameras"]["side_cam"]["frames"]
    assert diagnostics["health"]["cameras"]["side_cam"]["frames"] > cached
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
    assert {door["id"] for door in diagnostics["doors"]} == {
        "front_door",
        "back_door",
        "side_door",
    }

    # Served by Home Assistant it is the same, and matches the snapshot (snapshots-ha<release>/),
    # which holds none of the secrets above. The engine's port, its clock's readings, its doors'
    # attempt counters, its count of stream clients, its live camera's frame counters and its
    # vision workers (one per core; the counters depend on the tests before) vary between runs:
    # placeholders there.
    served = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    # The same, but for the health read afresh on each call: the live camera's counters move.
    assert {**served, "health": None} == {**json.loads(text), "health": None}
    assert served["health"].keys() == diagnostics["health"].keys()
    assert served == snapshot(
        matcher=placeholders(
            {},
            {
                "entry.data.port": "engine port",
                "doors.*.credential_attempts.*": "since the engine started",
                "health.event_clients": "stream clients",
                "health.cameras.side_cam.frames": "frames so far",
                "health.cameras.side_cam.last_frame_age": "frame age",
                "health.cameras.side_cam.reconnects": "reconnects so far",
                "health.vision.workers": "one per core",
                "health.vision.cameras.side_cam.*": "vision counters",
                "decisions.0.latency_ms": "latency",
                "decisions.0.ts": "decided at",
                "people.0.created_at": "created at",
                "people.0.consent.expires_at": "consent expires at",
            },
        )
    )
