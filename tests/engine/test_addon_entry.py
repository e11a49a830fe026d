"""The add-on's start (`facegate addon`, addon_entry.py) against a fake Supervisor on loopback
that checks the add-on's token; the s6 `finish` script's crash-loop rule; the add-on's files
checked by the Supervisor's own rules (config.yaml's option schema, the translations) and
its image's pins equal to the repository's."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, get_args

import facegate
import pytest
import yaml
from conftest_supervisor import BROKER, TOKEN, FakeSupervisor
from facegate.access.liveness import LivenessMode
from facegate.access.policy import Strictness
from facegate.addon_entry import (
    LOCAL_ENV,
    SUPERVISOR_TOKEN_ENV,
    SUPERVISOR_URL_ENV,
    Supervisor,
    announce_when_ready,
    prepare,
)
from facegate.addon_options import engine_config
from facegate.cli import main
from facegate.config import DEFAULT_EMBEDDER, MqttConfig, parse
from facegate.errors import ConfigError
from facegate.vocabulary import EMBEDDER_NAMES, METHODS
from supervisor_rules import check_options, check_schema, check_translations

pytest_plugins = ["conftest_supervisor"]
ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon"
FINISH = ADDON / "rootfs/etc/s6-overlay/s6-rc.d/facegate/finish"
OPTIONS: dict[str, Any] = {
    "embedder": "fused",
    "cameras": [{"name": "front_cam", "source": "rtsp://192.0.2.10/stream2", "detector": "full"}],
    "doors": [
        {
            "id": "front_door",
            "name": "Front door",
            "camera": "front_cam",
            "methods": ["face", "pin", "card"],
            "strictness": "balanced",
            "lock_command_topic": "zigbee2mqtt/front_lock/set",
            "lock_payload_unlock": '{"state": "UNLOCK"}',
            "keypad_topic": "zigbee2mqtt/front_keypad",
            "keypad_json_key": "action_code",
            "card_reader_topic": "readers/front/card",
        },
        {"id": "garage", "methods": ["pin"], "lock_entity_id": "lock.garage"},
    ],
    "residents_url": "http://192.0.2.20:8766",
    "max_failures": 4,
    "audit_retention_days": 400,
    "timezone": "Asia/Shanghai",
}


def _data(tmp_path: Path, options: dict[str, Any]) -> Path:
    (tmp_path / "options.json").write_text(json.dumps(options))
    return tmp_path


def _environ(supervisor: FakeSupervisor, token: str = TOKEN) -> dict[str, str]:
    return {SUPERVISOR_TOKEN_ENV: token, SUPERVISOR_URL_ENV: supervisor.url, LOCAL_ENV: "1"}


def test_the_broker_comes_from_the_supervisor_and_its_password_only_into_the_file(
    tmp_path: Path, supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    config, found = prepare(_data(tmp_path, OPTIONS), _environ(supervisor))
    assert found is not None and supervisor.calls == [("GET", "/services/mqtt", None)]
    assert config == tmp_path / "facegate" / "engine.yaml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    written = yaml.safe_load(config.read_text())
    assert written["mqtt"] == {k: BROKER[k] for k in ("host", "port", "username", "password")}
    assert "b-r-o-k-e-r" not in caplog.text and "core-mosquitto:1883 as addons" in caplog.text
    engine = parse(written, base=config.parent)
    front = engine.doors["front_door"]
    assert (front.strictness, front.methods) == ("balanced", {"face", "pin", "card"})
    assert [(i.topic, i.kind, i.json_key) for i in front.credential_inputs] == [
        ("zigbee2mqtt/front_keypad", "pin", "action_code"),
        ("readers/front/card", "card", None),
    ]
    assert engine.credentials.max_failures == 4 and engine.audit.retention_days == 400
    assert engine.residents.url == "http://192.0.2.20:8766" and engine.timezone == "Asia/Shanghai"
    # Outside the Supervisor (FACEGATE_ADDON_LOCAL): loopback only, loopback the proxy.
    assert (engine.api.host, engine.api.ingress_proxy, engine.residents.host) == (
        "127.0.0.1",
        "127.0.0.1",
        "127.0.0.1",
    )
    served = parse(engine_config(OPTIONS, MqttConfig(host="h")))
    assert (served.api.host, served.api.ingress_proxy) == ("0.0.0.0", "172.30.32.2")


def test_a_broker_in_the_options_wins_and_none_at_all_stops_the_add_on(
    tmp_path: Path, supervisor: FakeSupervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    own = {**OPTIONS, "mqtt_host": "192.0.2.30", "mqtt_port": 8883, "mqtt_username": "gate"}
    config, _ = prepare(_data(tmp_path, own), _environ(supervisor))
    assert yaml.safe_load(config.read_text())["mqtt"] == {
        "host": "192.0.2.30",
        "port": 8883,
        "username": "gate",
    }
    assert supervisor.calls == []  # the Supervisor's broker was not even asked for

    supervisor.mqtt = None  # no Mosquitto add-on installed
    with pytest.raises(ConfigError, match="install the Mosquitto broker add-on or set mqtt_host"):
        prepare(_data(tmp_path, OPTIONS), _environ(supervisor))
    with pytest.raises(ConfigError, match="answered GET /services/mqtt with 401"):
        prepare(_data(tmp_path, OPTIONS), _environ(supervisor, "a-forged-token"))


def test_a_broker_with_a_bad_port_stops_the_add_on_saying_where_it_came_from(
    tmp_path: Path, supervisor: FakeSupervisor
) -> None:
    supervisor.mqtt = {**BROKER, "port": 70000}
    with pytest.raises(
        ConfigError, match=r"(?s)from the Supervisor's MQTT service: .*port: must be at most 65535"
    ):
        prepare(_data(tmp_path, OPTIONS), _environ(supervisor))
    own = {**OPTIONS, "mqtt_host": "192.0.2.30", "mqtt_port": 0}
    with pytest.raises(ConfigError, match=r"(?s)from the add-on's options: .*port"):
        prepare(_data(tmp_path, own), _environ(supervisor))
    assert not (tmp_path / "facegate" / "engine.yaml").exists()  # nothing written
    # A broker that gives no port is on the engine's default one.
    supervisor.mqtt = {"host": "core-mosquitto"}
    config, _ = prepare(_data(tmp_path, OPTIONS), _environ(supervisor))
    assert yaml.safe_load(config.read_text())["mqtt"] == {"host": "core-mosquitto", "port": 1883}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"methods": ["face"]}, r"doors\.front_door\.methods: R4"),
        ({"camera": "back_cam"}, r"doors\.front_door\.camera"),
        ({"lock_command_topic": "locks/#"}, r"doors\.front_door\.lock\.command_topic"),
        ({"keypad_topic": "keys/+/code"}, r"doors\.front_door\.credential_inputs\.0\.topic"),
    ],
)
def test_bad_options_stop_the_add_on_naming_the_option_before_anything_is_written(
    tmp_path: Path,
    supervisor: FakeSupervisor,
    *,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
    named: str,
) -> None:
    bad = {**OPTIONS, "doors": [{**OPTIONS["doors"][0], **change}, OPTIONS["doors"][1]]}
    for name, value in _environ(supervisor).items():
        monkeypatch.setenv(name, value)

    def started(*_args: object) -> None:  # were they taken, this process would become the engine
        raise AssertionError("the engine was started with bad options")

    monkeypatch.setattr(os, "execv", started)
    monkeypatch.setattr(os, "fork", started)
    assert main(["addon", "--data", str(_data(tmp_path, bad))]) == 2
    assert re.search(named, capsys.readouterr().err)
    assert not (tmp_path / "facegate" / "engine.yaml").exists()


def test_the_engine_is_announced_once_its_api_answers(
    tmp_path: Path, supervisor: FakeSupervisor
) -> None:
    """A stand-in for the engine's API on loopback answers with the token it wrote."""
    (tmp_path / "api.token").write_text("engine-token\n")
    seen: list[str | None] = []

    class Engine(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(200 if self.path == "/api/installation" else 404)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Engine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = int(server.server_address[1])
        announce_when_ready(Supervisor(supervisor.url, TOKEN), tmp_path, os.getpid(), port)
    finally:
        server.shutdown()
        server.server_close()
    assert seen[-1] == "Bearer engine-token"
    [(method, path, body)] = supervisor.calls
    assert (method, path, body["service"]) == ("POST", "/discovery", "facegate")
    assert body["config"]["port"] == port and body["config"]["token"] == "engine-token"


def _finish(tmp_path: Path, code: int) -> subprocess.CompletedProcess[str]:
    halt = tmp_path / "halt"
    halt.write_text(f"#!/bin/sh\necho halted >> {tmp_path / 'halted'}\n")
    halt.chmod(0o755)
    env = {
        **os.environ,
        "FACEGATE_CRASH_LOG": str(tmp_path / "crashes"),
        "FACEGATE_HALT": str(halt),
        "FACEGATE_RESULTS": str(tmp_path / "exitcode"),
    }
    return subprocess.run(
        ["sh", str(FINISH), str(code), "0"], env=env, capture_output=True, text=True, check=True
    )


def test_the_finish_script_stops_the_add_on_on_bad_options_and_on_a_crash_loop(
    tmp_path: Path,
) -> None:
    for stopped in (0, 256):  # asked to stop: nothing happens
        _finish(tmp_path, stopped)
    assert not (tmp_path / "halted").exists() and not (tmp_path / "crashes").exists()
    assert "s6 starts it again" in _finish(tmp_path, 1).stderr
    _finish(tmp_path, 1)
    assert not (tmp_path / "halted").exists()  # two crashes: restarted each time
    assert "3 times within five minutes" in _finish(tmp_path, 1).stderr
    assert (tmp_path / "halted").read_text() == "halted\n"
    assert (tmp_path / "exitcode").read_text() == "1\n"

    options = tmp_path / "options"
    options.mkdir()
    assert "not a configuration the engine can run" in _finish(options, 2).stderr
    assert (options / "halted").exists() and (options / "exitcode").read_text() == "2\n"


def test_the_add_on_s_files_follow_the_supervisor_s_rules_and_the_engine_s_words() -> None:
    addon = yaml.safe_load((ADDON / "config.yaml").read_text())
    check_schema(addon["schema"])
    check_options(addon["schema"], addon["options"])
    check_options(addon["schema"], OPTIONS)  # what these tests use is a valid set of options
    for language in ("en", "zh-Hans"):
        translations = yaml.safe_load((ADDON / "translations" / f"{language}.yaml").read_text())
        check_translations(addon["schema"], translations, addon.get("ports", {}))
    assert "mqtt:want" in addon["services"] and "map" not in addon
    assert addon["watchdog"].startswith("tcp://") and addon["init"] is False
    for name in ("icon.png", "logo.png", "apparmor.txt", "DOCS.md", "CHANGELOG.md"):
        assert (ADDON / name).is_file(), name
    # The engine's defaults and words, declared there once.
    assert addon["options"]["embedder"] == DEFAULT_EMBEDDER
    doors = addon["schema"]["doors"][0]
    for schema, words in (
        (addon["schema"]["embedder"], EMBEDDER_NAMES),
        (doors["methods"][0], METHODS),
        (doors["strictness"], get_args(Strictness)),
        (doors["liveness"], get_args(LivenessMode)),
    ):
        offered = re.fullmatch(r"list\((.+)\)\??", schema)
        assert offered is not None and set(offered.group(1).split("|")) <= set(words), schema
    assert tuple(doors["methods"][0][5:-1].split("|")) == METHODS


def test_the_image_pins_what_the_repository_pins() -> None:
    def pins(path: Path) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", path.read_text(), re.MULTILINE)
        return {name.lower(): version for name, version in found}

    image, repository = pins(ADDON / "requirements.txt"), pins(ROOT / "requirements.txt")
    assert image and all(repository.get(name) == version for name, version in image.items())
    # The engine's own dependencies (pyproject.toml), each pinned in the image.
    project = tomllib.loads((ADDON / "pyproject.toml").read_text())["project"]
    engine = {re.split(r"[<>=!~\[; ]", d)[0].lower() for d in project["dependencies"]}
    assert engine and engine <= set(image)
    declared = yaml.safe_load((ADDON / "config.yaml").read_text())["version"]
    assert f"BUILD_VERSION={declared}" in (ADDON / "Dockerfile").read_text()
    # One version for the add-on, the engine inside it and the integration that talks to it.
    manifest = json.loads((ROOT / "custom_components/facegate/manifest.json").read_text())
    assert declared == facegate.__version__ == project["version"] == manifest["version"]


def test_every_file_the_engine_reads_is_in_its_package() -> None:
    """A template left out of the package data is missing from the image (it once was)."""
    package = ADDON / "facegate"
    globs = tomllib.loads((ADDON / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["facegate"]
    data = [
        path.relative_to(package)
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    ]
    assert data
    for path in data:
        assert any(path.match(glob) for glob in globs), f"{path} is not in package-data"


def test_the_apparmor_profile_parses() -> None:
    parser = shutil.which("apparmor_parser") or "/usr/sbin/apparmor_parser"
    if not Path(parser).exists():  # CI installs it (scripts/setup.sh): a failure, not a skip
        pytest.fail("AppArmor's parser is missing: bash scripts/setup.sh installs it")
    done = subprocess.run(
        [parser, "--skip-kernel-load", "--skip-cache", "--debug", str(ADDON / "apparmor.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Name:\t\tfacegate\n" in done.stdout  # the profile the Supervisor loads by slug
    # Its own data, never the rest of the host's shares.
    assert "(/data/facegate/**)" in done.stdout and "(/share" not in done.stdout
