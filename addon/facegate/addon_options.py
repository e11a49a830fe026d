"""The add-on's options (Home Assistant writes them to /data/options.json) as the engine's
configuration: `facegate addon-config`, which the add-on's run script calls at every start.

The options are a flat list per door (`lock_command_topic`, ...) because the Supervisor's
option schema has no nesting; here they become the engine's `doors.<id>.lock` and are checked
by the same `config.parse` as any configuration file, so a bad option stops the add-on with
the key and, for a face-only door, the rule (R4). The broker comes from the Supervisor unless
the user set one; its password arrives in the environment, never on a command line, and the
file is written readable by the service alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from facegate.config import DEFAULT_API_PORT, DEFAULT_EMBEDDER, MqttConfig, parse
from facegate.errors import ConfigError

ADDON_DATA_DIR = "/data/facegate"
# Home Assistant core reaches the API from its own container on the Supervisor's network.
ADDON_API_HOST = "0.0.0.0"  # noqa: S104
PASSWORD_ENV = "FACEGATE_MQTT_PASSWORD"  # noqa: S105 - the variable's name, not a secret


def engine_config(options: Mapping[str, Any], broker: MqttConfig) -> dict[str, Any]:
    """The engine's configuration for these options; ConfigError for options it cannot use."""
    doors: dict[str, Any] = {}
    for index, door in enumerate(_items(options, "doors")):
        door_id = door.get("id")
        if not isinstance(door_id, str):
            raise ConfigError(f"invalid add-on options:\n  doors.{index}.id: is required")
        settings = {k: v for k, v in door.items() if not k.startswith("lock_") and k != "id"}
        settings["lock"] = {
            k.removeprefix("lock_"): v for k, v in door.items() if k.startswith("lock_")
        }
        doors[door_id] = settings
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
    return {
        "data_dir": ADDON_DATA_DIR,
        "embedder": options.get("embedder", DEFAULT_EMBEDDER),
        "mqtt": mqtt,
        "cameras": cameras,
        "doors": doors,
        "api": {"host": ADDON_API_HOST, "port": DEFAULT_API_PORT},
    }


def _items(options: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = options.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"invalid add-on options:\n  {key}: must be a list of settings")
    return items


def write_engine_config(options_path: Path, out: Path, broker: MqttConfig) -> None:
    """Reads the options, checks the configuration they make, writes it (mode 0600)."""
    try:
        options = json.loads(options_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"add-on options {options_path} cannot be read: {error}") from None
    if not isinstance(options, dict):
        raise ConfigError(f"add-on options {options_path}: must be a mapping of settings")
    config = engine_config(options, broker)
    parse(config, base=out.parent)  # the same checks as the engine's: nothing bad is written
    partial = out.with_name(out.name + ".part")
    partial.unlink(missing_ok=True)  # created anew below, so with mode 0600
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle, allow_unicode=True)
    partial.replace(out)
