"""pytest plugin: the API in front of a started engine (a real mosquitto, the real server).

Load it with ``pytest_plugins = ["conftest_mqtt", "conftest_api"]``. ``make_env(camera_url)``
starts an engine with a keypad door ("lobby") and, given a camera URL, a face door; ``env`` is
one without a camera. ``Client`` answers must be JSON and never a 5xx unless a test says so.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest_mqtt import Mosquitto
from facegate.config import Config, parse
from facegate.engine import Engine
from facegate.mqtt import MqttLink
from facegate.web.server import ApiServer


@dataclass
class Reply:
    status: int
    data: Any
    headers: http.client.HTTPMessage

    @property
    def error(self) -> str:
        assert isinstance(self.data, dict) and isinstance(self.data.get("error"), str), self.data
        return str(self.data["error"])


class Client:
    """A plain HTTP client; every answer must be JSON and never a 5xx unless a test says so."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        allow_5xx: bool = False,
    ) -> Reply:
        sent = dict(headers or {})
        if "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token if token is None else token}"
        if not sent["Authorization"]:
            del sent["Authorization"]
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        if content_type is not None:
            sent["Content-Type"] = content_type
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        assert response.headers.get_content_type() == "application/json", data[:200]
        reply = Reply(response.status, json.loads(data) if data else None, response.headers)
        if not allow_5xx:
            assert reply.status < 500, (method, path, reply.status, reply.data)
        if reply.status >= 400:
            assert reply.error  # {"error": "<what is wrong>"}
        return reply

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


def _config(
    data_dir: Path,
    models_dir: Path,
    mqtt_port: int,
    camera_url: str | None = None,
    *,
    phone: bool = False,
    ingress_proxy: str | None = None,
    liveness: str = "off",
) -> Config:
    methods = ["pin", "card", "tag", *(["phone"] if phone else [])]
    doors: dict[str, Any] = {
        "lobby": {"methods": methods, "lock": {"command_topic": "test/lobby/set"}}
    }
    raw: dict[str, Any] = {
        "data_dir": str(data_dir),
        "models_dir": str(models_dir),
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port},
        "doors": doors,
    }
    if ingress_proxy is not None:
        raw["api"] = {"ingress_proxy": ingress_proxy}
    if camera_url is not None:
        raw["cameras"] = {"front_cam": {"source": camera_url, "detector": "short"}}
        doors["front_door"] = {
            "camera": "front_cam",
            "methods": ["face", "pin"],
            "lock": {"command_topic": "test/front/set"},
            # The camera plays a photo: liveness would (rightly) refuse it. test_liveness.py
            # covers liveness at the door and at enrolment.
            "liveness": liveness,
        }
    return parse(raw)


class Env:
    """A started engine with its MQTT link and the API server in front of it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.link = MqttLink(host=config.mqtt.host, port=config.mqtt.port, client_id="api-test")
        self.engine = Engine(config, self.link)
        self.link.start()
        assert self.link.wait_connected(5)
        self.engine.start()
        self.server = ApiServer(self.engine, "127.0.0.1", 0)
        self.server.start()
        self.api = Client(self.server.port, self.server.token)

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def notice(self) -> str:
        return self.engine.notice.version

    def person(self, name: str = "Li Wei", **fields: Any) -> str:
        reply = self.api.post("/api/people", {"name": name, **fields})
        assert reply.status == 201, reply.data
        return str(reply.data["id"])

    def consent(self, person_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "agree": True,
            "notice_version": self.notice,
            "signer": "Li Wei",
            "method": "signed_name",
            **fields,
        }
        reply = self.api.post(f"/api/people/{person_id}/consent", body)
        assert reply.status == 201, reply.data
        return dict(reply.data)

    def upload(self, person_id: str, photo: Path, content_type: str = "image/jpeg") -> Reply:
        return self.api.post(
            f"/api/people/{person_id}/faces", raw=photo.read_bytes(), content_type=content_type
        )

    def audit_kinds(self) -> list[str]:
        return [e.kind for e in self.engine.store.audit_entries(limit=100_000)]

    def stop(self) -> None:
        self.server.stop()
        self.engine.stop()
        self.link.stop()


@pytest.fixture
def make_env(
    tmp_path: Path, models_dir: Path, mosquitto: Mosquitto
) -> Iterator[Callable[..., Env]]:
    made: list[Env] = []

    def make(
        camera_url: str | None = None,
        *,
        phone: bool = False,
        ingress_proxy: str | None = None,
        liveness: str = "off",
    ) -> Env:
        """`phone`: the lobby opens by phone key too; `ingress_proxy`: the address whose
        ingress headers the administrator pages believe; `liveness`: the face door's."""
        config = _config(
            tmp_path / f"data{len(made)}",
            models_dir,
            mosquitto.port,
            camera_url,
            phone=phone,
            ingress_proxy=ingress_proxy,
            liveness=liveness,
        )
        env = Env(config)
        made.append(env)
        return env

    yield make
    for env in made:
        env.stop()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()


class Stream:
    """One WebSocket client of /api/events, on its own thread and loop, recording messages."""

    def __init__(self, url: str, token: str) -> None:
        self._messages: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._listen(url, token),))
        self._thread.start()
        assert self.wait_for(lambda m: m["change"] == "snapshot"), "no snapshot"

    async def _listen(self, url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.ws_connect(f"{url}/api/events") as ws,
        ):
            while not self._stop.is_set():
                try:
                    message = await ws.receive_json(timeout=0.2)
                except TimeoutError:
                    continue
                with self._cond:
                    self._messages.append(message)
                    self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first message so far that `predicate` accepts, waiting up to `timeout` s."""

        def found() -> dict[str, Any] | None:
            return next((m for m in self._messages if predicate(m)), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None, timeout)
            message = found()
        assert message is not None, f"no such message within {timeout} s: {self._messages}"
        return message

    def messages(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._messages)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
