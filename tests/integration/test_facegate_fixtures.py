"""Fixtures shared by the integration's tests (imported by each test module), in core's style:
`mock_config_entry` for the engine the harness runs, `init_integration` with it set up and its
event stream connected. Every test starts from an engine with nobody in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from engine_harness import EngineUnderTest, free_port
from homeassistant.components.lock import LockEntity
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)

from custom_components.facegate.const import DOMAIN
from custom_components.facegate.coordinator import FacegateCoordinator

PIN = "730461"

# The fixtures; test modules take them with `from test_facegate_fixtures import *`.
__all__ = ["back_door_lock", "clean_engine", "init_integration", "mock_config_entry", "proxy"]


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Waits until `predicate()` holds: the engine answers over real sockets, not in order."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


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


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> FacegateCoordinator:
    """Sets `entry` up and waits for the event stream's first snapshot."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: FacegateCoordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.connected)
    return coordinator


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    await setup_entry(hass, mock_config_entry)
    yield mock_config_entry
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()


def find_device(hass: HomeAssistant, entry: MockConfigEntry, key: str | None) -> Any:
    """The entry's device for the engine (`key` None), a door or a person; None if absent.
    (Looked up among the entry's devices: `async_get_device` is deprecated in 2026.)"""
    identifier = str(entry.unique_id) if key is None else f"{entry.unique_id}_{key}"
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if (DOMAIN, identifier) in device.identifiers:
            return device
    return None


def device_id(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    device = find_device(hass, entry, key)
    assert device is not None
    return str(device.id)


class RecordingLock(LockEntity):
    """A real Home Assistant lock entity that counts its unlocks."""

    _attr_is_locked = True

    def __init__(self, name: str) -> None:
        self._attr_name = name
        self._attr_unique_id = name
        self.unlocks = 0
        self.jammed = False

    async def async_unlock(self, **kwargs: Any) -> None:
        if self.jammed:
            raise HomeAssistantError("the lock is jammed")
        self.unlocks += 1
        self._attr_is_locked = False
        self.async_write_ha_state()

    async def async_lock(self, **kwargs: Any) -> None:
        self._attr_is_locked = True
        self.async_write_ha_state()


@pytest.fixture
async def back_door_lock(hass: HomeAssistant) -> RecordingLock:
    """`lock.back_door`, the Home Assistant lock the harness binds to the back door."""
    lock = RecordingLock("Back door")

    async def setup_platform(
        hass: HomeAssistant, config: Any, add_entities: Any, discovery_info: Any = None
    ) -> None:
        add_entities([lock])

    mock_integration(hass, MockModule("test"))
    mock_platform(hass, "test.lock", MockPlatform(async_setup_platform=setup_platform))
    assert await async_setup_component(hass, "lock", {"lock": {"platform": "test"}})
    await hass.async_block_till_done()
    assert hass.states.get("lock.back_door") is not None
    return lock


class Proxy:
    """A loopback TCP proxy to the engine that can be cut and restored: the engine "gone"."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self._writers.update((writer, upstream_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                sink.transport.abort()
                self._writers.discard(sink)

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
async def proxy(clean_engine: EngineUnderTest) -> AsyncIterator[Proxy]:
    proxy = Proxy(clean_engine.port)
    await proxy.start()
    yield proxy
    if proxy._server is not None:
        await proxy.cut()
