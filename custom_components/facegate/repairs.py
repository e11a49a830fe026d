"""Repair issues: when a door may fail to open, or opens where it should not, somebody is told
in Settings → Repairs, in their language, instead of a line in the log.

Two kinds. What the engine's health says (`sync_health`, on every health read): the audit
chain broken (R11), the MQTT broker gone (no lock command can go out), a camera offline, rows
or face templates altered outside the engine (R8), a guessing attack at a door (R12), a face
door without a liveness check (R12), consents waiting for renewal after the notice changed
(R1, R6); each issue goes away by itself once health no longer says it. What happens to a
decision (`lock_failed`, `decisions_stale`): a Home Assistant lock missing or failing when a
resident was let in, and decisions dropped as stale (the two machines' clocks apart); these go
away at the next unlock that works and the next fresh decision. A door's lock that does not
exist at all is found before anyone is let in (locks.py); its issue has a fix flow here that
chooses another lock for the door.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig

from .compat import RepairsFlowResult, vol
from .const import CONF_LOCK, CONF_LOCKS, DOMAIN

ERROR = ir.IssueSeverity.ERROR
WARNING = ir.IssueSeverity.WARNING


def _issue_id(entry_id: str, key: str, item: str = "") -> str:
    return f"{entry_id}_{key}" + (f"_{item}" if item else "")


def health_issues(
    health: Mapping[str, Any], people: Iterable[Mapping[str, Any]]
) -> dict[tuple[str, str], tuple[ir.IssueSeverity, dict[str, str]]]:
    """What needs a person, from the engine's health and its people: (key, item) → severity
    and placeholders."""
    found: dict[tuple[str, str], tuple[ir.IssueSeverity, dict[str, str]]] = {}
    if health.get("audit_ok") is False:
        found["audit_broken", ""] = (ERROR, {"problem": str(health.get("audit_problem") or "")})
    if health.get("mqtt_connected") is False:
        found["mqtt_down", ""] = (ERROR, {})
    for camera, state in (health.get("cameras") or {}).items():
        if not state.get("online"):
            found["camera_offline", camera] = (WARNING, {"camera": camera})
    tampered = health.get("tampered_rows") or {}
    if tampered or health.get("refused_templates"):
        rows = sum(len(ids) for ids in tampered.values()) + int(
            health.get("refused_templates") or 0
        )
        found["tampered", ""] = (ERROR, {"count": str(rows)})
    for door, methods in (health.get("under_attack") or {}).items():
        found["guessing_attack", door] = (WARNING, {"door": door, "methods": ", ".join(methods)})
    for door in health.get("liveness_off") or []:
        found["liveness_off", door] = (WARNING, {"door": door})
    waiting = sorted(
        str(p.get("name"))
        for p in people
        if (p.get("consent") or {}).get("status") == "needs_renewal"
    )
    if waiting:
        found["consents_need_renewal", ""] = (
            WARNING,
            {"count": str(len(waiting)), "names": ", ".join(waiting)},
        )
    return found


class Repairs:
    """The repair issues of one config entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self._from_health: set[str] = set()

    @callback
    def _create(
        self, key: str, item: str, severity: ir.IssueSeverity, placeholders: dict[str, str]
    ) -> str:
        issue_id = _issue_id(self.entry_id, key, item)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=severity,
            translation_key=key,
            translation_placeholders=placeholders,
        )
        return issue_id

    @callback
    def sync_health(self, health: Mapping[str, Any], people: Iterable[Mapping[str, Any]]) -> None:
        """Issues for what health says now; the ones it no longer says are deleted."""
        if not health:
            return
        now = {
            self._create(key, item, severity, placeholders)
            for (key, item), (severity, placeholders) in health_issues(health, people).items()
        }
        for gone in self._from_health - now:
            ir.async_delete_issue(self.hass, DOMAIN, gone)
        self._from_health = now

    @callback
    def lock_failed(self, door: str, lock: str, why: str) -> None:
        self._create("lock_failed", door, ERROR, {"door": door, "lock": lock, "error": why})

    @callback
    def lock_worked(self, door: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, _issue_id(self.entry_id, "lock_failed", door))

    @callback
    def decisions_stale(self) -> None:
        self._create("decisions_stale", "", WARNING, {})

    @callback
    def decisions_fresh(self) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, _issue_id(self.entry_id, "decisions_stale"))

    @callback
    def clear(self) -> None:
        """Every issue of the entry (unloaded or removed: nothing left to repair here)."""
        registry = ir.async_get(self.hass)
        for domain, issue_id in list(registry.issues):
            if domain == DOMAIN and issue_id.startswith(f"{self.entry_id}_"):
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self._from_health = set()


class ChooseLockFlow(RepairsFlow):
    """`lock_missing`'s fix: the lock this door should open, saved in the entry's options
    (as the options flow would); the issue then goes by itself (locks.py)."""

    def __init__(self, issue_id: str, entry_id: str, door: str) -> None:
        self._issue_id = issue_id
        self._entry_id = entry_id
        self._door = door

    async def async_step_init(self, _user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Home Assistant starts every fix at `init` with the issue's id as its input."""
        return await self.async_step_choose()

    async def async_step_choose(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_gone")
        if user_input is not None:
            locks = {**(entry.options.get(CONF_LOCKS) or {}), self._door: user_input[CONF_LOCK]}
            self.hass.config_entries.async_update_entry(
                entry, options={**entry.options, CONF_LOCKS: locks}
            )
            return self.async_create_entry(data={})
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self._issue_id)
        placeholders = dict(issue.translation_placeholders or {}) if issue is not None else {}
        return self.async_show_form(
            step_id="choose",
            data_schema=vol.Schema(
                {vol.Required(CONF_LOCK): EntitySelector(EntitySelectorConfig(domain="lock"))}
            ),
            description_placeholders=placeholders,
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Home Assistant asks for the fix of a fixable issue: only `lock_missing` has one."""
    if data is None or "door" not in data:
        raise ValueError(f"facegate has no fix for {issue_id}")
    return ChooseLockFlow(issue_id, str(data["entry_id"]), str(data["door"]))
