"""Buttons: erase everything about a person, which a bare press never does.

Erasure cannot be undone, and a button is one tap away on any dashboard, so the press only
explains how to erase: the `facegate.erase_person` service with `confirm: true`, a deliberate
act that also returns the deletion receipt.
"""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import FacegateConfigEntry, FacegateCoordinator
from .entity import FacegatePersonEntity, add_person_entities

PARALLEL_UPDATES = 1

ERASE = ButtonEntityDescription(key="erase", translation_key="erase")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_person_entities(
        entry,
        async_add_entities,
        lambda coordinator, person_id: [FacegateEraseButton(coordinator, person_id)],
    )


class FacegateEraseButton(FacegatePersonEntity, ButtonEntity):
    """Refuses, pointing to the erase_person service and its confirmation field."""

    def __init__(self, coordinator: FacegateCoordinator, person_id: str) -> None:
        super().__init__(coordinator, ERASE, person_id)

    async def async_press(self) -> None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="erase_needs_confirmation"
        )
