"""The one entity base class, devices, and where engine errors become Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import FacegateAuthError, FacegateError, FacegateRequestError, Installation
from .const import DOMAIN, ENGINE_REFUSALS, ENGINE_RULE_KEYS
from .coordinator import FacegateConfigEntry, FacegateCoordinator


def engine_error(error: FacegateError) -> HomeAssistantError:
    """The Home Assistant error, translated, for an error of the engine's client."""
    if isinstance(error, FacegateRequestError):
        if error.key in ENGINE_RULE_KEYS:
            # A rule the engine enforces (R4 ...): the user asked for something it forbids.
            return ServiceValidationError(translation_domain=DOMAIN, translation_key=error.key)
        if error.refusal in ENGINE_REFUSALS:
            # What was entered or shown cannot be taken (a PIN too easy to guess, no face ...).
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=f"refusal_{error.refusal}",
                translation_placeholders={k: str(v) for k, v in error.values.items()},
            )
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="engine_refused",
            translation_placeholders={"message": error.message},
        )
    if isinstance(error, FacegateAuthError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="invalid_auth")
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="cannot_connect",
        translation_placeholders={"error": str(error)},
    )


async def engine_call[T](request: Awaitable[T]) -> T:
    """Awaits a call of the engine's client; its exceptions become translated errors."""
    try:
        return await request
    except FacegateError as error:
        raise engine_error(error) from error


# Home Assistant 2026.8 names a device's parent by its device id (`via_device_id`); earlier
# releases only by its identifier (`via_device`), which 2026 still reads but deprecates.
VIA_DEVICE_ID = "via_device_id" in DeviceInfo.__optional_keys__


def child_device(entry: FacegateConfigEntry, key: str, name: str, model: str) -> DeviceInfo:
    """A door or a person: a device of its own behind the engine's."""
    unique_id = str(entry.unique_id)
    info = DeviceInfo(
        identifiers={(DOMAIN, f"{unique_id}_{key}")},
        manufacturer="facegate",
        model=model,
        name=name,
    )
    parent: Any = entry.runtime_data.engine_device_id if VIA_DEVICE_ID else (DOMAIN, unique_id)
    cast(dict[str, Any], info)["via_device_id" if VIA_DEVICE_ID else "via_device"] = parent
    return info


def engine_device(entry: FacegateConfigEntry, installation: Installation) -> DeviceInfo:
    return DeviceInfo(
        identifiers={(DOMAIN, str(entry.unique_id))},
        configuration_url=f"http://{entry.data[CONF_HOST]}:{entry.data[CONF_PORT]}",
        manufacturer="facegate",
        model="Engine",
        name="facegate",
        sw_version=installation.version or None,
    )


class FacegateEntity(CoordinatorEntity[FacegateCoordinator]):
    """The base of every facegate entity: named by translation, unique per installation."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: FacegateCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.unique_id}_{description.key}"
        self._attr_device_info = engine_device(coordinator.config_entry, coordinator.installation)


class _FacegateChildEntity(FacegateEntity):
    """An entity of one door or one resident: a device of its own behind the engine."""

    _collection: str  # the FacegateState field holding these devices, by id
    _model: str

    def __init__(
        self, coordinator: FacegateCoordinator, description: EntityDescription, key: str
    ) -> None:
        super().__init__(coordinator, description)
        self._key = key
        self._attr_unique_id = f"{coordinator.config_entry.unique_id}_{key}_{description.key}"
        name = str(self._items()[key].get("name") or key)
        self._attr_device_info = child_device(coordinator.config_entry, key, name, self._model)

    def _items(self) -> dict[str, dict[str, Any]]:
        return cast(dict[str, dict[str, Any]], getattr(self.coordinator.data, self._collection))

    @property
    def available(self) -> bool:
        return super().available and self._key in self._items()


class FacegateDoorEntity(_FacegateChildEntity):
    _collection = "doors"
    _model = "Door"

    @property
    def door_id(self) -> str:
        return self._key

    @property
    def door(self) -> dict[str, Any]:
        return self._items()[self._key]


class FacegatePersonEntity(_FacegateChildEntity):
    _collection = "people"
    _model = "Resident"

    @property
    def person_id(self) -> str:
        return self._key

    @property
    def person(self) -> dict[str, Any]:
        return self._items()[self._key]


def add_door_entities(
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[FacegateCoordinator, str, dict[str, Any]], Iterable[Entity]],
) -> None:
    """Entities for every door now, and for each door the engine is given later (a new
    configuration: the event stream's snapshot after its restart brings it); a door taken
    out of the configuration loses its device (stale devices: __init__.py)."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new() -> None:
        doors = coordinator.data.doors
        known.intersection_update(doors)  # a door taken out and given back gets entities again
        new = set(doors) - known
        if new:
            known.update(new)
            async_add_entities(
                entity
                for door_id in sorted(new)
                for entity in make(coordinator, door_id, doors[door_id])
            )

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


def add_person_entities(
    entry: FacegateConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[FacegateCoordinator, str], Iterable[Entity]],
    when: Callable[[dict[str, Any]], bool] = lambda _person: True,
) -> None:
    """Entities for every person now, and for each person added later; with `when`, only
    once the person's record says so (an expiry once there is a consent to expire)."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new() -> None:
        people = coordinator.data.people
        new = {pid for pid in set(people) - known if when(people[pid])}
        if new:
            known.update(new)
            async_add_entities(entity for pid in sorted(new) for entity in make(coordinator, pid))

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
