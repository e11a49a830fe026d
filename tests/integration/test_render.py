"""A docs generator, not a check: the entities as Home Assistant shows them, for the README.

Skipped unless FACEGATE_RENDER_OUT names a JSON file to write (inside the repository, so the
Home Assistant 2026 chroot sees it; a relative path is taken from the repository's root). Then
it sets the integration up against the real engine with one consenting resident who has a PIN,
presents that PIN at the back door so a decision event exists, and writes every facegate
entity (entity id, friendly name as Home Assistant composes it from the device and entity
names, state, unit, device class, icon, entity category, attributes), grouped by device, plus
the config flow's user step form as Home Assistant serialises it for the frontend.
`scripts/render_entities.py` turns that file into the pictures under docs/:

    FACEGATE_RENDER_OUT=docs/ha-entities.json bash scripts/ha_test.sh 2026
    /tmp/fgvenv/bin/python scripts/render_entities.py docs/ha-entities.json
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from engine_harness import REPO, EngineUnderTest
from homeassistant import const as ha_const
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.icon import async_get_icons
from pytest_homeassistant_custom_component.common import MockConfigEntry
from test_facegate_fixtures import setup_entry, wait_for

from custom_components.facegate.const import DOMAIN

ENV_OUT = "FACEGATE_RENDER_OUT"
RESIDENT = "Li Wei"
RESIDENT_PIN = "583027"  # its own code: the engine's lockouts are per door, across tests
# Attributes shown as columns of their own, or that say nothing about the entity.
SHOWN_ELSEWHERE = {"friendly_name", "icon", "unit_of_measurement", "device_class"}

pytestmark = pytest.mark.skipif(
    not os.environ.get(ENV_OUT), reason=f"docs generator: set {ENV_OUT} to a JSON file to write"
)


def _icon(icons: dict[str, Any], platform: str, key: str | None, state: State) -> str | None:
    """The icon the frontend shows for a translated entity (icons.json: the state's, or for an
    event entity its last event type's, else the default)."""
    entry = icons.get(platform, {}).get(key or "", {})
    if platform == "event":
        by_type = entry.get("state_attributes", {}).get("event_type", {}).get("state", {})
        return by_type.get(state.attributes.get("event_type")) or entry.get("default")
    return entry.get("state", {}).get(state.state) or entry.get("default")


def _serialise_schema(schema: Any) -> list[dict[str, Any]]:
    """The form's fields as the config flow view hands them to the frontend."""
    try:  # Home Assistant 2026
        import probatio

        fields: list[dict[str, Any]] = probatio.to_field_list(
            schema, custom_serializer=cv.custom_serializer
        )
    except ImportError:  # earlier releases
        import voluptuous_serialize

        fields = voluptuous_serialize.convert(schema, custom_serializer=cv.custom_serializer)
    return json.loads(json.dumps(fields, default=str))


async def test_render_entities(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    await hass.async_add_executor_job(
        lambda: clean_engine.create_person(RESIDENT, consent=True, pin=RESIDENT_PIN)
    )
    coordinator = await setup_entry(hass, mock_config_entry)
    decision = await clean_engine.async_api(
        "POST",
        "/api/access/credential",
        {"door": "back_door", "kind": "pin", "value": RESIDENT_PIN},
    )
    assert decision["result"] == "granted"
    await wait_for(
        lambda: coordinator.data.decisions.get("back_door", {}).get("id") == decision["id"]
    )
    await hass.async_block_till_done()

    icons = (await async_get_icons(hass, "entity", [DOMAIN]))[DOMAIN]
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    cards: list[dict[str, Any]] = []
    for device in dr.async_entries_for_config_entry(devices, mock_config_entry.entry_id):
        via = devices.async_get(device.via_device_id) if device.via_device_id else None
        rows = []
        for entry in er.async_entries_for_device(entities, device.id):
            state = hass.states.get(entry.entity_id)
            assert state is not None, entry.entity_id
            attributes = dict(state.attributes)
            rows.append(
                {
                    "entity_id": entry.entity_id,
                    "domain": entry.domain,
                    "translation_key": entry.translation_key,
                    "friendly_name": attributes.get("friendly_name"),
                    "state": state.state,
                    "unit": attributes.get("unit_of_measurement"),
                    "device_class": attributes.get("device_class"),
                    "icon": attributes.get("icon")
                    or _icon(icons, entry.domain, entry.translation_key, state),
                    "entity_category": entry.entity_category,
                    "attributes": {
                        key: value
                        for key, value in attributes.items()
                        if key not in SHOWN_ELSEWHERE
                    },
                }
            )
        cards.append(
            {
                "name": device.name,
                "model": device.model,
                "manufacturer": device.manufacturer,
                "sw_version": device.sw_version,
                "via_device": via.name if via else None,
                "entities": sorted(rows, key=lambda row: row["entity_id"]),
            }
        )
    order = {"Engine": 0, "Door": 1, "Resident": 2}
    cards.sort(key=lambda card: (order.get(card["model"], 3), card["name"] or ""))

    form = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    hass.config_entries.flow.async_abort(form["flow_id"])

    rendered = json.loads(json.dumps(cards, default=str))
    text = json.dumps(rendered, ensure_ascii=False)
    assert RESIDENT_PIN not in text  # never a PIN, not even in the docs
    document = {
        "generated_by": "tests/integration/test_render.py",
        "home_assistant": ha_const.__version__,
        "devices": rendered,
        "config_flow_user": {
            "step_id": form["step_id"],
            "data_schema": _serialise_schema(form["data_schema"]),
        },
    }
    out = Path(os.environ[ENV_OUT])
    out = out if out.is_absolute() else REPO / out
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
