"""The engine of the integration's tests, as the tests reach it: its HTTP API on loopback,
the doors it is configured with, and `EngineUnderTest`, a running engine (started by
engine_harness.py, or handed in by scripts/ha_test.sh). Standard library only.

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

import asyncio
import http.client
import json
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

LOOPBACK = "127.0.0.1"
ENV_URL = "FACEGATE_TEST_URL"
ENV_TOKEN = "FACEGATE_TEST_TOKEN"
ENV_DATA = "FACEGATE_TEST_DATA"
ENV_MQTT_PORT = "FACEGATE_TEST_MQTT_PORT"
START_TIMEOUT_S = 60.0
ENROL_PHOTO = "enrol.jpg"  # in the work directory, beside data/
# In the work directory: `down` or `up` (see engine_harness.Broker).
BROKER_CONTROL = "broker.wanted"

# The side door's camera shows this person's face; the enrolment photo is another picture of it.
FACE_NAME = "Lin Xiao"

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
        # Off, so that Home Assistant has a face door without liveness to report (test_repairs);
        # the engine's own tests, and the add-on image's, cover liveness at the door.
        "liveness": "off",
    },
}
FACE_DOOR = "side_door"


class Restartable(Protocol):
    """The engine's broker, when the harness started it here (engine_harness.Broker)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


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
    broker: Restartable | None = None  # started here; None when handed in (see Broker)

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
        while port_accepts(self.mqtt_port) != running:
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


def describe(url: str, token: str, data_dir: Path, mqtt_port: int) -> EngineUnderTest:
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
    return describe(
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


def free_port() -> int:
    with _SOCKET(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def port_accepts(port: int) -> bool:
    try:
        _connect(LOOPBACK, port, 0.2).close()
    except OSError:
        return False
    return True
