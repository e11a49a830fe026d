"""Binary sensors: whether each door's camera is online (doors with a camera only), and
whether someone is guessing codes at it (doors with a keypad, card or tag reader)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory

try:  # its own module since Home Assistant 2026 (the ignores as in compat.py)
    from homeassistant.components.binary_sensor.const import (  # type: ignore[import-not-found, unused-ignore]
        BinarySensorDeviceClass,
    )
except ImportError:
    from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined, unused-ignore]
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


GUESSING_ATTACK = BinarySensorEntityDescription(
    key="guessing_attack",
    translation_key="guessing_attack",
    device_class=BinarySensorDeviceClass.PROBLEM,
)
# A door's methods that someone can guess at; the engine locks each out on its own (R12).
GUESSABLE = frozenset({"pin", "card", "tag", "phone"})


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_door_entities(
        entry,
        async_add_entities,
        lambda coordinator, door_id, door: [
            *([FacegateCameraOnline(coordinator, door_id)] if door.get("camera") else []),
            *(
                [FacegateGuessingAttack(coordinator, door_id)]
                if GUESSABLE & set(door.get("methods", []))
                else []
            ),
        ],
    )


class FacegateCameraOnline(FacegateDoorEntity, BinarySensorEntity):
    """On while the door's camera delivers frames."""

    def __init__(self, coordinator: FacegateCoordinator, door_id: str) -> None:
        super().__init__(coordinator, CAMERA_ONLINE, door_id)

    @property
    def is_on(self) -> bool:
        return bool((self.door.get("camera") or {}).get("online"))


class FacegateGuessingAttack(FacegateDoorEntity, BinarySensorEntity):
    """On while the engine sees a guessing attack at the door: a method locked out twice or
    more in a row within a day. The methods under attack and the lockout are attributes."""

    def __init__(self, coordinator: FacegateCoordinator, door_id: str) -> None:
        super().__init__(coordinator, GUESSING_ATTACK, door_id)

    @property
    def _attempts(self) -> dict[str, Any]:
        attempts = self.door.get("credential_attempts")
        return attempts if isinstance(attempts, dict) else {}

    @property
    def is_on(self) -> bool:
        return bool(self._attempts.get("under_attack"))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        attempts = self._attempts
        return {
            "methods": list(attempts.get("under_attack", [])),
            "locked_methods": list(attempts.get("locked_methods", [])),
            "lockouts": attempts.get("lockouts", 0),
        }
