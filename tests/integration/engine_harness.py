"""The real engine for the integration's tests: a mosquitto broker and `facegate run`, on loopback.

Home Assistant's test environments must not hold the vision stack, so the engine always runs as
its own process from the engine's virtual environment (`<repo>/.venv`, else /tmp/fgvenv, or
$FACEGATE_ENGINE_PYTHON). This module needs the standard library and pytest only.

Two ways to get one:
- In-process (Home Assistant 2025.4, or pytest run by hand): the session fixture `engine` starts
  mosquitto and the engine itself, in a temporary directory, and stops both at the end.
- Handed in (Home Assistant 2026.10): that release runs in a Debian chroot which sees the
  repository at the same path but neither the engine's venv nor the host's Python, so it cannot
  start the engine. `scripts/ha_test.sh` starts one on the host first
  (`python tests/integration/engine_harness.py serve --workdir DIR --env-file FILE`, with DIR
  inside the repository so the chroot sees the data directory) and passes FACEGATE_TEST_URL,
  FACEGATE_TEST_TOKEN, FACEGATE_TEST_DATA and FACEGATE_TEST_MQTT_PORT into the chroot; the
  fixture uses those whenever they are set. The chroot shares the host's network, so the
  engine's 127.0.0.1 is the tests' 127.0.0.1 (the only host pytest-socket lets them reach).

The engine's doors (`DOORS`): `front_door` (pin, card, tag; an MQTT lock on
`locks/front_door/set`), `back_door` (pin, tag; the Home Assistant lock `lock.back_door`,
which the integration unlocks after checking `sig`) and `side_door` (face, pin; the Home
Assistant lock `lock.side_door`; its camera `side_cam`). The camera is a looping RTSP stream on
loopback: `python engine_harness.py camera` (run from the engine's venv, on the host, like the
engine: it needs OpenCV, GStreamer and a face photo — from the shared test data in ../shared or
$FACEGATE_SHARED, else the demo's public-domain photograph — none of which Home Assistant's
environments can see) builds a clip of a blank door then a face (facegate.clip.build_clip) in
the work directory, serves it with facegate.simulated_camera.RtspServer and copies the
enrolment photo beside it, where `engine.enrol_face()` reads it. The work directory
is temporary (under .cache/ for ha_test.sh): no photo ever lands in the repository. Face
recognition is off at the side door between tests (`reset()`), so a camera that keeps seeing an
unknown face cannot add decisions to other tests; a test turns it on when it wants faces.

Everything talks to the engine with http.client: `engine.api("POST", "/api/people", {...})`
returns the decoded JSON or raises `EngineApiError` (status and message). Home Assistant's test
plugin blocks new sockets in tests (pytest-socket) and lets them connect to 127.0.0.1 only; the
harness makes its sockets from the socket class saved when this module was imported, before any
test disabled it, so its calls work in every test while the 127.0.0.1-only rule still applies to
them. Code under test still needs the `socket_enabled` fixture to reach the engine. The calls
block, so from inside Home Assistant's event loop use `await engine.async_api(...)`: Home
Assistant's tests refuse blocking I/O on the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
ENV_URL = "FACEGATE_TEST_URL"
ENV_TOKEN = "FACEGATE_TEST_TOKEN"
ENV_DATA = "FACEGATE_TEST_DATA"
ENV_MQTT_PORT = "FACEGATE_TEST_MQTT_PORT"
ENV_PYTHON = "FACEGATE_ENGINE_PYTHON"
FALLBACK_PYTHON = Path("/tmp/fgvenv/bin/python")
MOSQUITTO = "/usr/sbin/mosquitto"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
MQTT_PREFIX = "facegate"
ENV_SHARED = "FACEGATE_SHARED"
# The camera's clip shows this person's face (from the shared data, or the demo's photograph
# without it); the enrolment photo is another picture of the same face.
FACE_NAME = "Lin Xiao"
FACE_CLIP_PHOTO = Path("faces/enroll/barack_obama/obama2.jpg")
FACE_ENROL_PHOTO = Path("faces/enroll/barack_obama/obama.jpg")
ENROL_PHOTO = "enrol.jpg"  # in the work directory, beside data/
CAMERA_URL_FILE = "camera.url"
BROKER_CONTROL = "broker.wanted"  # in the work directory: `down` or `up` (see Broker)

# Taken before pytest-socket replaces socket.socket for each test (see the module's docstring).
_SOCKET = socket.socket

FRONT_DOOR_LOCK_TOPIC = "locks/front_door/set"
DOORS: dict[str, dict[str, Any]] = {
    "front_door": {
        "name": "Front door",
        "methods": ["pin", "card", "tag"],
        "lock": {"command_topic": FRONT_DOOR_LOCK_TOPIC, "payload_unlock": "UNLOCK"},
    },
    "back_door": {
        "name": "Back door",
        "methods": ["pin", "tag"],
        "lock": {"entity_id": "lock.back_door"},
    },
    "side_door": {
        "name": "Side door",
        "camera": "side_cam",
        "methods": ["face", "pin"],
        "lock": {"entity_id": "lock.side_door"},
        # The harness camera plays a photo of a resident, so that Home Assistant sees a grant;
        # the engine's own tests cover liveness.
        "liveness": "off",
    },
}
FACE_DOOR = "side_door"


class EngineApiError(Exception):
    """A 4xx/5xx from the engine: `status` and the engine's own `message`."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.message = message


def api(
    url: str,
    token: str,
    method: str,
    path: str,
    json_body: Any = None,
    *,
    timeout: float = 10.0,
    raw: tuple[bytes, str] | None = None,
) -> Any:
    """One API call; the decoded JSON answer, or EngineApiError for a 4xx/5xx. `raw` sends
    bytes with their content type instead of a JSON body."""
    data = None if json_body is None else json.dumps(json_body).encode()
    headers = {"Authorization": f"Bearer {token}"}
    if raw is not None:
        data, headers["Content-Type"] = raw
    elif data is not None:
        headers["Content-Type"] = "application/json"
    host, _, port = url.removeprefix("http://").rpartition(":")
    connection = _Connection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status >= 400:
        try:
            message = str(json.loads(body)["error"])
        except (ValueError, KeyError, TypeError):
            message = body.decode(errors="replace")
        raise EngineApiError(method, path, response.status, message)
    return json.loads(body) if body else None


class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = _connect(self.host, self.port, self.timeout)


def _connect(host: str, port: int, timeout: float | None) -> socket.socket:
    sock = _SOCKET(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class EngineUnderTest:
    """A running engine: where it listens, its token and data directory, its broker's port,
    and what `GET /api/installation` says (the integration's unique id and event key)."""

    url: str
    token: str
    data_dir: Path
    mqtt_port: int
    installation_id: str
    event_key: str  # hex, as the API gives it; bytes.fromhex() for hmac
    broker: Broker | None = None  # started here; None when handed in (see Broker)

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def api(self, method: str, path: str, json_body: Any = None) -> Any:
        return api(self.url, self.token, method, path, json_body)

    async def async_api(self, method: str, path: str, json_body: Any = None) -> Any:
        return await asyncio.to_thread(api, self.url, self.token, method, path, json_body)

    def set_broker(self, running: bool, timeout: float = 10.0) -> None:
        """Stops the engine's mosquitto or starts it again on its port; returns once done."""
        if self.broker is not None:
            self.broker.start() if running else self.broker.stop()
        else:
            control = self.data_dir.parent / BROKER_CONTROL
            partial = control.with_name(control.name + ".part")
            partial.write_text("up\n" if running else "down\n")
            partial.replace(control)
        deadline = time.monotonic() + timeout
        while _port_accepts(self.mqtt_port) != running:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"engine harness: the broker did not {'start' if running else 'stop'}"
                )
            time.sleep(0.05)

    async def async_set_broker(self, running: bool) -> None:
        await asyncio.to_thread(self.set_broker, running)

    def notice_version(self) -> str:
        return str(self.api("GET", "/api/notice")["version"])

    def create_person(
        self,
        name: str,
        *,
        consent: bool = False,
        pin: str | None = None,
        card: str | None = None,
        tag: str | None = None,
        days: int = 365,
    ) -> dict[str, Any]:
        """A resident, optionally with live consent (signed by themselves) and credentials;
        returns the person as `GET /api/people/{id}` shows them."""
        person_id = self.api("POST", "/api/people", {"name": name})["id"]
        if consent:
            self.api(
                "POST",
                f"/api/people/{person_id}/consent",
                {
                    "agree": True,
                    "notice_version": self.notice_version(),
                    "signer": name,
                    "method": "signed_name",
                    "days": days,
                },
            )
        for kind, value in (("pin", pin), ("card", card), ("tag", tag)):
            if value is not None:
                body = {"kind": kind, "value": value, "label": f"test {kind}"}
                self.api("POST", f"/api/people/{person_id}/credentials", body)
        return dict(self.api("GET", f"/api/people/{person_id}"))

    def enrol_face(self, person_id: str) -> dict[str, Any]:
        """Enrols the photo of the face the side door's camera shows (`FACE_NAME`), uploaded as
        `POST /api/people/{id}/faces`; the person needs live consent. The enrolment answer."""
        photo = (self.data_dir.parent / ENROL_PHOTO).read_bytes()
        path = f"/api/people/{person_id}/faces"
        return dict(
            api(self.url, self.token, "POST", path, timeout=30.0, raw=(photo, "image/jpeg"))
        )

    def set_method(self, door: str, method: str, enabled: bool) -> None:
        self.api("POST", f"/api/doors/{door}/methods", {"method": method, "enabled": enabled})

    def present(self, door: str, kind: str, value: str) -> dict[str, Any]:
        """A PIN, card or tag at a door: the signed access event the engine decided."""
        body = {"door": door, "kind": kind, "value": value}
        return dict(self.api("POST", "/api/access/credential", body))

    def reset(self) -> None:
        """Everyone erased and every configured method enabled again, except face recognition
        at the side door, which is off until a test turns it on (see the module's docstring).
        (Credential lockouts after wrong codes last their time: use fresh codes per test.)
        The broker runs again if a test stopped it."""
        self.set_broker(True)
        disable_faces(self.url, self.token)
        for person in self.api("GET", "/api/people")["people"]:
            self.api("DELETE", f"/api/people/{person['id']}")
        for door in self.api("GET", "/api/doors")["doors"]:
            for method in sorted(set(door["methods"]) - set(door["enabled"])):
                if (door["id"], method) != (FACE_DOOR, "face"):
                    self.set_method(door["id"], method, True)


def disable_faces(url: str, token: str) -> None:
    body = {"method": "face", "enabled": False}
    api(url, token, "POST", f"/api/doors/{FACE_DOOR}/methods", body)


def wait_for_api(url: str, token: str, timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
    """Polls `GET /api/installation` until the engine answers; its answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return dict(api(url, token, "GET", "/api/installation", timeout=2.0))
        except (OSError, EngineApiError) as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the engine at {url} did not answer: {error}") from error
        time.sleep(0.1)


def _describe(url: str, token: str, data_dir: Path, mqtt_port: int) -> EngineUnderTest:
    info = wait_for_api(url, token)
    return EngineUnderTest(
        url=url,
        token=token,
        data_dir=data_dir,
        mqtt_port=mqtt_port,
        installation_id=str(info["installation_id"]),
        event_key=str(info["event_key"]),
    )


def from_environment(environ: Mapping[str, str] = os.environ) -> EngineUnderTest | None:
    """The engine scripts/ha_test.sh started, when it handed one in; None otherwise."""
    names = (ENV_URL, ENV_TOKEN, ENV_DATA, ENV_MQTT_PORT)
    given = [name for name in names if environ.get(name)]
    if not given:
        return None
    if len(given) < len(names):
        missing = ", ".join(name for name in names if name not in given)
        raise RuntimeError(f"engine harness: {', '.join(given)} set but not {missing}")
    return _describe(
        environ[ENV_URL], environ[ENV_TOKEN], Path(environ[ENV_DATA]), int(environ[ENV_MQTT_PORT])
    )


def environment(engine: EngineUnderTest) -> dict[str, str]:
    """The variables that hand `engine` to a test run that cannot start its own."""
    return {
        ENV_URL: engine.url,
        ENV_TOKEN: engine.token,
        ENV_DATA: str(engine.data_dir),
        ENV_MQTT_PORT: str(engine.mqtt_port),
    }


def engine_python() -> Path:
    configured = os.environ.get(ENV_PYTHON)
    candidates = [Path(configured)] if configured else [REPO / ".venv/bin/python", FALLBACK_PYTHON]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(
        "engine harness: no engine Python at "
        + " or ".join(str(c) for c in candidates)
        + ": run `bash scripts/setup.sh`. Inside the Home Assistant 2026 chroot the engine "
        "cannot start: run the tests through `bash scripts/ha_test.sh`, which starts it outside"
    )


def free_port() -> int:
    with _SOCKET(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _port_accepts(port: int) -> bool:
    try:
        _connect(LOOPBACK, port, 0.2).close()
    except OSError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Broker:
    """The engine's mosquitto, which a test may stop and start again on the same port (the
    broker going away is a failure Home Assistant must report). In a handed-in engine the test
    cannot reach this object: it writes `down` or `up` to BROKER_CONTROL in the work directory,
    and the process serving the engine follows it (`follow`)."""

    def __init__(self, workdir: Path) -> None:
        binary = MOSQUITTO if Path(MOSQUITTO).is_file() else shutil.which("mosquitto")
        if binary is None:
            raise RuntimeError("engine harness: mosquitto is not installed (bash scripts/setup.sh)")
        self.port = free_port()
        self._binary = binary
        self._conf, self._log = workdir / "mosquitto.conf", workdir / "mosquitto.log"
        self._control = workdir / BROKER_CONTROL
        self._conf.write_text(
            f"listener {self.port} {LOOPBACK}\nallow_anonymous true\npersistence false\n"
            f"log_dest file {self._log}\n"
            # As root, mosquitto would switch to its own user and lose access to the log file.
            "user root\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self._process is not None:
            return
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self._conf)], stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not _port_accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"engine harness: mosquitto did not start\n{_tail(self._log)}")
            time.sleep(0.02)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _stop(process)

    def follow(self) -> None:
        """Does what the control file asks (see the class's docstring)."""
        wanted = self._control.read_text().strip() if self._control.is_file() else "up"
        self.stop() if wanted == "down" else self.start()


@contextlib.contextmanager
def _mosquitto(workdir: Path) -> Iterator[Broker]:
    broker = Broker(workdir)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def find_shared(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The project's shared test data: $FACEGATE_SHARED (empty: none), else `../shared` beside
    the checkout; None when it is not there (a newcomer's machine)."""
    configured = environ.get(ENV_SHARED)
    if configured == "":
        return None
    shared = Path(configured) if configured else REPO.parent / "shared"
    for candidate in (shared / "data", shared):
        if (candidate / FACE_ENROL_PHOTO).is_file():
            return candidate
    return None


@contextlib.contextmanager
def _camera(workdir: Path, python: Path) -> Iterator[str]:
    """`engine_harness.py camera` from the engine's venv: the side door's RTSP URL."""
    url_file = workdir / CAMERA_URL_FILE
    url_file.unlink(missing_ok=True)
    log = workdir / "camera.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(python), str(Path(__file__).resolve()), "camera", "--workdir", str(workdir)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not url_file.is_file():
            code = process.poll()
            if code is not None or time.monotonic() > deadline:
                state = "timed out" if code is None else f"exited with {code}"
                raise RuntimeError(f"engine harness: the camera {state}\n{_tail(log)}")
            time.sleep(0.05)
        yield url_file.read_text().strip()
    finally:
        _stop(process)


def _run_camera(workdir: Path) -> int:
    """In the engine's venv: builds the clip and serves it on loopback until SIGTERM/SIGINT or
    until the process that started it is gone; writes its URL to `camera.url` when ready."""
    from facegate.clip import build_clip  # the engine's venv only
    from facegate.simulated_camera import RtspServer

    parent = os.getppid()
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workdir.mkdir(parents=True, exist_ok=True)
    shared = find_shared()
    if shared is not None:
        shutil.copyfile(shared / FACE_ENROL_PHOTO, workdir / ENROL_PHOTO)
        clip_photo = shared / FACE_CLIP_PHOTO
    else:
        # No shared data: scikit-image's public-domain astronaut photograph in the clip, and
        # a tighter, tilted, darker crop of it, unlike any frame, to enrol.
        import cv2  # the engine's venv only
        from skimage import data

        photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
        clip_photo = workdir / "clip_face.png"
        cv2.imwrite(str(clip_photo), photo)
        crop = photo[20:300, 110:330]
        turn = cv2.getRotationMatrix2D((crop.shape[1] / 2, crop.shape[0] / 2), 8.0, 1.3)
        tilted = cv2.warpAffine(crop, turn, crop.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
        cv2.imwrite(str(workdir / ENROL_PHOTO), cv2.convertScaleAbs(tilted, alpha=0.8, beta=-10))
    clip = workdir / f"side_cam-{'shared' if shared is not None else 'demo'}.mp4"
    if not clip.is_file():
        # A door with nobody in front of it, then the face for a while; the server loops it.
        build_clip([clip_photo], clip, seconds=6.0, fps=10, blank_seconds=2.0)
    with RtspServer(clip, loop=True, mount="/side_cam") as server:
        partial = workdir / (CAMERA_URL_FILE + ".part")
        partial.write_text(server.url + "\n")
        partial.replace(workdir / CAMERA_URL_FILE)
        print(f"engine harness: camera at {server.url}", flush=True)
        while not stopping and os.getppid() == parent and server.running:
            time.sleep(0.2)
    return 0


def write_config(workdir: Path, mqtt_port: int, api_port: int, camera_url: str) -> Path:
    """The engine's configuration (JSON is YAML too: Home Assistant's venv needs no yaml)."""
    config = {
        "data_dir": str(workdir / "data"),
        "mqtt": {"host": LOOPBACK, "port": mqtt_port, "prefix": MQTT_PREFIX},
        "api": {"host": LOOPBACK, "port": api_port},
        # Its own free port: two harnesses at once (two suites) must not meet on the default.
        "residents": {"host": LOOPBACK, "port": free_port()},
        "cameras": {"side_cam": {"source": camera_url}},
        "doors": DOORS,
    }
    path = workdir / "facegate.yaml"
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


@contextlib.contextmanager
def start_engine(workdir: Path) -> Iterator[EngineUnderTest]:
    """mosquitto and `facegate run` in `workdir` (config, data, logs), stopped on exit."""
    python = engine_python()
    workdir.mkdir(parents=True, exist_ok=True)
    with _mosquitto(workdir) as broker, _camera(workdir, python) as camera_url:
        api_port = free_port()
        config = write_config(workdir, broker.port, api_port, camera_url)
        log = workdir / "engine.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(python), "-m", "facegate.cli", "run", "--config", str(config)],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            data_dir = workdir / "data"
            token_file = data_dir / "api.token"
            url = f"http://{LOOPBACK}:{api_port}"
            deadline = time.monotonic() + START_TIMEOUT_S
            while not (token_file.exists() and _port_accepts(api_port)):
                code = process.poll()
                if code is not None or time.monotonic() > deadline:
                    state = "timed out" if code is None else f"exited with {code}"
                    raise RuntimeError(f"engine harness: the engine {state}\n{_tail(log)}")
                time.sleep(0.05)
            token = token_file.read_text().strip()
            started = replace(_describe(url, token, data_dir, broker.port), broker=broker)
            disable_faces(url, token)  # until a test wants faces (see the module's docstring)
            yield started
        finally:
            _stop(process)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineUnderTest]:
    """The real engine for this test session: handed in by scripts/ha_test.sh, or started here."""
    handed_in = from_environment()
    if handed_in is not None:
        yield handed_in
        return
    with start_engine(tmp_path_factory.mktemp("engine")) as started:
        yield started


def _serve(workdir: Path, env_file: Path) -> int:
    """Runs the engine until SIGTERM/SIGINT or until the process that started it is gone."""
    parent = os.getppid()
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with start_engine(workdir) as started:
        assert started.broker is not None
        lines = [f"{name}={value}" for name, value in environment(started).items()]
        # Written under another name and renamed: the reader never sees half a file.
        partial = env_file.with_name(env_file.name + ".part")
        partial.write_text("\n".join(lines) + "\n")
        partial.replace(env_file)
        print(f"engine harness: engine at {started.url}, data in {started.data_dir}", flush=True)
        while not stopping and os.getppid() == parent:
            started.broker.follow()
            time.sleep(0.1)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the engine until stopped, for ha_test.sh")
    serve.add_argument("--workdir", type=Path, required=True, help="config, data and logs")
    serve.add_argument("--env-file", type=Path, required=True, help="FACEGATE_TEST_* lines")
    camera = commands.add_parser("camera", help="serve the side door's camera, for start_engine")
    camera.add_argument("--workdir", type=Path, required=True, help="clip, photo and URL file")
    args = parser.parse_args(argv)
    if args.command == "camera":
        return _run_camera(args.workdir.resolve())
    return _serve(args.workdir.resolve(), args.env_file.resolve())


if __name__ == "__main__":
    sys.exit(main())
