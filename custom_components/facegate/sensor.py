"""Sensors: each door's last decision and its latency (diagnostic, off by default); each
person's consent (its state and expiry), face photos enrolled, and credential count (kind and
label only, never a value)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .const import RESULTS
from .coordinator import FacegateConfigEntry, FacegateCoordinator
from .entity import FacegateDoorEntity, FacegatePersonEntity, add_door_entities, add_person_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class FacegateSensorEntityDescription(SensorEntityDescription):
    """A sensor over one door's latest decision or one person's record."""

    value_fn: Callable[[dict[str, Any]], StateType | datetime]
    attributes_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _expiry(person: dict[str, Any]) -> datetime | None:
    expires_at = person.get("consent", {}).get("expires_at")
    if person.get("consent", {}).get("status") != "live" or expires_at is None:
        return None
    return datetime.fromtimestamp(float(expires_at), UTC)


# A live consent ending within this is "expiring": time to invite the person to renew it.
EXPIRING = timedelta(days=30)
CONSENT_STATES = ["none", "live", "expiring", "needs_renewal", "withdrawn", "expired"]


def _consent_state(person: dict[str, Any]) -> str:
    consent = person.get("consent", {})
    status = str(consent.get("status", "none"))
    expiry = _expiry(person)
    if expiry is not None and expiry - datetime.now(UTC) < EXPIRING:
        return "expiring"
    return status if status in CONSENT_STATES else "none"


def _credential_kinds(person: dict[str, Any]) -> dict[str, Any]:
    credentials = person.get("credentials", [])
    return {
        "credentials": [
            {"id": c.get("id"), "kind": c.get("kind"), "label": c.get("label")} for c in credentials
        ]
    }


DOOR_SENSORS = (
    FacegateSensorEntityDescription(
        key="last_decision",
        translation_key="last_decision",
        device_class=SensorDeviceClass.ENUM,
        options=list(RESULTS),
        value_fn=lambda decision: decision.get("result"),
        attributes_fn=lambda decision: {
            "method": decision.get("method"),
            "reason": decision.get("reason"),
        },
    ),
    FacegateSensorEntityDescription(
        key="decision_latency",
        translation_key="decision_latency",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        suggested_display_precision=1,
        # For tuning, not for living with: benchmarks/ measure it; off until someone wants it.
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda decision: decision.get("latency_ms"),
    ),
)
PERSON_SENSORS = (
    FacegateSensorEntityDescription(
        key="consent",
        translation_key="consent",
        device_class=SensorDeviceClass.ENUM,
        options=CONSENT_STATES,
        value_fn=_consent_state,
    ),
    FacegateSensorEntityDescription(
        key="face_templates",
        translation_key="face_templates",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda person: int(person.get("templates") or 0),
    ),
    FacegateSensorEntityDescription(
        key="credentials",
        translation_key="credentials",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda person: len(person.get("credentials", [])),
        attributes_fn=_credential_kinds,
    ),
)

# Only once the person has consented: before that there is nothing to expire ("Unknown" said
# nothing); after a withdrawal it is unavailable, and the consent sensor says why.
EXPIRY_SENSOR = FacegateSensorEntityDescription(
    key="consent_expiry",
    translation_key="consent_expiry",
    device_class=SensorDeviceClass.TIMESTAMP,
    value_fn=_expiry,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_door_entities(
        entry,
        async_add_entities,
        lambda coordinator, door_id, _door: [
            FacegateDoorSensor(coordinator, description, door_id) for description in DOOR_SENSORS
        ],
    )
    add_person_entities(
        entry,
        async_add_entities,
        lambda coordinator, person_id: [
            FacegatePersonSensor(coordinator, description, person_id)
            for description in PERSON_SENSORS
        ],
    )
    add_person_entities(
        entry,
        async_add_entities,
        lambda coordinator, person_id: [
            FacegateExpirySensor(coordinator, EXPIRY_SENSOR, person_id)
        ],
        when=lambda person: _expiry(person) is not None,
    )


class FacegateDoorSensor(FacegateDoorEntity, RestoreSensor):
    """A sensor over the door's latest verified decision. Until a new one arrives it shows
    what it showed before a restart or reload (restored), not "unknown"."""

    entity_description: FacegateSensorEntityDescription

    def __init__(
        self,
        coordinator: FacegateCoordinator,
        description: FacegateSensorEntityDescription,
        door_id: str,
    ) -> None:
        super().__init__(coordinator, description, door_id)
        # What the sensor showed before a restart or reload: its value and attributes.
        self._restored: tuple[Any, dict[str, Any] | None] | None = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        state, data = await self.async_get_last_state(), await self.async_get_last_sensor_data()
        if state is not None and data is not None and data.native_value is not None:
            attributes = {k: state.attributes.get(k) for k in ("method", "reason")}
            has_attributes = self.entity_description.attributes_fn is not None
            self._restored = (data.native_value, attributes if has_attributes else None)

    @property
    def _decision(self) -> dict[str, Any] | None:
        return self.coordinator.data.decisions.get(self.door_id)

    @property
    def native_value(self) -> StateType | datetime:
        decision = self._decision
        if decision is None:
            return None if self._restored is None else cast(StateType, self._restored[0])
        return self.entity_description.value_fn(decision)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        decision = self._decision
        if decision is None:
            return None if self._restored is None else self._restored[1]
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(decision)


class FacegatePersonSensor(FacegatePersonEntity, SensorEntity):
    """A sensor over one person's record."""

    entity_description: FacegateSensorEntityDescription

    def __init__(
        self,
        coordinator: FacegateCoordinator,
        description: FacegateSensorEntityDescription,
        person_id: str,
    ) -> None:
        super().__init__(coordinator, description, person_id)

    @property
    def native_value(self) -> StateType | datetime:
        return self.entity_description.value_fn(self.person)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.person)


class FacegateExpirySensor(FacegatePersonSensor):
    """When the person's face consent ends; unavailable while there is none."""

    @property
    def available(self) -> bool:
        return super().available and _expiry(self.person) is not None
