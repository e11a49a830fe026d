"""pytest plugin: a fake Home Assistant Supervisor on loopback, for the add-on's tests. It
answers the two calls the add-on makes — `GET /services/mqtt` (the broker the Mosquitto add-on
offers) and `POST /discovery` — records every call, and refuses any token but the add-on's,
as the Supervisor does. Fixture `supervisor`: a running one, stopped after the test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TOKEN = "supervisor-token-of-the-add-on"
BROKER = {"host": "core-mosquitto", "port": 1883, "username": "addons", "password": "b-r-o-k-e-r"}


@dataclass
class FakeSupervisor:
    url: str
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    mqtt: dict[str, Any] | None = field(default_factory=lambda: dict(BROKER))


@pytest.fixture
def supervisor() -> Iterator[FakeSupervisor]:
    """The two endpoints the add-on uses, refusing any other token, as the Supervisor does."""
    fake = FakeSupervisor(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.calls.append((method, self.path, body))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, {"result": "error", "message": "unauthorized"})
            elif (method, self.path) == ("GET", "/services/mqtt") and fake.mqtt is not None:
                self._answer(200, {"result": "ok", "data": fake.mqtt})
            elif (method, self.path) == ("POST", "/discovery"):
                self._answer(200, {"result": "ok", "data": {"uuid": "d1"}})
            else:
                self._answer(400, {"result": "error", "message": "service not available"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
