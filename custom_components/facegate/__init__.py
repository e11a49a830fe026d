"""facegate for Home Assistant: doors, residents, consent and credentials as entities.

The integration stays light: no vision library is ever imported here (they live in the engine).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from . import const
from .api import FacegateClient, FacegateError
from .const import DOMAIN
from .coordinator import (
    FacegateConfigEntry,
    FacegateCoordinator,
    FacegateData,
    unavailable_error,
)
from .entity import engine_device
from .locks import async_watch_locks
from .services import EXPORT_DIR, async_setup_services, remove_exports, remove_old_exports
from .tags import async_track_tags

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services, once for every entry."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: FacegateConfigEntry) -> bool:
    """Connect to the engine, load its state, then listen to its event stream."""
    client = FacegateClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_TOKEN],
    )
    try:
        installation = await client.installation()
    except FacegateError as error:
        raise unavailable_error(error, ConfigEntryNotReady) from error

    coordinator = FacegateCoordinator(hass, entry, client, installation)
    await coordinator.async_config_entry_first_refresh()
    # The engine's device first: doors and people are devices behind it.
    engine = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **engine_device(entry, installation)
    )
    entry.runtime_data = FacegateData(
        client=client,
        installation=installation,
        coordinator=coordinator,
        engine_device_id=engine.id,
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start()
    entry.async_on_unload(async_track_tags(hass, entry))
    entry.async_on_unload(async_watch_locks(hass, entry))
    entry.async_on_unload(coordinator.async_add_listener(_forget_erased(hass, entry)))
    entry.async_on_unload(_sweep_exports(hass))
    return True


def _sweep_exports(hass: HomeAssistant) -> Callable[[], None]:
    """Exported files past their day deleted now and every hour (services.py)."""

    @callback
    def sweep(_now: object = None) -> None:
        hass.async_add_executor_job(
            remove_old_exports, hass.config.path(EXPORT_DIR), const.EXPORT_KEEP_S
        )

    sweep()
    return async_track_time_interval(hass, sweep, timedelta(seconds=const.EXPORT_SWEEP_S))


def _forget_erased(hass: HomeAssistant, entry: FacegateConfigEntry) -> Callable[[], None]:
    """An erased person leaves Home Assistant too (R7): their device (their name), its
    entities and those entities' recorded history, and the files exported for them."""

    @callback
    def forget() -> None:
        data = entry.runtime_data.coordinator.data
        prefix = f"{entry.unique_id}_"
        present = {str(entry.unique_id)} | {prefix + key for key in (*data.doors, *data.people)}
        registry = dr.async_get(hass)
        entities = er.async_get(hass)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if any(identifier in present for _, identifier in device.identifiers):
                continue
            gone = [
                e.entity_id
                for e in er.async_entries_for_device(
                    entities, device.id, include_disabled_entities=True
                )
            ]
            keys = [i.removeprefix(prefix) for d, i in device.identifiers if d == DOMAIN]
            registry.async_remove_device(device.id)
            if gone and "recorder" in hass.config.components:
                hass.async_create_task(
                    hass.services.async_call(
                        "recorder", "purge_entities", {"entity_id": gone, "keep_days": 0}
                    ),
                    f"{DOMAIN} purge the history of {device.id}",
                )
            if keys and device.model == "Resident":
                hass.async_add_executor_job(remove_exports, hass.config.path(EXPORT_DIR), keys[0])

    return forget


async def async_unload_entry(hass: HomeAssistant, entry: FacegateConfigEntry) -> bool:
    """Unload the platforms; the event stream and health tasks end with the entry, and its
    repair issues go (nothing of it is left to repair)."""
    entry.runtime_data.coordinator.repairs.clear()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
