"""Binary sensors: whether each door's camera is online (doors with a camera only), and
whether someone is guessing codes at it (doors with a keypad, card or tag reader); on the
engine's device, what its health says: the MQTT broker connected, the audit chain intact, every
camera online, and whether a face door runs without a liveness check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from .entity import FacegateDoorEntity, FacegateEntity, add_door_entities

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


type Health = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class EngineSensorDescription(BinarySensorEntityDescription):
    """A fact of the engine's health: on when `is_on` says so; `applies` to this engine at
    all (no camera sensor without cameras, no liveness sensor without a face door)."""

    is_on: Callable[[Health], bool | None]
    attributes: Callable[[Health], dict[str, Any]] = lambda _health: {}
    applies: Callable[[Health], bool] = lambda _health: True


ENGINE_SENSORS = (
    EngineSensorDescription(
        key="mqtt_connected",
        translation_key="mqtt_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on=lambda health: health.get("mqtt_connected"),
        applies=lambda health: health.get("mqtt_connected") is not None,
    ),
    EngineSensorDescription(
        key="audit_chain",
        translation_key="audit_chain",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on=lambda health: health.get("audit_ok") is False,
        attributes=lambda health: {"problem": health.get("audit_problem")},
    ),
    EngineSensorDescription(
        key="cameras",
        translation_key="cameras",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on=lambda health: any(not c.get("online") for c in health["cameras"].values()),
        attributes=lambda health: {
            "offline": sorted(n for n, c in health["cameras"].items() if not c.get("online"))
        },
        applies=lambda health: bool(health.get("cameras")),
    ),
    EngineSensorDescription(
        key="liveness_off",
        translation_key="liveness_off",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on=lambda health: bool(health.get("liveness_off")),
        attributes=lambda health: {"doors": list(health.get("liveness_off") or [])},
        applies=lambda health: "liveness_off" in health,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        FacegateEngineSensor(coordinator, description)
        for description in ENGINE_SENSORS
        if description.applies(coordinator.data.health)
    )
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


class FacegateEngineSensor(FacegateEntity, BinarySensorEntity):
    """One fact of the engine's health, on the engine's device; read again every minute and
    after a reconnect (coordinator.py), its problems also repair issues (repairs.py)."""

    entity_description: EngineSensorDescription

    @property
    def is_on(self) -> bool | None:
        return self.entity_description.is_on(self.coordinator.data.health)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return self.entity_description.attributes(self.coordinator.data.health)
