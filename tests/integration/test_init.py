"""Setting up and unloading; the event stream going away and coming back by itself."""

from __future__ import annotations

import asyncio
import logging

import pytest
from engine_client import EngineUnderTest, free_port
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from test_facegate_fixtures import Proxy, setup_entry, wait_for

from custom_components.facegate import const
from custom_components.facegate.const import DOMAIN

DECISION_EVENT = "event.back_door_access_decision"


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(DECISION_EVENT) is not None
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(DECISION_EVENT).state == STATE_UNAVAILABLE


async def test_engine_unreachable_is_retried(
    hass: HomeAssistant, clean_engine: EngineUnderTest
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=clean_engine.installation_id,
        data={CONF_HOST: clean_engine.host, CONF_PORT: free_port(), CONF_TOKEN: "x" * 43},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_refused_token_starts_reauth(
    hass: HomeAssistant, clean_engine: EngineUnderTest
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=clean_engine.installation_id,
        data={CONF_HOST: clean_engine.host, CONF_PORT: clean_engine.port, CONF_TOKEN: "x" * 43},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_entities_follow_the_event_stream(
    hass: HomeAssistant,
    clean_engine: EngineUnderTest,
    proxy: Proxy,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unavailable while the engine is gone, back by itself; one log line each way."""
    monkeypatch.setattr(const, "RECONNECT_MIN_S", 0.05)
    monkeypatch.setattr(const, "RECONNECT_MAX_S", 0.1)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=clean_engine.installation_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: proxy.port, CONF_TOKEN: clean_engine.token},
    )
    coordinator = await setup_entry(hass, entry)
    assert hass.states.get(DECISION_EVENT).state != STATE_UNAVAILABLE
    caplog.set_level(logging.INFO, logger="custom_components.facegate")

    await proxy.cut()
    await wait_for(lambda: hass.states.get(DECISION_EVENT).state == STATE_UNAVAILABLE)
    await asyncio.sleep(0.5)  # several failed reconnects, but one warning
    lost = [r for r in caplog.records if "Lost the facegate engine" in r.message]
    assert len(lost) == 1

    await proxy.start()
    await wait_for(lambda: hass.states.get(DECISION_EVENT).state != STATE_UNAVAILABLE)
    back = [r for r in caplog.records if "event stream is back" in r.message]
    assert len(back) == 1
    assert coordinator.connected

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
