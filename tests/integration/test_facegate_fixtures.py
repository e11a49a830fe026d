"""Helpers the integration's tests import: test data, waiting on the real engine, devices, a
recording Home Assistant lock and a cuttable proxy. The fixtures built on them are in conftest.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from engine_client import free_port
from homeassistant.components.lock import LockEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)
from syrupy.types import PropertyMatcher, PropertyPath

from custom_components.facegate.const import DOMAIN
from custom_components.facegate.coordinator import FacegateCoordinator

PIN = "730461"


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Waits until `predicate()` holds: the engine answers over real sockets, not in order."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> FacegateCoordinator:
    """Sets `entry` up and waits for the event stream's first snapshot."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: FacegateCoordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.connected)
    return coordinator


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


async def add_test_lock(hass: HomeAssistant, name: str) -> RecordingLock:
    """A RecordingLock registered as `lock.<name>` through a test platform (set up with the
    first lock; later ones are added to the same platform)."""
    lock = RecordingLock(name)
    adder = hass.data.get(_LOCK_ADDER)
    if adder is not None:
        adder([lock])
        await hass.async_block_till_done()
        return lock

    async def setup_platform(
        hass: HomeAssistant, config: Any, add_entities: Any, discovery_info: Any = None
    ) -> None:
        hass.data[_LOCK_ADDER] = add_entities
        add_entities([lock])

    mock_integration(hass, MockModule("test"))
    mock_platform(hass, "test.lock", MockPlatform(async_setup_platform=setup_platform))
    assert await async_setup_component(hass, "lock", {"lock": {"platform": "test"}})
    await hass.async_block_till_done()
    return lock


_LOCK_ADDER = "facegate_test_lock_adder"


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


def placeholders(
    values: Mapping[str, str], paths: Mapping[str, str] | None = None
) -> PropertyMatcher:
    """A syrupy matcher for what the engine makes afresh on each run (its installation id,
    people's and credentials' ids, times from its own clock): each of `values` is written as its
    placeholder wherever it appears in a string, and whatever sits at one of `paths` (dotted keys,
    list items by index, `*` for any) as that path's placeholder."""
    paths = paths or {}

    def match(*, data: Any, path: PropertyPath) -> Any:
        where = ".".join(str(name) for name, _ in path)
        for pattern, placeholder in paths.items():
            if fnmatchcase(where, pattern):
                return Placeholder(placeholder)
        if isinstance(data, str):
            for value, placeholder in values.items():
                data = data.replace(value, placeholder)
        return data

    return match


class Placeholder:
    """Serialised bare, like syrupy's own matchers: `<latency>`, not a quoted string."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.text}>"


def open_issues(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, ir.IssueEntry]:
    """The entry's open repair issues, by their id without the entry's prefix."""
    prefix = f"{entry.entry_id}_"
    return {
        issue_id.removeprefix(prefix): issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith(prefix) and issue.active
    }
