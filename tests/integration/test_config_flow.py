"""The config flow against the real engine: every step, every error and its recovery."""

from __future__ import annotations

from contextlib import nullcontext
from unittest.mock import patch

import pytest
from engine_client import EngineUnderTest, free_port
from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.facegate.api import Installation
from custom_components.facegate.const import CONF_LOCKS, CONF_TAG_DEVICES, CONF_TAGS, DOMAIN

INSTALLATION = "custom_components.facegate.api.FacegateClient.installation"


def _user_input(engine: EngineUnderTest, **changes: object) -> dict[str, object]:
    return {CONF_HOST: engine.host, CONF_PORT: engine.port, CONF_TOKEN: engine.token, **changes}


def _other_installation() -> Installation:
    return Installation(
        installation_id="f" * 32, version="1", event_key="00" * 32, mqtt_prefix="facegate"
    )


async def test_user_flow_creates_the_entry(
    hass: HomeAssistant, clean_engine: EngineUnderTest
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(clean_engine)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "facegate"
    assert result["data"] == _user_input(clean_engine)
    assert result["result"].unique_id == clean_engine.installation_id


@pytest.mark.parametrize(
    ("changes", "side_effect", "error"),
    [
        ({CONF_PORT: "free"}, None, "cannot_connect"),
        ({CONF_TOKEN: "wrong-token-" + "x" * 32}, None, "invalid_auth"),
        ({}, RuntimeError("boom"), "unknown"),
    ],
)
async def test_user_flow_errors_recover(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    changes: dict[str, object],
    side_effect: Exception | None,
    error: str,
) -> None:
    if changes.get(CONF_PORT) == "free":
        changes = {CONF_PORT: free_port()}
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch(INSTALLATION, side_effect=side_effect) if side_effect else nullcontext():
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _user_input(clean_engine, **changes)
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(clean_engine)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_aborts_on_the_same_installation(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(clean_engine)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def _discovery(engine: EngineUnderTest, **changes: object) -> HassioServiceInfo:
    config = {CONF_HOST: engine.host, CONF_PORT: str(engine.port), CONF_TOKEN: engine.token}
    return HassioServiceInfo(
        config={**config, **changes}, name="facegate", slug="facegate", uuid="1234"
    )


async def test_hassio_discovery_then_confirm(
    hass: HomeAssistant, clean_engine: EngineUnderTest
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(clean_engine)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "facegate"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == _user_input(clean_engine)
    assert result["result"].unique_id == clean_engine.installation_id


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({CONF_PORT: "free"}, "cannot_connect"),
        ({CONF_TOKEN: "wrong-token-" + "x" * 32}, "invalid_auth"),
    ],
)
async def test_hassio_discovery_aborts_when_the_engine_refuses(
    hass: HomeAssistant, clean_engine: EngineUnderTest, changes: dict[str, object], reason: str
) -> None:
    if changes.get(CONF_PORT) == "free":
        changes = {CONF_PORT: str(free_port())}
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(clean_engine, **changes)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_hassio_discovery_updates_a_configured_engine(
    hass: HomeAssistant, clean_engine: EngineUnderTest
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=clean_engine.installation_id,
        data=_user_input(clean_engine, **{CONF_HOST: "127.0.0.2", CONF_TOKEN: "old"}),
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(clean_engine)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == _user_input(clean_engine)


async def test_reauth_takes_a_new_token(hass: HomeAssistant, clean_engine: EngineUnderTest) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=clean_engine.installation_id,
        data=_user_input(clean_engine, **{CONF_TOKEN: "old-token-" + "x" * 32}),
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong-" + "x" * 32}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: clean_engine.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == clean_engine.token


async def test_reauth_refuses_another_installation(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    with patch(INSTALLATION, return_value=_other_installation()):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TOKEN: clean_engine.token}
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_installation"


async def test_reconfigure_moves_the_engine(
    hass: HomeAssistant, clean_engine: EngineUnderTest
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=clean_engine.installation_id,
        data=_user_input(clean_engine, **{CONF_PORT: 1}),
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: clean_engine.host, CONF_PORT: free_port()}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: clean_engine.host, CONF_PORT: clean_engine.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == _user_input(clean_engine)


async def test_reconfigure_refuses_another_installation(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, clean_engine: EngineUnderTest
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    with patch(INSTALLATION, return_value=_other_installation()):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: clean_engine.host, CONF_PORT: clean_engine.port}
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_installation"


async def test_options_bind_a_lock_tags_and_readers_to_a_door(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"door": "back_door"}
    )
    assert result["step_id"] == "door"
    assert "lock" in result["data_schema"].schema  # the back door has no MQTT lock
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"lock": "lock.back_door", CONF_TAGS: ["tag-1", " "], CONF_TAG_DEVICES: []},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == {
        CONF_LOCKS: {"back_door": "lock.back_door"},
        CONF_TAGS: {"back_door": ["tag-1"]},
        CONF_TAG_DEVICES: {"back_door": []},
    }

    # The front door has an MQTT lock: no lock to choose, and none is kept for it.
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"door": "front_door"}
    )
    assert "lock" not in result["data_schema"].schema
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_LOCKS] == {"back_door": "lock.back_door"}
    assert init_integration.options[CONF_TAGS] == {"back_door": ["tag-1"], "front_door": []}


async def test_options_need_a_connected_engine(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"
