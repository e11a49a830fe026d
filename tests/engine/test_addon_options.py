"""The add-on's options become the engine's configuration in Python, checked like any other,
and the add-on declares the engine's own defaults and words (its config.yaml cannot import)."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from facegate.addon_options import PASSWORD_ENV, engine_config
from facegate.cli import main
from facegate.config import DEFAULT_EMBEDDER, MqttConfig, parse
from facegate.errors import ConfigError
from facegate.vocabulary import EMBEDDER_NAMES, METHODS

ADDON = Path(__file__).resolve().parents[2] / "addon"
OPTIONS: dict[str, Any] = {
    "cameras": [{"name": "front_cam", "source": "rtsp://192.0.2.10/stream2", "detector": "full"}],
    "doors": [
        {
            "id": "front_door",
            "name": "Front door",
            "camera": "front_cam",
            "methods": ["face", "pin"],
            "lock_command_topic": "zigbee2mqtt/front_lock/set",
            "lock_payload_unlock": '{"state": "UNLOCK"}',
        },
        {"id": "garage", "methods": ["pin"], "lock_entity_id": "lock.garage"},
    ],
}


def test_options_make_the_configuration_the_engine_checks(tmp_path: Path) -> None:
    config = parse(engine_config(OPTIONS, MqttConfig(host="core-mosquitto", username="addons")))
    front = config.doors["front_door"]
    assert front.methods == {"face", "pin"} and front.camera == "front_cam"
    assert front.lock.command_topic == "zigbee2mqtt/front_lock/set"
    assert config.doors["garage"].lock.entity_id == "lock.garage"
    assert config.embedder == DEFAULT_EMBEDDER  # the add-on's default is the engine's
    assert (config.mqtt.host, config.mqtt.username, config.mqtt.password) == (
        "core-mosquitto",
        "addons",
        None,
    )


def test_the_cli_writes_a_private_file_with_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options, out = tmp_path / "options.json", tmp_path / "facegate.yaml"
    options.write_text(json.dumps(OPTIONS))
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-broker")
    args = ["addon-config", "--options", str(options), "--out", str(out)]
    assert main([*args, "--mqtt-host", "core-mosquitto", "--mqtt-username", "addons"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    written = yaml.safe_load(out.read_text())
    assert written["mqtt"]["password"] == "s3cret-broker"
    assert written["api"]["host"] == "0.0.0.0"


def test_bad_options_stop_the_add_on_naming_the_key_and_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    face_only = {**OPTIONS, "doors": [{**OPTIONS["doors"][0], "methods": ["face"]}]}
    with pytest.raises(ConfigError, match=r"doors\.front_door\.methods: R4"):
        parse(engine_config(face_only, MqttConfig(host="h")))
    options, out = tmp_path / "options.json", tmp_path / "facegate.yaml"
    options.write_text(json.dumps(face_only))
    args = ["addon-config", "--options", str(options), "--out", str(out), "--mqtt-host", "h"]
    assert main(args) == 2
    assert "R4" in capsys.readouterr().err
    assert not out.exists()  # nothing is written from options the engine would refuse
    with pytest.raises(ConfigError, match=r"doors\.0\.id: is required"):
        engine_config({"doors": [{"methods": ["pin"]}]}, MqttConfig(host="h"))


def test_the_add_on_declares_the_engine_s_defaults_and_words() -> None:
    addon = yaml.safe_load((ADDON / "config.yaml").read_text())
    assert addon["options"]["embedder"] == DEFAULT_EMBEDDER
    offered = re.fullmatch(r"list\((.+)\)", addon["schema"]["embedder"])
    assert offered is not None and set(offered.group(1).split("|")) <= set(EMBEDDER_NAMES)
    methods = re.fullmatch(r"list\((.+)\)", addon["schema"]["doors"][0]["methods"][0])
    assert methods is not None and tuple(methods.group(1).split("|")) == METHODS
