"""The push coordinator: initial state over REST, then the engine's WebSocket event stream."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from . import const
from .api import (
    FacegateAuthError,
    FacegateClient,
    FacegateConnectionError,
    FacegateError,
    Installation,
)
from .const import DOMAIN, LOGGER, MAX_DECISION_AGE_S, SEEN_DECISIONS
from .locks import door_lock
from .repairs import Repairs


@dataclass(kw_only=True)
class FacegateData:
    """What a loaded config entry holds (`entry.runtime_data`)."""

    client: FacegateClient
    installation: Installation
    coordinator: FacegateCoordinator
    engine_device_id: str


type FacegateConfigEntry = ConfigEntry[FacegateData]


@dataclass(frozen=True, kw_only=True)
class FacegateState:
    """The engine as last seen: doors and people by id, the latest decision per door."""

    doors: dict[str, dict[str, Any]]
    people: dict[str, dict[str, Any]]
    health: dict[str, Any] = field(default_factory=dict)
    notice_version: str | None = None
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)


def unavailable_error(
    error: FacegateError, unavailable: type[HomeAssistantError]
) -> HomeAssistantError:
    """What the engine's client raised, as Home Assistant needs it while loading: a refused
    token starts re-authentication, anything else is `unavailable` (not ready, or update
    failed) and retried by Home Assistant."""
    if isinstance(error, FacegateAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="invalid_auth")
    return unavailable(
        translation_domain=DOMAIN,
        translation_key="cannot_connect",
        translation_placeholders={"error": str(error)},
    )


def canonical(event: Mapping[str, Any]) -> bytes:
    """The bytes the engine signs: every field but `sig`, as canonical JSON."""
    return json.dumps(
        {k: v for k, v in event.items() if k != "sig"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


class DecisionGuard:
    """R12: a decision counts only if signed with the installation key, fresh and new."""

    def __init__(self, key_hex: str) -> None:
        self._key = bytes.fromhex(key_hex)
        self._seen: OrderedDict[str, None] = OrderedDict()

    def problem(self, event: Mapping[str, Any]) -> str | None:
        """Why `event` must be dropped, or None when it may be acted on (it is then seen)."""
        sig = event.get("sig")
        expected = hmac.new(self._key, canonical(event), hashlib.sha256).hexdigest()
        if not isinstance(sig, str) or not hmac.compare_digest(sig, expected):
            return "bad signature"
        ts = event.get("ts")
        if not isinstance(ts, int | float) or abs(time.time() - ts) > MAX_DECISION_AGE_S:
            return "stale"
        event_id = str(event.get("id"))
        if event_id in self._seen:
            return "replayed"
        self._seen[event_id] = None
        if len(self._seen) > SEEN_DECISIONS:
            self._seen.popitem(last=False)
        return None


class FacegateCoordinator(DataUpdateCoordinator[FacegateState]):
    """Keeps the engine's state; entities are unavailable while the event stream is down."""

    config_entry: FacegateConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: FacegateConfigEntry,
        client: FacegateClient,
        installation: Installation,
    ) -> None:
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN)
        self.client = client
        self.installation = installation
        self.guard = DecisionGuard(installation.event_key)
        self.connected = False
        self.repairs = Repairs(hass, entry.entry_id)
        self._health_wanted = asyncio.Event()

    async def _async_update_data(self) -> FacegateState:
        try:
            doors, people, health = await asyncio.gather(
                self.client.doors(), self.client.people(), self.client.health()
            )
        except FacegateError as error:
            raise unavailable_error(error, UpdateFailed) from error
        self.repairs.sync_health(health, people)
        return FacegateState(
            doors={door["id"]: door for door in doors},
            people={person["id"]: person for person in people},
            health=health,
            notice_version=health.get("notice_version"),
        )

    @callback
    def async_start(self) -> None:
        """Listen to the event stream for as long as the entry is loaded."""
        self.config_entry.async_create_background_task(
            self.hass, self._listen(), f"{DOMAIN} event stream"
        )
        self.config_entry.async_create_background_task(
            self.hass, self._watch_health(), f"{DOMAIN} health"
        )

    async def _watch_health(self) -> None:
        """The engine's health, read again every HEALTH_POLL_S and after a reconnect."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(const.HEALTH_POLL_S):
                    await self._health_wanted.wait()
            self._health_wanted.clear()
            try:
                health = await self.client.health()
            except FacegateError as error:  # the event stream says when the engine is gone
                LOGGER.debug("Could not read the facegate engine's health: %s", error)
                continue
            data = replace(
                self.data,
                health=health,
                notice_version=health.get("notice_version", self.data.notice_version),
            )
            self.repairs.sync_health(health, data.people.values())
            self.async_set_updated_data(data)

    async def _listen(self) -> None:
        delay = const.RECONNECT_MIN_S
        while True:
            stream = self.client.events()
            try:
                async for message in stream:
                    self.handle_message(message)
                    delay = const.RECONNECT_MIN_S
            except FacegateAuthError:
                self._lost("the engine refused the token")
                self.config_entry.async_start_reauth(self.hass)
                return
            except FacegateConnectionError as error:
                self._lost(str(error))
            except Exception:
                # A message the integration could not take must not end the stream while the
                # entities show frozen data as if live: they go unavailable, the stream is
                # opened again, and its snapshot brings the state back whole.
                LOGGER.exception("The facegate engine's event stream failed; reconnecting")
                self._lost("a message could not be handled")
            finally:
                # Left mid-message, the generator would keep its WebSocket open until collected.
                await stream.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, const.RECONNECT_MAX_S)

    @callback
    def _lost(self, why: str) -> None:
        if self.last_update_success:
            LOGGER.warning("Lost the facegate engine's event stream: %s", why)
            self.last_update_success = False
            self.async_update_listeners()
        self.connected = False

    @callback
    def handle_message(self, message: Mapping[str, Any]) -> None:
        """One message of the event stream."""
        if message.get("type") == "decision":
            event = message.get("event")
            if isinstance(event, dict):
                self._decision(event)
            return
        if message.get("type") == "camera":
            self._camera(str(message.get("camera")), message.get("online") is True)
            return
        if message.get("type") == "mqtt":
            health = {**self.data.health, "mqtt_connected": message.get("connected") is True}
            self.repairs.sync_health(health, self.data.people.values())
            self.async_set_updated_data(replace(self.data, health=health))
            return
        if message.get("type") != "state":
            return
        data = self.data
        if message.get("change") == "snapshot":
            if not self.last_update_success:
                LOGGER.info("The facegate engine's event stream is back")
            self.connected = True
            self._health_wanted.set()  # what went wrong while away is read again now
            data = replace(
                data,
                doors={door["id"]: door for door in message.get("doors", [])},
                people={person["id"]: person for person in message.get("people", [])},
                notice_version=message.get("notice_version", data.notice_version),
            )
        elif "person_id" in message:
            people = dict(data.people)
            person = message.get("person")
            if person is None:
                people.pop(message["person_id"], None)
            else:
                people[message["person_id"]] = person
            data = replace(data, people=people)
        elif isinstance(message.get("door"), dict):
            door = message["door"]
            data = replace(data, doors={**data.doors, door["id"]: door})
        self.repairs.sync_health(data.health, data.people.values())  # consents to renew
        self.async_set_updated_data(data)

    @callback
    def _camera(self, name: str, online: bool) -> None:
        doors = {
            door_id: (
                {**door, "camera": {**door["camera"], "online": online}}
                if (door.get("camera") or {}).get("name") == name
                else door
            )
            for door_id, door in self.data.doors.items()
        }
        cameras = dict(self.data.health.get("cameras") or {})
        cameras[name] = {**cameras.get(name, {}), "online": online}
        health = {**self.data.health, "cameras": cameras}
        self.repairs.sync_health(health, self.data.people.values())
        self.async_set_updated_data(replace(self.data, doors=doors, health=health))

    @callback
    def _decision(self, event: dict[str, Any]) -> None:
        problem = self.guard.problem(event)
        if problem is not None:
            LOGGER.warning("Dropped a decision event (%s): id %s", problem, event.get("id"))
            if problem == "stale":  # the clocks of the engine and Home Assistant are apart
                self.repairs.decisions_stale()
            return
        self.repairs.decisions_fresh()
        door = str(event.get("door"))
        person = event.get("person")
        self.hass.bus.async_fire(
            const.EVENT_ACCESS,
            {
                "entry_id": self.config_entry.entry_id,
                # The door's event entity: the logbook shows the line there and on its device.
                **self._door_entity(door),
                "door": door,
                "result": event.get("result"),
                "method": event.get("method"),
                "reason": event.get("reason"),
                "person_id": person.get("id") if isinstance(person, dict) else None,
            },
        )
        self.async_set_updated_data(
            replace(self.data, decisions={**self.data.decisions, door: event})
        )
        lock = door_lock(self.config_entry.options, door, self.data.doors.get(door, {}))
        if event.get("result") == "granted" and lock:
            self.config_entry.async_create_task(
                self.hass, self._unlock(lock, door), f"{DOMAIN} unlock {door}"
            )

    def _door_entity(self, door: str) -> dict[str, str]:
        unique_id = f"{self.config_entry.unique_id}_{door}_decision"
        entity_id = er.async_get(self.hass).async_get_entity_id("event", DOMAIN, unique_id)
        return {} if entity_id is None else {ATTR_ENTITY_ID: entity_id}

    async def _unlock(self, lock: str, door: str) -> None:
        if self.hass.states.get(lock) is None:
            LOGGER.error("Could not unlock %s for door %s: no such entity", lock, door)
            self.repairs.lock_failed(door, lock, "no such entity")
            return
        try:
            await self.hass.services.async_call(
                "lock", "unlock", {ATTR_ENTITY_ID: lock}, blocking=True
            )
        except HomeAssistantError as error:
            LOGGER.error("Could not unlock %s for door %s: %s", lock, door, error)
            self.repairs.lock_failed(door, lock, str(error))
            return
        self.repairs.lock_worked(door)
