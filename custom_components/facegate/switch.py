"""Switches: each access method of a door, and each person's face consent."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import METHODS
from .coordinator import FacegateConfigEntry, FacegateCoordinator
from .entity import (
    FacegateDoorEntity,
    FacegatePersonEntity,
    add_door_entities,
    add_person_entities,
    engine_call,
)
from .invitation import hand_over

PARALLEL_UPDATES = 1

METHOD_SWITCHES = {
    method: SwitchEntityDescription(
        key=f"method_{method}",
        translation_key=f"method_{method}",
        entity_category=EntityCategory.CONFIG,
    )
    for method in METHODS
}
FACE_CONSENT = SwitchEntityDescription(key="face_consent", translation_key="face_consent")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_door_entities(
        entry,
        async_add_entities,
        lambda coordinator, door_id, door: [
            FacegateMethodSwitch(coordinator, door_id, method)
            for method in door.get("methods", [])
            if method in METHOD_SWITCHES
        ],
    )
    add_person_entities(
        entry,
        async_add_entities,
        lambda coordinator, person_id: [FacegateConsentSwitch(coordinator, person_id)],
    )


class FacegateMethodSwitch(FacegateDoorEntity, SwitchEntity):
    """One configured method of a door, switched on or off at the engine."""

    def __init__(self, coordinator: FacegateCoordinator, door_id: str, method: str) -> None:
        super().__init__(coordinator, METHOD_SWITCHES[method], door_id)
        self.method = method

    @property
    def is_on(self) -> bool:
        return self.method in self.door.get("enabled", [])

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        # R4 (never the face alone) is the engine's to enforce: its refusal comes back as a
        # translated error (entity.engine_error).
        await self._set(False)

    async def _set(self, enabled: bool) -> None:
        client = self.coordinator.client
        door = await engine_call(client.set_door_method(self.door_id, self.method, enabled))
        data = self.coordinator.data
        self.coordinator.async_set_updated_data(
            replace(data, doors={**data.doors, self.door_id: door})
        )


class FacegateConsentSwitch(FacegatePersonEntity, SwitchEntity):
    """On while the person's consent to face processing is live; off withdraws it."""

    def __init__(self, coordinator: FacegateCoordinator, person_id: str) -> None:
        super().__init__(coordinator, FACE_CONSENT, person_id)

    @property
    def is_on(self) -> bool:
        return bool(self.person.get("consent", {}).get("status") == "live")

    async def async_turn_on(self, **kwargs: Any) -> None:
        # R2: consent is the person's own act, after reading the notice, never a switch here.
        # Turning it on hands the person an invitation instead (a notification with its QR
        # code); the switch turns on when they have consented on their own phone.
        await hand_over(
            self.hass,
            self.coordinator.client,
            self.person_id,
            str(self.person.get("name", "")),
        )
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        await engine_call(self.coordinator.client.withdraw_consent(self.person_id))
