"""Fixtures for the integration's tests, which run against real Home Assistant core and the real
engine, in core's style: `mock_config_entry` for the engine the harness runs, `init_integration`
with it set up (all platforms, or the one a test names) and its event stream connected. Every test
starts from an engine with nobody in it.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, MAJOR_VERSION
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

from custom_components.facegate.const import DOMAIN

# engine_client and engine_harness (and the helpers, which import them) load after the lines
# below have marked them for assertion rewriting: imported at the top here, they would load first.
if TYPE_CHECKING:
    from engine_client import EngineUnderTest
    from test_facegate_fixtures import Proxy, RecordingLock

# The harness's `hass` fixture imports `custom_components` from its own testing config unless the
# name is taken already: bind it to this repository's folder first (pytest.ini puts it on the path).
importlib.import_module("custom_components")

# The real engine on loopback (fixture `engine`), started outside Home Assistant's environment.
pytest.register_assert_rewrite("engine_client", "engine_harness")
pytest_plugins = ["engine_harness"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components/ in every test."""


class FacegateSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshots, kept per major release in snapshots-ha2025/ and
    snapshots-ha2026/: the registries' entries gain fields between releases, and each release
    compares against its own. Not under snapshots/: syrupy 4 (on 2025.4) walks the default
    extension's folder too, would count the other release's files as unused and delete them on
    --snapshot-update."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(Path(test_location.filepath).parent / f"snapshots-ha{MAJOR_VERSION}")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(FacegateSnapshotExtension)


@pytest.fixture
def clean_engine(socket_enabled: None, engine: EngineUnderTest) -> Iterator[EngineUnderTest]:
    """The session's engine with nobody in it and every method enabled, before and after."""
    engine.reset()
    yield engine
    engine.reset()


@pytest.fixture
def mock_config_entry(clean_engine: EngineUnderTest) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="facegate",
        unique_id=clean_engine.installation_id,
        data={
            CONF_HOST: clean_engine.host,
            CONF_PORT: clean_engine.port,
            CONF_TOKEN: clean_engine.token,
        },
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, request: pytest.FixtureRequest
) -> AsyncIterator[MockConfigEntry]:
    """The entry set up with every platform, or only the one given as the (indirect) parameter."""
    from test_facegate_fixtures import setup_entry

    context: Any = nullcontext()
    if platform := getattr(request, "param", None):
        context = patch("custom_components.facegate.PLATFORMS", [platform])
    with context:
        await setup_entry(hass, mock_config_entry)
        yield mock_config_entry
        await hass.config_entries.async_unload(mock_config_entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
async def back_door_lock(hass: HomeAssistant) -> RecordingLock:
    """`lock.back_door`, the Home Assistant lock the harness binds to the back door."""
    from test_facegate_fixtures import add_test_lock

    lock = await add_test_lock(hass, "Back door")
    assert hass.states.get("lock.back_door") is not None
    return lock


@pytest.fixture
async def proxy(clean_engine: EngineUnderTest) -> AsyncIterator[Proxy]:
    from test_facegate_fixtures import Proxy

    proxy = Proxy(clean_engine.port)
    await proxy.start()
    yield proxy
    if proxy._server is not None:
        await proxy.cut()


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Every entity enabled, also those the integration leaves disabled (as in core's tests):
    the snapshots show them all."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield
