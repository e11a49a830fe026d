"""Which Home Assistant lock opens each door, and a repair issue as soon as it does not exist.

A door whose lock is in Home Assistant names it in the engine's configuration (`lock_entity`
in the door's state); the integration's options may name another. A grant at a door whose lock
is missing leaves a resident at a shut door: that is said in Settings → Repairs before anyone
is let in, not only after (`lock_failed`), and the issue goes by itself when the lock appears
or another one is chosen — in the options or in the issue's own fix flow (repairs.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.start import async_at_started

from .const import CONF_LOCKS, DOMAIN

if TYPE_CHECKING:
    from .coordinator import FacegateConfigEntry

LOCK_MISSING: Final = "lock_missing"


def door_lock(options: Mapping[str, Any], door_id: str, door: Mapping[str, Any]) -> str | None:
    """The Home Assistant lock that a grant at `door` unlocks: the options' choice, else the
    engine's; None for a door the engine opens over MQTT itself."""
    if door.get("lock") != "home_assistant":
        return None
    chosen = (options.get(CONF_LOCKS) or {}).get(door_id)
    return str(chosen) if chosen else door.get("lock_entity")


def missing_issue_id(entry_id: str, door_id: str) -> str:
    return f"{entry_id}_{LOCK_MISSING}_{door_id}"


@callback
def async_watch_locks(hass: HomeAssistant, entry: FacegateConfigEntry) -> Callable[[], None]:
    """Checks every door's lock now, whenever the doors or the options change and whenever one
    of those locks appears or disappears; the returned callable stops it."""
    watched: dict[str, str] = {}  # door → lock
    stop_tracking: Callable[[], None] | None = None

    @callback
    def check(_event: Event[EventStateChangedData] | None = None) -> None:
        nonlocal stop_tracking
        doors = entry.runtime_data.coordinator.data.doors
        now = {
            door_id: lock
            for door_id, door in doors.items()
            if (lock := door_lock(entry.options, door_id, door)) is not None
        }
        for door_id, lock in now.items():
            issue_id = missing_issue_id(entry.entry_id, door_id)
            if hass.states.get(lock) is None:
                ir.async_create_issue(
                    hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=True,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key=LOCK_MISSING,
                    translation_placeholders={
                        "door": str(doors[door_id].get("name") or door_id),
                        "lock": lock,
                    },
                    data={"entry_id": entry.entry_id, "door": door_id},
                )
            else:
                ir.async_delete_issue(hass, DOMAIN, issue_id)
        for door_id in set(watched) - set(now):
            ir.async_delete_issue(hass, DOMAIN, missing_issue_id(entry.entry_id, door_id))
        if now != watched:
            if stop_tracking is not None:
                stop_tracking()
            # A lock created, removed or renamed is a state change of its entity id.
            stop_tracking = async_track_state_change_event(hass, sorted(set(now.values())), check)
            watched.clear()
            watched.update(now)

    async def options_changed(_hass: HomeAssistant, _entry: FacegateConfigEntry) -> None:
        check()

    @callback
    def started(_hass: HomeAssistant) -> None:
        check()

    stops = [
        entry.runtime_data.coordinator.async_add_listener(check),
        entry.add_update_listener(options_changed),
        # At Home Assistant's start the locks of integrations loading after this one are not
        # there yet: the first check waits until everything has started.
        async_at_started(hass, started),
    ]

    @callback
    def stop() -> None:
        for unsubscribe in stops:
            unsubscribe()
        if stop_tracking is not None:
            stop_tracking()

    return stop
