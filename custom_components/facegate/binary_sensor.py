"""Binary sensors: whether each door's camera is online (doors with a camera only)."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory

try:  # its own module since Home Assistant 2026
    from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
except ImportError:
    from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
        BinarySensorDeviceClass,
    )
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import FacegateConfigEntry, FacegateCoordinator
from .entity import FacegateDoorEntity, add_door_entities

PARALLEL_UPDATES = 0

CAMERA_ONLINE = BinarySensorEntityDescription(
    key="camera_online",
    translation_key="camera_online",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_door_entities(
        entry,
        async_add_entities,
        lambda coordinator, door_id, door: (
            [FacegateCameraOnline(coordinator, door_id)] if door.get("camera") else []
        ),
    )


class FacegateCameraOnline(FacegateDoorEntity, BinarySensorEntity):
    """On while the door's camera delivers frames."""

    def __init__(self, coordinator: FacegateCoordinator, door_id: str) -> None:
        super().__init__(coordinator, CAMERA_ONLINE, door_id)

    @property
    def is_on(self) -> bool:
        return bool((self.door.get("camera") or {}).get("online"))
