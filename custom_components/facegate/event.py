"""Access decisions as one event entity per door."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import RESULTS
from .coordinator import FacegateConfigEntry, FacegateCoordinator
from .entity import FacegateDoorEntity, add_door_entities

PARALLEL_UPDATES = 0

DECISION = EventEntityDescription(
    key="decision", translation_key="decision", event_types=list(RESULTS)
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_door_entities(
        entry,
        async_add_entities,
        lambda coordinator, door_id, _door: [FacegateDecisionEvent(coordinator, door_id)],
    )


class FacegateDecisionEvent(FacegateDoorEntity, EventEntity):
    """Fires `granted` or `denied` for each verified decision at the door; never an image."""

    # The name is shown while the event is the door's latest, never kept in the recorder's
    # history: who came in when is the resident's data, not the house's log (R7, R10).
    _unrecorded_attributes = frozenset({"person_name"})

    def __init__(self, coordinator: FacegateCoordinator, door_id: str) -> None:
        super().__init__(coordinator, DECISION, door_id)
        latest = coordinator.data.decisions.get(door_id)
        self._last_id: Any = latest["id"] if latest else None

    @callback
    def _handle_coordinator_update(self) -> None:
        decision = self.coordinator.data.decisions.get(self.door_id)
        if decision is not None and decision["id"] != self._last_id:
            self._last_id = decision["id"]
            person = decision.get("person") or {}
            self._trigger_event(
                str(decision["result"]),
                {
                    "method": decision.get("method"),
                    "reason": decision.get("reason"),
                    "person_name": person.get("name"),
                    "latency_ms": decision.get("latency_ms"),
                },
            )
        super()._handle_coordinator_update()
