"""The add-on's options (Home Assistant writes them to /data/options.json) as the engine's
configuration, which `facegate addon` (addon_entry.py) writes at every start.

The Supervisor's option schema has no nesting inside a list item, so a door's lock and its
keypad, card and tag readers are flat keys (`lock_command_topic`, `keypad_topic`, ...); here
they become the engine's `doors.<id>.lock` and `doors.<id>.credential_inputs`, and the whole
is checked by the same `config.parse` as any configuration file: a bad option stops the
add-on with the option's path and, for a face-only door, the rule (R4). The broker's password
stays in memory until it is written to a file readable by the engine alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from facegate.config import (
    DEFAULT_API_PORT,
    DEFAULT_EMBEDDER,
    DEFAULT_RESIDENTS_PORT,
    SUPERVISOR_INGRESS_PROXY,
    MqttConfig,
    parse,
)
from facegate.errors import ConfigError

ADDON_DATA_DIR = "/data/facegate"
# Home Assistant core reaches the API from its own container on the Supervisor's network, and
# residents' phones reach their pages through the port the add-on publishes.
ANY_ADDRESS = "0.0.0.0"  # noqa: S104
LOOPBACK = "127.0.0.1"
# A door's readers: the option's prefix and the credential kind they read.
READERS = {"keypad": "pin", "card_reader": "card", "tag_reader": "tag"}
# Options that are the engine's settings under another section, with the same meaning.
SECTIONS = {
    "max_failures": ("credentials", "max_failures"),
    "failure_window_s": ("credentials", "window_s"),
    "lockout_s": ("credentials", "lockout_s"),
    "audit_retention_days": ("audit", "retention_days"),
    "invitation_hours": ("residents", "invitation_hours"),
}


def _door(index: int, door: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    door_id = door.get("id")
    if not isinstance(door_id, str):
        raise ConfigError(f"invalid add-on options:\n  doors.{index}.id: is required")
    settings: dict[str, Any] = {}
    lock: dict[str, Any] = {}
    inputs: list[dict[str, Any]] = []
    for key, value in door.items():
        if key == "id":
            continue
        if key.startswith("lock_"):
            lock[key.removeprefix("lock_")] = value
        elif key.endswith("_topic") and key.removesuffix("_topic") in READERS:
            reader = key.removesuffix("_topic")
            found = {"topic": value, "kind": READERS[reader]}
            if door.get(f"{reader}_json_key"):
                found["json_key"] = door[f"{reader}_json_key"]
            inputs.append(found)
        elif not key.endswith("_json_key"):
            settings[key] = value
    settings["lock"] = lock
    if inputs:
        settings["credential_inputs"] = inputs
    return door_id, settings


def engine_config(
    options: Mapping[str, Any],
    broker: MqttConfig,
    *,
    data_dir: str = ADDON_DATA_DIR,
    local: bool = False,
) -> dict[str, Any]:
    """The engine's configuration for these options; ConfigError for options it cannot use.
    `local`: every listener on loopback, loopback the ingress proxy (outside the Supervisor)."""
    doors = dict(_door(index, door) for index, door in enumerate(_items(options, "doors")))
    cameras = {}
    for index, camera in enumerate(_items(options, "cameras")):
        name = camera.get("name")
        if not isinstance(name, str):
            raise ConfigError(f"invalid add-on options:\n  cameras.{index}.name: is required")
        cameras[name] = {k: v for k, v in camera.items() if k != "name"}
    mqtt: dict[str, Any] = {"host": broker.host, "port": broker.port}
    if broker.username:
        mqtt["username"] = broker.username
    if broker.password:
        mqtt["password"] = broker.password
    if options.get("mqtt_prefix"):
        mqtt["prefix"] = options["mqtt_prefix"]
    listen = LOOPBACK if local else ANY_ADDRESS
    config: dict[str, Any] = {
        "data_dir": data_dir,
        "embedder": options.get("embedder", DEFAULT_EMBEDDER),
        "mqtt": mqtt,
        "cameras": cameras,
        "doors": doors,
        "api": {
            "host": listen,
            "port": DEFAULT_API_PORT,
            "ingress_proxy": LOOPBACK if local else SUPERVISOR_INGRESS_PROXY,
        },
        "residents": {"host": listen, "port": DEFAULT_RESIDENTS_PORT},
    }
    if options.get("residents_url"):
        config["residents"]["base_url"] = options["residents_url"]
    for option, (section, key) in SECTIONS.items():
        if options.get(option) is not None:
            config.setdefault(section, {})[key] = options[option]
    if options.get("timezone"):
        config["timezone"] = options["timezone"]
    return config


def _items(options: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = options.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"invalid add-on options:\n  {key}: must be a list of settings")
    return items


def write_engine_config(
    options: Mapping[str, Any],
    out: Path,
    broker: MqttConfig,
    *,
    data_dir: Path = Path(ADDON_DATA_DIR),
    local: bool = False,
) -> None:
    """Checks the configuration the options make, then writes it (mode 0600)."""
    config = engine_config(options, broker, data_dir=str(data_dir), local=local)
    parse(config, base=out.parent)  # the same checks as the engine's: nothing bad is written
    partial = out.with_name(out.name + ".part")
    partial.unlink(missing_ok=True)  # created anew below, so with mode 0600
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle, allow_unicode=True)
    partial.replace(out)
