"""The add-on, built and run for real: its image built with buildah from a stand-in for Home
Assistant's base (addon_image.py), and its start (`facegate addon`) run inside it against a
fake Supervisor (conftest_supervisor.py), a real mosquitto and a real RTSP camera on loopback.
The engine must start with the options given, take the Supervisor's broker and credentials,
announce itself, serve its pages behind Home Assistant's ingress headers, drop root, and a
resident's face at the camera must reach the lock's topic. Bad options stop it first.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from addon_image import Container, build, labels, missing, remove_image, standin_base
from conftest_mqtt import Mosquitto, MosquittoFactory, Subscriber
from conftest_supervisor import BROKER, TOKEN, FakeSupervisor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from engine_client import ENROL_PHOTO
from engine_harness import _camera, engine_python

pytest_plugins = ["conftest_mqtt", "conftest_supervisor"]

LOCK_TOPIC = "locks/front_door/set"
API = "http://127.0.0.1:8765"  # the add-on's ingress port, on loopback (FACEGATE_ADDON_LOCAL)
START_S = 120.0
GRANT_S = 90.0


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[float]:
    """The add-on's image, built once for this module and removed after; the build's seconds."""
    if missing() is not None:  # CI installs both: their absence is a failure, not a skip
        pytest.fail(str(missing()))
    workdir = tmp_path_factory.mktemp("addon-image")
    base = standin_base(workdir)
    seconds = build(base, workdir / "build.log")
    yield seconds
    remove_image()


def _options(camera_url: str, **door: Any) -> dict[str, Any]:
    return {
        "embedder": "mobilefacenet",
        "cameras": [{"name": "front_cam", "source": camera_url, "detector": "short"}],
        "doors": [
            {
                "id": "front_door",
                "name": "Front door",
                "camera": "front_cam",
                # Liveness as by default (required): the camera plays a real recording of a man.
                "methods": ["face", "pin"],
                "lock_command_topic": LOCK_TOPIC,
                **door,
            }
        ],
        "residents_url": "http://127.0.0.1:8766",
    }


def _api(method: str, path: str, token: str, body: Any = None, raw: bytes | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    data = raw
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif raw is not None:
        headers["Content-Type"] = "image/jpeg"
    request = urllib.request.Request(API + path, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def _wait(
    predicate: Any, timeout: float, what: str, log: Path, running: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline or running.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
            raise AssertionError(f"{what} within {timeout} s; the add-on's log:\n{tail}")
        time.sleep(0.2)


def _uid_of(pattern: str) -> int | None:
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if pattern in status.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                for line in (status.parent / "status").read_text().splitlines():
                    if line.startswith("Uid:"):
                        return int(line.split()[1])
        except OSError:
            continue
    return None


@pytest.fixture
def broker(tmp_path: Path, make_mosquitto: MosquittoFactory) -> Mosquitto:
    """A broker that lets in only the login the Supervisor hands out (as the Mosquitto add-on
    does): connected at all, the engine used the Supervisor's credentials."""
    passwords = tmp_path / "passwd"
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    subprocess.run(
        [tool, "-b", "-c", str(passwords), BROKER["username"], BROKER["password"]], check=True
    )
    return make_mosquitto(["allow_anonymous false", f"password_file {passwords}"])


def test_the_add_on_runs_from_its_image_with_the_supervisor_s_broker(
    image: float, tmp_path: Path, supervisor: FakeSupervisor, broker: Mosquitto
) -> None:
    mosquitto = broker
    supervisor.mqtt = {**BROKER, "host": "127.0.0.1", "port": mosquitto.port}
    data = tmp_path / "data"
    data.mkdir()
    log = tmp_path / "addon.log"
    (tmp_path / "camera").mkdir()
    with _camera(tmp_path / "camera", engine_python()) as camera_url:
        (data / "options.json").write_text(json.dumps(_options(camera_url)))
        container = Container()
        lock = Subscriber(
            "127.0.0.1",
            mosquitto.port,
            LOCK_TOPIC,
            username=str(BROKER["username"]),
            password=str(BROKER["password"]),
        )
        env = {"SUPERVISOR_TOKEN": TOKEN, "FACEGATE_SUPERVISOR_URL": supervisor.url,
               "FACEGATE_ADDON_LOCAL": "1"}  # fmt: skip
        command = container.command(
            ["/opt/venv/bin/facegate", "addon", "--data", "/data"],
            volumes=[f"{data}:/data"],
            env=env,
        )
        with log.open("wb") as output:
            addon = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            # Discovery once the API answers: the integration's hassio step gets the token.
            _wait(lambda: any(c[1] == "/discovery" for c in supervisor.calls), START_S,
                  "no discovery", log, addon)  # fmt: skip
            [(_, _, announced)] = [c for c in supervisor.calls if c[1] == "/discovery"]
            token = announced["config"]["token"]
            assert announced["service"] == "facegate" and announced["config"]["port"] == 8765
            assert supervisor.calls[0][:2] == ("GET", "/services/mqtt")
            text = log.read_text(errors="replace")
            assert f"MQTT broker 127.0.0.1:{mosquitto.port} as addons" in text
            assert BROKER["password"] not in text and token not in text
            health = _api("GET", "/api/health", token)
            assert health["mqtt_connected"] is True and health["doors"] == 1
            assert _uid_of("facegate.cli run --config /data/facegate/engine.yaml") not in (0, None)

            # The administrator pages through ingress, as Home Assistant's proxy asks for them.
            ingress = {"X-Ingress-Path": "/api/hassio_ingress/abc123",
                       "X-Remote-User-Id": "u1", "X-Remote-User-Name": "Li Ming"}  # fmt: skip
            page = urllib.request.urlopen(
                urllib.request.Request(API + "/admin/", headers=ingress), timeout=30
            )
            assert page.status == 200 and "Front door" in page.read().decode()

            # A resident with consent and an enrolled face: the camera lets her in.
            person = _api("POST", "/api/people", token, {"name": "Lin Xiao"})
            notice = _api("GET", "/api/notice", token)["version"]
            consent = {"agree": True, "notice_version": notice, "signer": "Lin Xiao",
                       "method": "signed_name", "days": 30}  # fmt: skip
            _api("POST", f"/api/people/{person['id']}/consent", token, consent)
            photo = (tmp_path / "camera" / ENROL_PHOTO).read_bytes()
            _api("POST", f"/api/people/{person['id']}/faces", token, raw=photo)
            _wait(lambda: bool(lock.on(LOCK_TOPIC)), GRANT_S, "no unlock on the lock's topic",
                  log, addon)  # fmt: skip
            assert lock.on(LOCK_TOPIC)[0].payload == b"UNLOCK"
        finally:
            lock.close()
            os.killpg(addon.pid, signal.SIGTERM)
            try:
                addon.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(addon.pid, signal.SIGKILL)
                addon.wait(10)
            container.remove()
    assert oct((data / "facegate" / "engine.yaml").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("door", "named"),
    [
        ({"methods": ["face"]}, "doors.front_door.methods: R4"),
        ({"camera": "back_cam"}, "doors.front_door.camera"),
        ({"lock_command_topic": "locks/#"}, "doors.front_door.lock.command_topic"),
    ],
)
def test_bad_options_stop_the_add_on_naming_the_option(
    image: float, tmp_path: Path, supervisor: FakeSupervisor, door: dict[str, Any], named: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "options.json").write_text(json.dumps(_options("rtsp://127.0.0.1:1/x", **door)))
    container = Container()
    try:
        env = {"SUPERVISOR_TOKEN": TOKEN, "FACEGATE_SUPERVISOR_URL": supervisor.url}
        done = subprocess.run(
            container.command(
                ["/opt/venv/bin/facegate", "addon", "--data", "/data"],
                volumes=[f"{data}:/data"],
                env=env,
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        container.remove()
    assert done.returncode == 2, done.stderr
    assert named in done.stderr
    assert not (data / "facegate" / "engine.yaml").exists()
    assert not any(c[1] == "/discovery" for c in supervisor.calls)


def test_the_image_is_labelled_for_home_assistant_and_holds_no_build_tools(image: float) -> None:
    found = labels()
    assert found["io.hass.type"] == "addon" and found["io.hass.name"] == "facegate"
    assert found["io.hass.arch"] in ("amd64", "aarch64") and found["io.hass.version"]
    container = Container()
    try:
        look = "command -v npm || echo no-npm; id -u facegate; ls /opt/models | wc -l"
        done = subprocess.run(
            container.command(["sh", "-c", look]), capture_output=True, text=True, check=True
        )
    finally:
        container.remove()
    no_npm, uid, models = done.stdout.split()
    assert no_npm == "no-npm" and int(uid) > 0 and int(models) > 0
