"""Diagnostics: the engine's state with every personal field and secret redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .api import FacegateError
from .const import CONF_EVENT_KEY, CONF_INSTALLATION_ID, CONF_TAG_DEVICES, CONF_TAGS
from .coordinator import FacegateConfigEntry

TO_REDACT = {
    CONF_EVENT_KEY,
    CONF_INSTALLATION_ID,
    CONF_TAGS,
    CONF_TAG_DEVICES,
    "host",
    "token",
    "id",
    "person_id",
    "name",
    "signer",
    "guardian",
    "witness",
    "entered_by",
    "label",
    "birth_year",
    "leaves_on",
    "sig",
    "last_error",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: FacegateConfigEntry
) -> dict[str, Any]:
    coordinator = entry.runtime_data.coordinator
    installation = entry.runtime_data.installation
    data = coordinator.data
    try:
        # As it is now: the cameras' counters and the vision stage's figures move all the time.
        health = await coordinator.client.health()
    except FacegateError:
        health = data.health  # the engine cannot be reached: what was read last
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "installation": {
            "version": installation.version,
            "mqtt_prefix": installation.mqtt_prefix,
        },
        "event_stream_connected": coordinator.last_update_success,
        "health": async_redact_data(health, TO_REDACT),
        "doors": list(data.doors.values()),
        # A list, not a mapping: people's ids must not survive as keys.
        "people": [async_redact_data(person, TO_REDACT) for person in data.people.values()],
        "decisions": [async_redact_data(event, TO_REDACT) for event in data.decisions.values()],
    }
