"""Companion-app NFC tags: `tag_scanned` events presented to the engine as tag credentials."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import Event, HomeAssistant, callback

from .api import FacegateError
from .const import CONF_TAG_DEVICES, CONF_TAGS, LOGGER
from .coordinator import FacegateConfigEntry

EVENT_TAG_SCANNED = "tag_scanned"


def door_for_tag(entry: FacegateConfigEntry, tag_id: str, device_id: str | None) -> str | None:
    """The door a scan belongs to: the reader's door first, then the tag's own."""
    devices: dict[str, list[str]] = entry.options.get(CONF_TAG_DEVICES, {})
    tags: dict[str, list[str]] = entry.options.get(CONF_TAGS, {})
    for door, readers in devices.items():
        if device_id is not None and device_id in readers:
            return door
    for door, tag_ids in tags.items():
        if tag_id in tag_ids:
            return door
    return None


@callback
def async_track_tags(hass: HomeAssistant, entry: FacegateConfigEntry) -> Callable[[], None]:
    """Forward scans of configured tags or readers; everything else is ignored."""

    async def forward(event: Event) -> None:
        tag_id = event.data.get("tag_id")
        if not isinstance(tag_id, str) or not tag_id:
            return
        door = door_for_tag(entry, tag_id, event.data.get("device_id"))
        if door is None:
            return
        try:
            await entry.runtime_data.client.present_credential(door, "tag", tag_id)
        except FacegateError as error:
            LOGGER.warning("Could not present a scanned tag at %s: %s", door, error)

    return hass.bus.async_listen(EVENT_TAG_SCANNED, forward)
