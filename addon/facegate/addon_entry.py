"""`facegate addon`: how the add-on starts, in tested Python instead of a shell script.

1. Reads the options Home Assistant wrote (`<data>/options.json`) and turns them into the
   engine's configuration (addon_options.py), checked as any configuration is: a bad option
   stops the add-on naming the option, before anything is written.
2. The broker: the one the options name, else the one the Supervisor offers
   (`GET http://supervisor/services/mqtt` with `SUPERVISOR_TOKEN`). The password is never
   logged, never on a command line; the written configuration is readable by the engine alone.
3. Announces the engine to Home Assistant (`POST http://supervisor/discovery`) once its API
   answers, from a detached helper process, so that the integration is offered to the user.
4. Gives up root for the image's user `facegate`, which owns the engine's data, and `exec`s
   the engine: s6 supervises the engine itself, and the engine's orderly stop answers s6.

Outside the Supervisor (the image's own tests, or someone running the image by hand)
FACEGATE_SUPERVISOR_URL names another Supervisor and FACEGATE_ADDON_LOCAL=1 keeps every
listener on loopback, with loopback as the ingress proxy.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from facegate.addon_options import ADDON_DATA_DIR, write_engine_config
from facegate.config import DEFAULT_API_PORT, MqttConfig, explain_config
from facegate.errors import ConfigError, FacegateError

log = logging.getLogger("facegate.addon")

SUPERVISOR_URL = "http://supervisor"
SUPERVISOR_URL_ENV = "FACEGATE_SUPERVISOR_URL"
SUPERVISOR_TOKEN_ENV = "SUPERVISOR_TOKEN"  # noqa: S105 - the variable's name, not a secret
LOCAL_ENV = "FACEGATE_ADDON_LOCAL"
DISCOVERY_SERVICE = "facegate"
ENGINE_USER = "facegate"  # the image's own user (Dockerfile)
API_WAIT_S = 600.0  # the first start fetches nothing, but a slow SD card takes its time
REQUEST_TIMEOUT_S = 10.0
# What the options (as `mqtt_<key>`) and the Supervisor's MQTT service say of the broker.
BROKER_KEYS = ("host", "port", "username", "password")


def _fetch(
    url: str, headers: Mapping[str, str], data: bytes | None = None, method: str = "GET"
) -> bytes:
    """One plain-HTTP request (the Supervisor, or the engine on loopback): the body."""
    if not url.startswith("http://"):
        raise ValueError(f"not an http:// URL: {url}")
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers))  # noqa: S310
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
        return bytes(response.read())


class Supervisor:
    """The Supervisor's REST API, as an add-on sees it (its token in the environment)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._token = token

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Supervisor | None:
        token = environ.get(SUPERVISOR_TOKEN_ENV, "")
        if not token:
            return None
        return cls(environ.get(SUPERVISOR_URL_ENV) or SUPERVISOR_URL, token)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        what = f"{method} {path}"
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        data = None if body is None else json.dumps(body).encode()
        try:
            answer = json.loads(_fetch(self.url + path, headers, data, method) or b"{}")
        except urllib.error.HTTPError as error:
            raise FacegateError(f"the Supervisor answered {what} with {error.code}") from None
        except (OSError, ValueError) as error:
            raise FacegateError(f"the Supervisor cannot be reached ({what}): {error}") from None
        if not isinstance(answer, dict) or answer.get("result") != "ok":
            raise FacegateError(f"the Supervisor refused {what}: {answer!r:.200}")
        return answer.get("data")

    def broker(self) -> MqttConfig:
        """The MQTT service another add-on (Mosquitto) provides."""
        data = self._call("GET", "/services/mqtt")
        if not isinstance(data, dict) or not data.get("host"):
            raise FacegateError("the Supervisor offers no MQTT broker")
        return broker_from(data, "the Supervisor's MQTT service")

    def announce(self, config: Mapping[str, Any]) -> str:
        """Discovery for the integration (its `async_step_hassio`); the entry's uuid."""
        data = self._call("POST", "/discovery", {"service": DISCOVERY_SERVICE, "config": config})
        return str((data or {}).get("uuid", ""))


def broker_from(settings: Mapping[str, Any], source: str) -> MqttConfig:
    """The broker from `host`, `port`, `username` and `password` in `settings`; the ones not
    given (or empty) take the engine's defaults, and a bad one stops the add-on naming it."""
    given = {key: settings[key] for key in BROKER_KEYS if settings.get(key) not in (None, "")}
    try:
        return MqttConfig(**given)
    except ValidationError as error:
        raise ConfigError(f"the MQTT broker from {source}: {explain_config(error)}") from None


def choose_broker(options: Mapping[str, Any], supervisor: Supervisor | None) -> MqttConfig:
    """The broker the options name, else the Supervisor's; ConfigError when there is none."""
    if options.get("mqtt_host"):
        own = {key: options.get(f"mqtt_{key}") for key in BROKER_KEYS}
        return broker_from(own, "the add-on's options")
    if supervisor is None:
        raise ConfigError("no MQTT broker: set mqtt_host, or run under the Supervisor")
    try:
        return supervisor.broker()
    except ConfigError:
        raise  # the Supervisor's broker is there but unusable: its own message says why
    except FacegateError as error:
        raise ConfigError(
            f"no MQTT broker: {error}; install the Mosquitto broker add-on or set mqtt_host"
        ) from None


def read_options(path: Path) -> dict[str, Any]:
    try:
        options = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"add-on options {path} cannot be read: {error}") from None
    if not isinstance(options, dict):
        raise ConfigError(f"add-on options {path}: must be a mapping of settings")
    return options


def wait_for_api(port: int, token_file: Path, timeout: float) -> str | None:
    """The engine's token once its API answers with it, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        token = token_file.read_text().strip() if token_file.is_file() else ""
        if token:
            url = f"http://127.0.0.1:{port}/api/installation"
            try:
                _fetch(url, {"Authorization": f"Bearer {token}"})
            except OSError:  # not listening yet (HTTPError is an OSError too)
                pass
            else:
                return token
        time.sleep(0.5)
    return None


def announce_when_ready(
    supervisor: Supervisor, data_dir: Path, parent: int, port: int = DEFAULT_API_PORT
) -> None:
    """In the detached helper: waits for the engine's API (or for the engine to be gone), then
    tells Home Assistant where it is. The token goes to the Supervisor, never to the log."""
    deadline = time.monotonic() + API_WAIT_S
    token = None
    while token is None and time.monotonic() < deadline and _alive(parent):
        token = wait_for_api(port, data_dir / "api.token", 5.0)
    if token is None:
        log.warning("discovery skipped: the engine's API never answered; add the integration")
        return
    try:
        supervisor.announce({"host": socket.gethostname(), "port": port, "token": token})
    except FacegateError as error:
        log.warning("discovery failed (%s): add the integration by hand, port %d", error, port)
        return
    log.info("announced to Home Assistant: it offers to set up the facegate integration")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, under another user
        pass
    return True


def _detach(work: Callable[[], None]) -> None:
    """Runs `work()` in a grandchild that init adopts (and reaps), so that this process can
    become the engine without a child it would never wait for."""
    child = os.fork()
    if child:
        os.waitpid(child, 0)
        return
    try:
        if os.fork() == 0:
            try:
                work()
            finally:
                os._exit(0)
    finally:
        os._exit(0)


def prepare(data: Path, environ: Mapping[str, str] = os.environ) -> tuple[Path, Supervisor | None]:
    """Steps 1 and 2: the engine's configuration written from the options, in the engine's
    own data directory (`<data>/facegate`); its path."""
    options = read_options(data / "options.json")
    supervisor = Supervisor.from_environment(environ)
    broker = choose_broker(options, supervisor)
    local = environ.get(LOCAL_ENV) == "1"
    engine_data = data / "facegate"
    engine_data.mkdir(mode=0o700, exist_ok=True)
    config = engine_data / "engine.yaml"
    write_engine_config(options, config, broker, data_dir=engine_data, local=local)
    who = broker.username or "anonymous"
    source = "the add-on's options" if options.get("mqtt_host") else "the Supervisor"
    log.info("MQTT broker %s:%d as %s, from %s", broker.host, broker.port, who, source)
    return config, supervisor


def drop_root(engine_data: Path, user: str = ENGINE_USER) -> str | None:
    """Started as root (s6 does): the engine's data becomes `user`'s and the process becomes
    `user`. Returns the user now running, or None where the base image has no such user."""
    if os.getuid() != 0:
        return None
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        log.warning("no user %r in this image: the engine runs as root", user)
        return None
    for path in (engine_data, *engine_data.rglob("*")):
        if path.stat().st_uid != account.pw_uid:
            os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    os.environ["HOME"] = str(engine_data)
    return user


def main(data: Path = Path(ADDON_DATA_DIR).parent) -> int:  # noqa: RET503 - it execs
    """`facegate addon`: prepares, announces in the background, and becomes the engine."""
    try:
        config, supervisor = prepare(data)
    except ConfigError as error:
        print(f"facegate add-on: {error}", file=sys.stderr)
        return 2
    drop_root(config.parent)
    if supervisor is not None:
        parent = os.getpid()
        _detach(lambda: announce_when_ready(supervisor, data / "facegate", parent))
    else:
        log.warning("no SUPERVISOR_TOKEN: not announced to Home Assistant")
    sys.stdout.flush()
    sys.stderr.flush()
    engine = [sys.executable, "-m", "facegate.cli", "run", "--config", str(config)]
    os.execv(sys.executable, engine)  # noqa: S606 - the engine itself, no shell
