"""A real Home Assistant for the frontend tests: core 2025.4.1 with its own frontend package
(`.venvs/ha-2025.4`, built by scripts/ha_env.sh), started as its own process on loopback with a
trimmed configuration (no `default_config`: nothing in it may reach the internet), onboarded
through its API as a new owner would be, and the facegate integration added through its config
flow's API. Home Assistant's environment never holds the engine's vision stack: the engine runs
beside it from the engine's venv (tests/integration/engine_harness.py).

The standard library for REST, aiohttp for the WebSocket API; the browser side is Playwright
(conftest_browser).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[2]
HA_VENV = REPO / ".venvs" / "ha-2025.4"
HA_PYTHON = HA_VENV / "bin" / "python"
START_TIMEOUT_S = 180.0
OWNER = {"name": "Li Ming", "username": "owner", "password": "correct horse battery staple"}
# What the frontend and the integration need, and nothing that calls out (default_config would
# start cloud, updates, analytics, brands, zeroconf ...).
COMPONENTS = (
    "frontend", "config", "api", "person", "tag", "recorder", "history", "logbook",
    "diagnostics", "search", "system_health", "repairs",
)  # fmt: skip


def missing() -> str | None:
    """Why this Home Assistant cannot run here, or None."""
    if not HA_PYTHON.is_file():
        return f"no Home Assistant 2025.4 environment at {HA_VENV}: run bash scripts/ha_env.sh"
    frontend = list(HA_VENV.glob("lib/python*/site-packages/hass_frontend/index.html"))
    if not frontend:
        return "the home-assistant-frontend package is not installed: run bash scripts/ha_env.sh"
    return None


class HomeAssistantCore:
    """`start()`, `onboard()`, then REST calls as the owner; `stop()` at the end."""

    def __init__(self, config_dir: Path, port: int, language: str = "en") -> None:
        self.config_dir = config_dir
        self.url = f"http://127.0.0.1:{port}"
        self.client_id = self.url + "/"
        self.tokens: dict[str, Any] = {}
        self._process: subprocess.Popen[bytes] | None = None
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "custom_components").symlink_to(REPO / "custom_components")
        lines = [
            "homeassistant:",
            "  name: Home",
            "  time_zone: Asia/Shanghai",
            "  country: CN",
            f"  language: {language}",
            "  unit_system: metric",
            "  latitude: 31.23",
            "  longitude: 121.47",
            "  elevation: 4",
            "http:",
            "  server_host: 127.0.0.1",
            f"  server_port: {port}",
            *(f"{component}:" for component in COMPONENTS),
        ]
        (config_dir / "configuration.yaml").write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        log = (self.config_dir / "core.log").open("wb")
        self._process = subprocess.Popen(
            [str(HA_PYTHON), "-m", "homeassistant", "--config", str(self.config_dir), "--skip-pip"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: stopping it never signals the test runner.
            start_new_session=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                self.request("GET", "/api/onboarding", auth=False)
                return
            except (OSError, urllib.error.HTTPError):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Home Assistant did not start:\n{self.log_tail()}"
                    ) from None
            time.sleep(0.5)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        log = self.config_dir / "core.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: bool = True,
        form: dict[str, str] | None = None,
    ) -> Any:
        headers: dict[str, str] = {}
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.tokens['access_token']}"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            error.msg = f"{error.msg}: {error.read().decode(errors='replace')[:500]}"
            raise
        return json.loads(text) if text else None

    def onboard(self, language: str = "en") -> None:
        """The owner's account, the location, analytics declined: the first-run wizard done
        through the API the wizard itself calls."""
        created = self.request(
            "POST",
            "/api/onboarding/users",
            {"client_id": self.client_id, "language": language, **OWNER},
            auth=False,
        )
        self.tokens = self.request(
            "POST",
            "/auth/token",
            auth=False,
            form={
                "grant_type": "authorization_code",
                "code": created["auth_code"],
                "client_id": self.client_id,
            },
        )
        self.request("POST", "/api/onboarding/core_config", {})
        self.request("POST", "/api/onboarding/analytics", {})
        self.request(
            "POST",
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": self.client_id + "?auth_callback=1"},
        )
        # The wizard adds a few integrations of its own (weather, text-to-speech, a shopping
        # list); those that would call the internet fail here. Nothing of them is wanted.
        for entry in self.request("GET", "/api/config/config_entries/entry"):
            self.request("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")

    def add_integration(self, domain: str, *steps: dict[str, Any]) -> dict[str, Any]:
        """A config flow run through its API, one answer per step: its final result."""
        result: dict[str, Any] = self.request(
            "POST", "/api/config/config_entries/flow", {"handler": domain}
        )
        for answer in steps:
            flow = f"/api/config/config_entries/flow/{result['flow_id']}"
            result = self.request("POST", flow, answer)
        return result

    def call(self, domain: str, service: str, data: dict[str, Any]) -> Any:
        path = f"/api/services/{domain}/{service}?return_response"
        return self.request("POST", path, data)

    def state(self, entity_id: str) -> dict[str, Any] | None:
        try:
            return dict(self.request("GET", f"/api/states/{entity_id}"))
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def wait_for_state(self, entity_id: str, wanted: str | None, timeout: float = 30.0) -> None:
        """Until the entity exists (and, with `wanted`, has that state)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(entity_id)
            if state is not None and (wanted is None or state["state"] == wanted):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{entity_id} is {state} after {timeout} s")
            time.sleep(0.2)

    def ws_command(self, command: dict[str, Any]) -> Any:
        """One command over Home Assistant's WebSocket API (what the frontend itself sends,
        e.g. `config/core/update`); its result, or RuntimeError with Home Assistant's error."""

        async def run() -> Any:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(self.url + "/api/websocket") as ws,
            ):
                await ws.receive_json()  # auth_required
                await ws.send_json({"type": "auth", "access_token": self.tokens["access_token"]})
                if (await ws.receive_json())["type"] != "auth_ok":
                    raise RuntimeError("Home Assistant refused the owner's token")
                await ws.send_json({"id": 1, **command})
                answer = await ws.receive_json()
            if not answer.get("success"):
                raise RuntimeError(f"{command['type']}: {answer.get('error')}")
            return answer.get("result")

        # On its own thread: Playwright's sync API keeps an event loop running on this one.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, run()).result()

    def browser_storage(self, language: str) -> str:
        """A script for the browser's first page: the owner's tokens where the frontend keeps
        them, and the language it shows, so that it opens logged in."""
        tokens = {
            **self.tokens,
            "hassUrl": self.url,
            "clientId": self.client_id,
            "expires": int(time.time() * 1000) + int(self.tokens["expires_in"]) * 1000,
        }
        return (
            f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(tokens))});"
            f"localStorage.setItem('selectedLanguage', {json.dumps(json.dumps(language))});"
        )
