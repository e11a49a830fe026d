"""`GET /api/health`: what an administrator (and Home Assistant) needs to know is wrong.

The status is `degraded` when anything needs a person: the audit chain is broken, a camera
is offline, stored templates or rows were altered outside the engine (R8), a door is under a
guessing attack (R12), or the broker is gone (no lock command can go out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from facegate.engine import Engine


def engine_health(engine: Engine, event_clients: int) -> dict[str, Any]:
    store = engine.store
    verdict = store.verify_audit()
    tampered = store.tampered_rows()
    attacked = engine.under_attack()
    cameras = {name: asdict(h) for name, h in engine.camera_health().items()}
    online = sum(1 for h in cameras.values() if h["online"])
    connected = getattr(engine.link, "connected", None)  # MqttLink's property
    mqtt = connected if isinstance(connected, bool) else None
    healthy = (
        verdict.ok
        and online == len(cameras)
        and not engine.refused_templates
        and not tampered
        and not attacked
        and mqtt is not False
    )
    return {
        "status": "ok" if healthy else "degraded",
        "notice_version": engine.notice.version,
        "doors": len(engine.config.doors),
        "cameras": cameras,
        "cameras_online": online,
        "cameras_total": len(cameras),
        "people": len(store.people()),
        "templates": store.template_count(),
        "templates_in_use": len(engine.gallery()),
        "refused_templates": engine.refused_templates,
        "tampered_rows": tampered,
        "under_attack": attacked,
        "decision_policy": engine.decision_policy(),
        "vision": engine.vision_stats(),
        "mqtt_connected": mqtt,
        # Not "degraded": an operator's choice, named so that Home Assistant can say it (R12).
        "liveness_off": sorted(
            door.id
            for door in engine.config.doors.values()
            if "face" in door.methods and not door.checks_liveness
        ),
        "audit_ok": verdict.ok,
        "audit_problem": verdict.problem,
        "event_clients": event_clients,
    }


def door_json(
    engine: Engine, door_id: str, overrides: Mapping[tuple[str, str], bool]
) -> dict[str, Any]:
    """A door as the API, the event stream and the administrator pages show it: its methods,
    which are on, its camera and its keypad counters (never a presented value or who tried)."""
    door = engine.config.doors[door_id]
    enabled = sorted(m for m in door.methods if overrides.get((door_id, m), True))
    state = engine.door_state(door_id, overrides)
    camera = None
    if door.camera is not None:
        camera = {"name": door.camera, "online": state["camera_online"]}
    return {
        "id": door.id,
        "name": door.name,
        "methods": sorted(door.methods),
        "enabled": enabled,
        "face_enabled": state["face_enabled"],
        "camera": camera,
        "lock": "mqtt" if door.lock.command_topic is not None else "home_assistant",
        # The Home Assistant lock the integration unlocks after a grant (None: an MQTT lock).
        "lock_entity": door.lock.entity_id if door.lock.command_topic is None else None,
        "credential_attempts": state["credential_attempts"],
    }


def doors_json(engine: Engine) -> list[dict[str, Any]]:
    overrides = engine.store.door_method_overrides()
    return [door_json(engine, d, overrides) for d in engine.config.doors]
