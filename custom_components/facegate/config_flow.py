"""Config flow for facegate: manual, add-on discovery, reauth, reconfigure, and door options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from .api import FacegateAuthError, FacegateClient, FacegateError, Installation
from .compat import vol
from .const import CONF_LOCK, CONF_LOCKS, CONF_TAG_DEVICES, CONF_TAGS, DEFAULT_PORT, DOMAIN, LOGGER
from .coordinator import FacegateConfigEntry
from .locks import door_lock

CONF_DOOR = "door"

TITLE = "facegate"
CONNECTION_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_PORT): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=65535)
        ),
    }
)
TOKEN_SCHEMA = vol.Schema(
    {vol.Required(CONF_TOKEN): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))}
)
USER_SCHEMA = CONNECTION_SCHEMA.extend(TOKEN_SCHEMA.schema)


async def _installation(
    flow: ConfigFlow, data: Mapping[str, Any]
) -> tuple[Installation | None, dict[str, str]]:
    """The engine's installation at `data`, or the form error that says why not."""
    client = FacegateClient(
        async_get_clientsession(flow.hass), data[CONF_HOST], data[CONF_PORT], data[CONF_TOKEN]
    )
    try:
        return await client.installation(), {}
    except FacegateAuthError:
        return None, {"base": "invalid_auth"}
    except FacegateError as error:
        LOGGER.debug("Cannot connect to the facegate engine: %s", error)
        return None, {"base": "cannot_connect"}
    except Exception:
        LOGGER.exception("Unexpected error talking to the facegate engine")
        return None, {"base": "unknown"}


class FacegateConfigFlow(ConfigFlow, domain=DOMAIN):
    """Connects Home Assistant to one facegate engine (one entry per installation)."""

    VERSION = 1

    def __init__(self) -> None:
        self._discovery: dict[str, Any] = {}
        self._addon = TITLE

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: FacegateConfigEntry) -> FacegateOptionsFlow:
        return FacegateOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            installation, errors = await _installation(self, user_input)
            if installation is not None:
                await self.async_set_unique_id(installation.installation_id)
                self._abort_if_unique_id_configured(updates=user_input)
                return self.async_create_entry(title=TITLE, data=user_input)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced itself through the Supervisor."""
        config = discovery_info.config
        self._discovery = {
            CONF_HOST: config[CONF_HOST],
            CONF_PORT: int(config[CONF_PORT]),
            CONF_TOKEN: config[CONF_TOKEN],
        }
        self._addon = discovery_info.name
        installation, errors = await _installation(self, self._discovery)
        if installation is None:
            return self.async_abort(reason=errors["base"])
        await self.async_set_unique_id(installation.installation_id)
        self._abort_if_unique_id_configured(updates=self._discovery)
        self.context["title_placeholders"] = {"name": self._addon}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(title=self._addon, data=self._discovery)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="hassio_confirm", description_placeholders={"addon": self._addon}
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new token for the same engine."""
        errors: dict[str, str] = {}
        entry = self._get_reauth_entry()
        if user_input is not None:
            done, errors = await self._update_same_engine(entry, user_input)
            if done is not None:
                return done
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=TOKEN_SCHEMA,
            description_placeholders={CONF_HOST: entry.data[CONF_HOST]},
            errors=errors,
        )

    async def _update_same_engine(
        self, entry: FacegateConfigEntry, user_input: dict[str, Any]
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Reauth and reconfigure: the new token or address must reach the same engine."""
        installation, errors = await _installation(self, {**entry.data, **user_input})
        if installation is None:
            return None, errors
        await self.async_set_unique_id(installation.installation_id)
        self._abort_if_unique_id_mismatch(reason="wrong_installation")
        return self.async_update_reload_and_abort(entry, data_updates=user_input), {}

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new address for the same engine."""
        errors: dict[str, str] = {}
        entry = self._get_reconfigure_entry()
        if user_input is not None:
            done, errors = await self._update_same_engine(entry, user_input)
            if done is not None:
                return done
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                CONNECTION_SCHEMA, user_input or entry.data
            ),
            errors=errors,
        )


class FacegateOptionsFlow(OptionsFlow):
    """Per door: the Home Assistant lock it drives, and the NFC tags and readers it accepts."""

    config_entry: FacegateConfigEntry

    def __init__(self) -> None:
        self._door = ""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        doors = self.config_entry.runtime_data.coordinator.data.doors
        if user_input is not None:
            self._door = user_input[CONF_DOOR]
            return await self.async_step_door()
        options = [
            SelectOptionDict(value=door_id, label=str(door.get("name") or door_id))
            for door_id, door in doors.items()
        ]
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {vol.Required(CONF_DOOR): SelectSelector(SelectSelectorConfig(options=options))}
            ),
        )

    async def async_step_door(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        door = self._door
        options = self.config_entry.options
        locks: dict[str, str] = dict(options.get(CONF_LOCKS, {}))
        tags: dict[str, list[str]] = dict(options.get(CONF_TAGS, {}))
        readers: dict[str, list[str]] = dict(options.get(CONF_TAG_DEVICES, {}))
        door_info = self.config_entry.runtime_data.coordinator.data.doors.get(door, {})
        drives_ha_lock = door_info.get("lock") == "home_assistant"
        if user_input is not None:
            lock = user_input.get(CONF_LOCK)
            if drives_ha_lock and lock:
                locks[door] = lock
            else:
                locks.pop(door, None)
            tags[door] = [t.strip() for t in user_input.get(CONF_TAGS, []) if t.strip()]
            readers[door] = list(user_input.get(CONF_TAG_DEVICES, []))
            return self.async_create_entry(
                data={CONF_LOCKS: locks, CONF_TAGS: tags, CONF_TAG_DEVICES: readers}
            )
        fields: dict[vol.Marker, Any] = {}
        if drives_ha_lock:
            fields[vol.Optional(CONF_LOCK)] = EntitySelector(EntitySelectorConfig(domain="lock"))
        fields[vol.Optional(CONF_TAGS)] = TextSelector(TextSelectorConfig(multiple=True))
        fields[vol.Optional(CONF_TAG_DEVICES)] = DeviceSelector(DeviceSelectorConfig(multiple=True))
        current = {
            CONF_LOCK: door_lock(options, door, door_info),
            CONF_TAGS: tags.get(door, []),
            CONF_TAG_DEVICES: readers.get(door, []),
        }
        return self.async_show_form(
            step_id="door",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), current),
            description_placeholders={"door": str(door_info.get("name") or door)},
        )
