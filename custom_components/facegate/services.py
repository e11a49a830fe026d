"""Services on people and doors, addressed by their Home Assistant devices."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from . import const
from .api import FacegateClient
from .compat import vol
from .const import CREDENTIAL_KINDS, DOMAIN
from .coordinator import FacegateConfigEntry
from .entity import engine_call
from .invitation import hand_over

ATTR_PERSON = "person"
ATTR_DOOR = "door"
ATTR_KIND = "kind"
ATTR_VALUE = "value"
ATTR_LABEL = "label"
ATTR_CREDENTIAL_ID = "credential_id"
ATTR_AGREE = "agree"
ATTR_DAYS = "days"
ATTR_CONFIRM = "confirm"
ATTR_NAME = "name"
ATTR_MINOR = "minor"
ATTR_INVITE = "invite"
ATTR_ENGINE = "engine"
ATTR_VALID_FROM = "valid_from"
ATTR_VALID_UNTIL = "valid_until"
ATTR_MAX_USES = "max_uses"
ATTR_GROUPS = "groups"

EXPORT_DIR = "facegate_exports"

PERSON_SCHEMA = vol.Schema({vol.Required(ATTR_PERSON): cv.string})
ADD_CREDENTIAL_SCHEMA = PERSON_SCHEMA.extend(
    {
        vol.Required(ATTR_KIND): vol.In(CREDENTIAL_KINDS),
        vol.Required(ATTR_VALUE): vol.All(cv.string, vol.Length(min=1, max=256)),
        vol.Optional(ATTR_LABEL, default=""): vol.All(cv.string, vol.Length(max=60)),
        # As Keymaster's code slots: a code that starts, ends, or opens only so many times.
        vol.Optional(ATTR_VALID_FROM): cv.datetime,
        vol.Optional(ATTR_VALID_UNTIL): cv.datetime,
        vol.Optional(ATTR_MAX_USES): vol.All(vol.Coerce(int), vol.Range(min=1, max=100_000)),
    }
)
ADD_VISITOR_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_NAME): vol.All(cv.string, vol.Length(min=1, max=80)),
        vol.Required(ATTR_VALID_UNTIL): cv.datetime,
        vol.Optional(ATTR_GROUPS, default=["all-doors"]): vol.All(
            cv.ensure_list, [cv.string], vol.Length(min=1, max=64)
        ),
        vol.Optional(ATTR_LABEL, default=""): vol.All(cv.string, vol.Length(max=60)),
        vol.Optional(ATTR_ENGINE): cv.string,
    }
)
REMOVE_CREDENTIAL_SCHEMA = PERSON_SCHEMA.extend({vol.Required(ATTR_CREDENTIAL_ID): cv.string})
RENEW_SCHEMA = PERSON_SCHEMA.extend(
    {
        vol.Required(ATTR_AGREE): cv.boolean,
        vol.Optional(ATTR_DAYS, default=365): vol.All(vol.Coerce(int), vol.Range(min=1, max=1095)),
    }
)
ERASE_SCHEMA = PERSON_SCHEMA.extend({vol.Required(ATTR_CONFIRM): cv.boolean})
ENROL_SCHEMA = PERSON_SCHEMA.extend({vol.Required(ATTR_DOOR): cv.string})
CREATE_PERSON_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_NAME): vol.All(cv.string, vol.Length(min=1, max=80)),
        vol.Optional(ATTR_MINOR, default=False): cv.boolean,
        vol.Optional(ATTR_INVITE, default=True): cv.boolean,
        vol.Optional(ATTR_ENGINE): cv.string,
    }
)


def _resolve(hass: HomeAssistant, device_id: str, model: str) -> tuple[FacegateConfigEntry, str]:
    """The loaded entry and the engine's id (person or door) behind a facegate device."""
    device = dr.async_get(hass).async_get(device_id)
    if isinstance(device, dr.DeviceEntry) and device.model == model:
        entries: list[FacegateConfigEntry] = hass.config_entries.async_entries(DOMAIN)
        for entry in entries:
            prefix = f"{entry.unique_id}_"
            for domain, identifier in device.identifiers:
                if domain != DOMAIN or not identifier.startswith(prefix):
                    continue
                if entry.state is not ConfigEntryState.LOADED:
                    raise ServiceValidationError(
                        translation_domain=DOMAIN, translation_key="not_loaded"
                    )
                return entry, identifier.removeprefix(prefix)
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_person" if model == "Resident" else "unknown_door",
        translation_placeholders={"device": device_id},
    )


def _engine(call: ServiceCall) -> FacegateConfigEntry:
    """The engine an action names (its config entry), or the only one there is."""
    loaded: list[FacegateConfigEntry] = [
        entry
        for entry in call.hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]
    wanted = call.data.get(ATTR_ENGINE)
    chosen = [e for e in loaded if wanted in (None, e.entry_id)]
    if len(chosen) != 1:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="choose_engine" if len(chosen) > 1 else "not_loaded",
        )
    return chosen[0]


def _person(call: ServiceCall) -> tuple[FacegateConfigEntry, FacegateClient, str]:
    entry, person_id = _resolve(call.hass, call.data[ATTR_PERSON], "Resident")
    return entry, entry.runtime_data.client, person_id


def _moment(value: datetime) -> str:
    """A moment as the engine reads it: with its offset (a naive one is Home Assistant's
    own time zone)."""
    return dt_util.as_local(value).isoformat() if value.tzinfo is None else value.isoformat()


async def _add_credential(call: ServiceCall) -> ServiceResponse:
    _entry, client, person_id = _person(call)
    validity: dict[str, Any] = {
        key: _moment(call.data[key])
        for key in (ATTR_VALID_FROM, ATTR_VALID_UNTIL)
        if key in call.data
    }
    if ATTR_MAX_USES in call.data:
        validity["max_uses"] = call.data[ATTR_MAX_USES]
    credential = await engine_call(
        client.add_credential(
            person_id,
            call.data[ATTR_KIND],
            call.data[ATTR_VALUE],
            call.data[ATTR_LABEL],
            validity,
        )
    )
    return {"id": credential["id"], "kind": credential["kind"], "label": credential["label"]}


async def _add_visitor(call: ServiceCall) -> ServiceResponse:
    """A visitor's code, generated by the engine, shown this once with a message for the host
    to forward (English and Chinese); it ends at `valid_until`."""
    client = _engine(call).runtime_data.client
    visitor = await engine_call(
        client.add_visitor(
            call.data[ATTR_NAME],
            call.data[ATTR_GROUPS],
            _moment(call.data[ATTR_VALID_UNTIL]),
            call.data[ATTR_LABEL],
        )
    )
    return {
        "name": visitor["person"]["name"],
        "code": visitor["code"],
        "valid_until": dt_util.as_local(
            dt_util.utc_from_timestamp(float(visitor["credential"]["valid_until"]))
        ).isoformat(),
        "message": visitor["message"],
    }


async def _remove_credential(call: ServiceCall) -> None:
    _entry, client, person_id = _person(call)
    await engine_call(client.remove_credential(person_id, call.data[ATTR_CREDENTIAL_ID]))


async def _renew_consent(call: ServiceCall) -> None:
    if call.data[ATTR_AGREE] is not True:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="agree_required")
    _entry, client, person_id = _person(call)
    version = await engine_call(client.notice_version())
    await engine_call(client.renew_consent(person_id, version, call.data[ATTR_DAYS]))


async def _withdraw_consent(call: ServiceCall) -> None:
    _entry, client, person_id = _person(call)
    await engine_call(client.withdraw_consent(person_id))


async def _erase_person(call: ServiceCall) -> ServiceResponse:
    if call.data[ATTR_CONFIRM] is not True:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="erase_needs_confirmation"
        )
    _entry, client, person_id = _person(call)
    receipt: dict[str, Any] = await engine_call(client.erase_person(person_id))
    return receipt


def _export_name(person_id: str) -> str:
    return f"facegate-export-{person_id}-"


def remove_old_exports(folder: str, older_than_s: float) -> None:
    """Exports past their day, deleted (at setup, and every EXPORT_SWEEP_S)."""
    for path in Path(folder).glob("facegate-export-*.json"):
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > older_than_s:
                path.unlink()


def remove_exports(folder: str, person_id: str) -> int:
    """The files exported for a person, deleted when the person is erased (R7)."""
    removed = 0
    for path in Path(folder).glob(f"{_export_name(person_id)}*.json"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


async def _export_person(call: ServiceCall) -> ServiceResponse:
    _entry, client, person_id = _person(call)
    document = await engine_call(client.export_person(person_id))
    folder = Path(call.hass.config.path(EXPORT_DIR))
    path = folder / f"{_export_name(person_id)}{int(time.time())}.json"

    def write() -> None:
        folder.mkdir(mode=0o700, exist_ok=True)
        # Only the service's user may read a person's data.
        path.touch(mode=0o600)
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")

    await call.hass.async_add_executor_job(write)
    # A day to download it, then swept away (__init__.py): a person's data must not linger
    # in every backup.
    return {"path": str(path), "deleted_after_s": const.EXPORT_KEEP_S}


async def _enrol_from_camera(call: ServiceCall) -> ServiceResponse:
    entry, client, person_id = _person(call)
    door_entry, door_id = _resolve(call.hass, call.data[ATTR_DOOR], "Door")
    if door_entry.entry_id != entry.entry_id:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="different_engines")
    result = await engine_call(client.enrol_from_camera(person_id, door_id))
    return {"template_count": result.get("template_count")}


async def _create_person(call: ServiceCall) -> ServiceResponse:
    """A resident by display name alone; with `invite`, their invitation at once."""
    client = _engine(call).runtime_data.client
    person = await engine_call(
        client.create_person(call.data[ATTR_NAME], minor=call.data[ATTR_MINOR])
    )
    answer: dict[str, Any] = {"name": person["name"]}
    if call.data[ATTR_INVITE]:
        answer["invitation"] = await hand_over(call.hass, client, person["id"], person["name"])
    return answer


async def _invite_person(call: ServiceCall) -> ServiceResponse:
    entry, client, person_id = _person(call)
    name = str(entry.runtime_data.coordinator.data.people.get(person_id, {}).get("name", ""))
    return await hand_over(call.hass, client, person_id, name)


SERVICES: tuple[tuple[str, vol.Schema, Callable[[ServiceCall], Any], SupportsResponse], ...] = (
    ("add_credential", ADD_CREDENTIAL_SCHEMA, _add_credential, SupportsResponse.OPTIONAL),
    ("remove_credential", REMOVE_CREDENTIAL_SCHEMA, _remove_credential, SupportsResponse.NONE),
    ("renew_consent", RENEW_SCHEMA, _renew_consent, SupportsResponse.NONE),
    ("withdraw_consent", PERSON_SCHEMA, _withdraw_consent, SupportsResponse.NONE),
    ("erase_person", ERASE_SCHEMA, _erase_person, SupportsResponse.OPTIONAL),
    ("export_person", PERSON_SCHEMA, _export_person, SupportsResponse.OPTIONAL),
    ("enrol_from_camera", ENROL_SCHEMA, _enrol_from_camera, SupportsResponse.OPTIONAL),
    ("create_person", CREATE_PERSON_SCHEMA, _create_person, SupportsResponse.OPTIONAL),
    ("invite_person", PERSON_SCHEMA, _invite_person, SupportsResponse.OPTIONAL),
    ("add_visitor", ADD_VISITOR_SCHEMA, _add_visitor, SupportsResponse.ONLY),
)


def _admin_only(
    handler: Callable[[ServiceCall], Any],
) -> Callable[[ServiceCall], Any]:
    """Every action here changes or reveals a resident's data (credentials, consent, erasure,
    export) or takes their face: only an administrator may call it. Home Assistant's own
    async_register_admin_service returns no response on 2025.4, so the check is made here."""

    async def checked(call: ServiceCall) -> Any:
        if call.context.user_id:
            user = await call.hass.auth.async_get_user(call.context.user_id)
            if user is None:
                raise UnknownUser(context=call.context)
            if not user.is_admin:
                raise Unauthorized(context=call.context)
        return await handler(call)

    return checked


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    for name, schema, handler, supports_response in SERVICES:
        hass.services.async_register(
            DOMAIN,
            name,
            _admin_only(handler),
            schema=schema,
            supports_response=supports_response,
        )
