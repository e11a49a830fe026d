"""The HTTP API against a real engine: the real ApiServer on a free loopback port, a real
mosquitto for the door's MQTT link, a real RTSP camera where a camera is needed, and real
enrolment photos. Tests are named after the rule they prove."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import re
import socket
import sqlite3
import stat
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest
from conftest_api import Env, Stream
from conftest_mqtt import Mosquitto, Subscriber, free_port
from facegate import __version__
from facegate.audit_records import entry_hash
from facegate.capture import CameraReader
from facegate.config import DEFAULT_MAX_FAILURES, parse
from facegate.errors import ConfigError, FacegateError, RuleError
from facegate.events import verify
from facegate.installation import load_or_create_installation_id
from facegate.simulated_camera import RtspServer
from facegate.web import create_app, load_or_create_token
from facegate.web.event_stream import Close, EventHub
from facegate.web.server import ApiServer
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

VALIDITY_FIELDS = ("valid_from", "valid_until", "max_uses", "uses", "schedule")

pytest_plugins = ["conftest_mqtt", "conftest_rtsp", "conftest_api"]

TEST_LIMIT_S = 90
PIN = "482916"
CARD = "04:A2:2B:19:7C:5D:80"


# Every file opened for writing while a test watches (R10): an audit hook sees the opens of
# every thread, including tempfile's O_TMPFILE spooling that leaves no name behind.
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class _Watch:
    writes: list[tuple[str, object, object]] | None = None


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if _Watch.writes is None or event != "open":
        return
    path, mode, flags = (*tuple(args), None, None, None)[:3]
    if isinstance(path, int):
        return  # wrapping a descriptor whose own open was already seen
    writing = isinstance(mode, str) and any(c in mode for c in "wax+")
    if isinstance(flags, int) and flags & _WRITE_FLAGS:
        writing = True
    if writing:
        _Watch.writes.append(
            (os.fsdecode(path) if isinstance(path, str | bytes) else str(path), mode, flags)
        )


sys.addaudithook(_audit_hook)


@pytest.fixture
def obama(faces: Path) -> Path:
    return faces / "enroll" / "barack_obama" / "obama.jpg"


def _multipart(field: str, filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    note = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nfront door\r\n'
    ).encode()
    body = note + head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# Auth and the API's own description -------------------------------------------------------


def test_api_token_is_generated_once_and_readable_by_the_service_alone(tmp_path: Path) -> None:
    token = load_or_create_token(tmp_path)
    path = tmp_path / "api.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(token) >= 32
    assert load_or_create_token(tmp_path) == token
    path.chmod(0o644)
    with pytest.raises(FacegateError, match="chmod 600"):
        load_or_create_token(tmp_path)


def test_requests_without_or_with_a_wrong_token_get_401(env: Env) -> None:
    api = env.api
    wrong = env.server.token[:-1] + ("A" if env.server.token[-1] != "A" else "B")
    for headers in (
        {"Authorization": ""},
        {"Authorization": f"Bearer {wrong}"},
        {"Authorization": f"Basic {env.server.token}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {env.server.token[:10]}"},
    ):
        for method, path in (("GET", "/api/health"), ("POST", "/api/people"), ("GET", "/nope")):
            reply = api.request(method, path, headers=headers)
            assert reply.status == 401, (headers, path)
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
            assert env.server.token not in json.dumps(reply.data)
    assert api.get("/api/people").data == {"people": []}  # nothing was created on the way
    assert api.get("/api/health").status == 200

    async def websocket_without_token() -> int:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            try:
                async with session.ws_connect(f"{env.server.url}/api/events"):
                    return 101
            except aiohttp.WSServerHandshakeError as error:
                return error.status

    assert asyncio.run(websocket_without_token()) == 401


def test_openapi_document_lists_every_route_the_app_has(env: Env) -> None:
    spec = env.api.get("/api/openapi.json").data
    assert spec["openapi"].startswith("3.1")
    assert env.server.app is not None
    routes = {
        (route.method, route.resource.canonical)
        for route in env.server.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    # Beside the JSON API, only the administrator pages (HTML; test_admin_pages.py).
    served = {r for r in routes if r[1].startswith("/api/")}
    assert all(r[1] in ("/", "/admin") or r[1].startswith("/admin/") for r in routes - served)
    described = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
    }
    assert served == described
    assert len(served) == 33
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"] and operation["operationId"], (method, path)
            assert "401" in operation["responses"], (method, path)
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == {part[1:-1] for part in path.split("/") if part[:1] == "{"}
    # A fresh app built for the same engine serves the same routes.
    app = create_app(env.engine, env.server.token)
    assert {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    } == routes


def test_openapi_document_is_valid_and_the_answers_match_it(env: Env) -> None:
    spec = env.api.get("/api/openapi.json").data
    validate_spec(spec)  # openapi-spec-validator: the document itself is well formed

    def check(name: str, instance: Any) -> None:
        # The component, with the document around it so that its $refs resolve.
        schema = {**spec["components"]["schemas"][name], "components": spec["components"]}
        Draft202012Validator(schema).validate(instance)

    check("Health", env.api.get("/api/health").data)
    person = env.person("Zhou Li")
    check("Consent", env.consent(person))
    added = env.api.post(f"/api/people/{person}/credentials", {"kind": "pin", "value": "482916"})
    check("CredentialRef", added.data)
    check("Person", env.api.get(f"/api/people/{person}").data)
    check("People", env.api.get("/api/people").data)
    check("Doors", env.api.get("/api/doors").data)
    check("Notice", env.api.get("/api/notice").data)
    presented = {"door": "lobby", "kind": "pin", "value": "482916"}
    check("AccessEvent", env.api.post("/api/access/credential", presented).data)
    check("Export", env.api.get(f"/api/people/{person}/export").data)
    check("Installation", env.api.get("/api/installation").data)
    check("AuditPage", env.api.get("/api/audit").data)
    check("AuditVerdict", env.api.get("/api/audit/verify").data)
    check("OpenApiDocument", spec)
    check("Withdrawal", env.api.post(f"/api/people/{person}/consent/withdraw").data)
    removed = env.api.request("DELETE", f"/api/people/{person}/credentials/{added.data['id']}")
    check("Removal", removed.data)
    check("DeletionReceipt", env.api.request("DELETE", f"/api/people/{person}").data)
    for error in (
        env.api.get("/api/people/nobody/export").data,
        env.api.post("/api/people", {"name": ""}).data,
    ):
        check("Error", error)


def test_installation_id_is_created_once_and_kept(tmp_path: Path) -> None:
    installation_id = load_or_create_installation_id(tmp_path / "data")
    path = tmp_path / "data" / "installation.id"
    assert len(installation_id) == 32 and int(installation_id, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_installation_id(tmp_path / "data") == installation_id
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["installation.id"]
    path.write_text("not an id\n")
    with pytest.raises(FacegateError, match="installation id"):
        load_or_create_installation_id(tmp_path / "data")


def test_installation_gives_a_stable_id_and_the_key_that_signs_events(env: Env) -> None:
    assert env.api.get("/api/installation", headers={"Authorization": ""}).status == 401
    wrong = env.api.get("/api/installation", token="x" * 43)
    assert wrong.status == 401 and "event_key" not in json.dumps(wrong.data)
    info = env.api.get("/api/installation").data
    assert set(info) == {"installation_id", "version", "event_key", "mqtt_prefix", "doors"}
    assert info["version"] == __version__
    assert info["mqtt_prefix"] == "facegate" and info["doors"] == ["lobby"]
    path = env.data_dir / "installation.id"
    assert path.read_text().strip() == info["installation_id"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The key is the one that signs the events: a decision checks out with it, and only with it.
    person_id = env.person()
    env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN})
    event = env.api.post("/api/access/credential", {"door": "lobby", "kind": "pin", "value": PIN})
    assert event.data["result"] == "granted"
    key = bytes.fromhex(info["event_key"])
    assert verify(event.data, key)
    assert not verify({**event.data, "door": "back_door"}, key)
    assert not verify(event.data, bytes(32))
    # The same engine after a restart is the same installation, with the same key.
    env.stop()
    again = Env(env.config)
    try:
        assert again.api.get("/api/installation").data == info
    finally:
        again.stop()


def test_health_reports_cameras_templates_and_the_audit_chain(env: Env) -> None:
    health = env.api.get("/api/health").data
    assert health["status"] == "ok"
    assert health["audit_ok"] is True
    assert health["templates"] == 0
    assert health["cameras_total"] == 0
    assert health["mqtt_connected"] is True
    assert health["notice_version"] == env.notice
    assert (health["tampered_rows"], health["under_attack"]) == ({}, {})


def test_r8_health_reports_a_person_row_changed_on_disk(env: Env) -> None:
    person_id = env.person("Wang Fang")
    db = sqlite3.connect(env.data_dir / "facegate.db")
    db.create_function("facegate_row_mac", -1, lambda *_values: "0" * 64)  # no key: a guess
    with db:
        db.execute("UPDATE people SET minor = 1 WHERE id = ?", (person_id,))
    db.close()
    health = env.api.get("/api/health").data
    assert health["status"] == "degraded"
    assert health["tampered_rows"] == {"people": [person_id]}
    reply = env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": "482913"})
    assert reply.status == 409 and "outside the engine" in reply.error
    assert env.api.delete(f"/api/people/{person_id}").status == 200  # erasure still reaches it
    assert env.api.get("/api/health").data["status"] == "ok"


def _answered(sock: socket.socket) -> bytes:
    """One whole response (headers and its Content-Length of body) read from `sock`."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_headers_sent_a_byte_at_a_time_are_cut_off(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("facegate.web.deadline.HEADER_DEADLINE_S", 1.0)
    auth = f"Authorization: Bearer {env.server.token}\r\n".encode()
    request = b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
    with socket.create_connection(("127.0.0.1", env.server.port)) as honest:
        # A kept-alive connection that idles between requests is not cut: the deadline runs
        # from a request's first byte.
        honest.sendall(request)
        assert _answered(honest).startswith(b"HTTP/1.1 200")
        time.sleep(1.5)
        honest.sendall(request)
        assert _answered(honest).startswith(b"HTTP/1.1 200")
        # The second request's headers trickled in: cut off like the first one would be.
        started = time.monotonic()
        honest.sendall(b"GET /api/health HTTP/1.1\r\n")
        closed = False
        while time.monotonic() - started < 5 and not closed:
            try:
                honest.sendall(b"X-Slow: 1\r\n")
                honest.settimeout(0.3)
                closed = honest.recv(1) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
        assert closed and time.monotonic() - started < 3
    with socket.create_connection(("127.0.0.1", env.server.port)) as silent:
        silent.settimeout(3)
        started = time.monotonic()
        assert silent.recv(1) == b""  # a connection that never sends a byte is closed too
        assert time.monotonic() - started < 2.5
    assert env.api.get("/api/health").status == 200


# Rules -------------------------------------------------------------------------------------


def test_r1_notice_is_served_in_english_and_chinese_with_its_version(env: Env) -> None:
    english = env.api.get("/api/notice?lang=en").data
    chinese = env.api.get("/api/notice?lang=zh-Hans").data
    default = env.api.get("/api/notice").data
    assert english["version"] == chinese["version"] == default["version"] == env.notice
    assert english["lang"] == "en" and "Purpose" in english["text"]
    assert "Withdrawal" in english["text"] and "Retention" in english["text"]
    assert chinese["lang"] == "zh-Hans" and "目的" in chinese["text"]
    assert "撤回" in chinese["text"]
    for lang in ("fr", "zh", "EN", ""):
        if lang:
            reply = env.api.get(f"/api/notice?lang={lang}")
            assert reply.status == 400 and "lang" in reply.error
    person_id = env.person()
    assert env.api.get(f"/api/notice?lang=zh-Hans&person={person_id}").status == 200
    assert env.api.get("/api/notice?person=nobody").status == 404
    shown = [e for e in env.engine.store.audit_entries() if e.kind == "notice_shown"]
    assert len(shown) == 4
    audit_ref = env.engine.store.person(person_id).audit_ref
    assert [e.subject for e in shown] == [None, None, None, audit_ref]
    assert all(e.data == {"version": env.notice} for e in shown)


def test_r2_consent_needs_explicit_agree_and_the_current_notice(env: Env, obama: Path) -> None:
    person_id = env.person()
    path = f"/api/people/{person_id}/consent"
    good = {
        "agree": True,
        "notice_version": env.notice,
        "signer": "Li Wei",
        "method": "checkbox",
    }
    refused: list[tuple[dict[str, Any], int, str]] = [
        ({k: v for k, v in good.items() if k != "agree"}, 400, "R2"),  # not ticked at all
        ({**good, "agree": False}, 400, "R2"),
        ({**good, "agree": "true"}, 400, "R2"),  # "pre-ticked" by a form default
        ({**good, "agree": 1}, 400, "R2"),
        ({**good, "agree": None}, 400, "R2"),
        ({**good, "terms": True}, 400, "never bundled"),
        ({**good, "marketing": True}, 400, "never bundled"),
        ({**good, "notice_version": "0" * 16}, 409, "notice changed"),
        ({**good, "notice_version": ""}, 400, "notice_version"),
        ({k: v for k, v in good.items() if k != "signer"}, 400, "signer"),
        ({**good, "signer": "   "}, 400, "signer"),
        ({**good, "method": "implied"}, 400, "method"),
        ({**good, "method": "paper"}, 400, "witness"),
        ({**good, "days": 0}, 400, "days"),
        ({**good, "days": 5000}, 400, "days"),
        ({**good, "days": "365"}, 400, "days"),
        ({**good, "days": True}, 400, "days"),
    ]
    for body, status, words in refused:
        reply = env.api.post(path, body)
        assert (reply.status, words in reply.error) == (status, True), (body, reply.data)
    assert env.engine.store.consents(person_id) == []
    assert "consent_given" not in env.audit_kinds()
    # No face is taken before consent (R2), and nothing is read of the photo.
    reply = env.upload(person_id, obama)
    assert reply.status == 409 and "R2" in reply.error
    assert env.engine.store.template_count(person_id) == 0

    record = env.consent(person_id, method="paper", witness="Zhang Min", entered_by="admin")
    assert record["notice_version"] == env.notice
    assert (record["method"], record["signer"]) == ("paper", "Li Wei")
    assert (record["witness"], record["entered_by"]) == ("Zhang Min", "admin")
    assert record["given_at"] <= time.time() < record["expires_at"]
    detail = env.api.get(f"/api/people/{person_id}").data
    assert detail["consent"]["status"] == "live" and detail["consent"]["current_notice"]
    assert env.audit_kinds().count("consent_given") == 1


def test_r3_child_under_14_needs_a_guardian(env: Env) -> None:
    this_year = dt.date.today().year
    child = env.person("Xiao Ming", birth_year=this_year - 10)
    flagged = env.person("Xiao Hong", minor=True)
    adult = env.person("Wang Fang", birth_year=this_year - 40)
    assert env.api.get(f"/api/people/{child}").data["needs_guardian"] is True
    assert env.api.get(f"/api/people/{flagged}").data["needs_guardian"] is True
    assert env.api.get(f"/api/people/{adult}").data["needs_guardian"] is False
    body = {
        "agree": True,
        "notice_version": env.notice,
        "signer": "Xiao Ming",
        "method": "signed_name",
    }
    for person_id in (child, flagged):
        for extra in ({}, {"guardian": ""}, {"guardian": "  "}):
            reply = env.api.post(f"/api/people/{person_id}/consent", {**body, **extra})
            assert reply.status == 400 and "R3" in reply.error, reply.data
        assert env.engine.store.consents(person_id) == []
        record = env.consent(person_id, signer="Xiao Ming (by guardian)", guardian="Xiao Gang")
        assert record["guardian"] == "Xiao Gang"
    env.consent(adult, signer="Wang Fang")


def test_r4_person_gets_a_pin_without_face_or_documents(env: Env) -> None:
    for field, value in (
        ("id_card", "110101199003074514"),
        ("phone_number", "13800138000"),
        ("title_deed", "京(2020)朝阳区不动产权第0000000号"),
        ("id", "chosen-by-client"),
    ):
        reply = env.api.post("/api/people", {"name": "Li Wei", field: value})
        assert reply.status == 400, field
        assert field in reply.error and "R4" in reply.error
    assert env.api.get("/api/people").data == {"people": []}

    person_id = env.person("Li Wei")
    reply = env.api.post(
        f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN, "label": "keypad"}
    )
    assert reply.status == 201
    # Kind, label and validity (none set: no limit): never the value.
    assert set(reply.data) == {"id", "kind", "label", *VALIDITY_FIELDS}
    assert (reply.data["kind"], reply.data["label"]) == ("pin", "keypad")
    assert reply.data["valid_until"] is None and reply.data["schedule"] == []
    assert PIN not in json.dumps(reply.data)
    card = env.api.post(f"/api/people/{person_id}/credentials", {"kind": "card", "value": CARD})
    assert card.status == 201 and CARD not in json.dumps(card.data)

    detail = env.api.get(f"/api/people/{person_id}").data
    assert detail["consent"] == {"status": "none"} and detail["templates"] == 0
    assert sorted(c["kind"] for c in detail["credentials"]) == ["card", "pin"]
    assert PIN not in json.dumps(detail)
    granted = env.api.post(
        "/api/access/credential", {"door": "lobby", "kind": "pin", "value": PIN}
    ).data
    assert (granted["result"], granted["reason"], granted["method"]) == ("granted", "match", "pin")
    assert granted["person"] == {"id": person_id, "name": "Li Wei"}
    assert PIN not in json.dumps(granted)
    denied = env.api.post(
        "/api/access/credential", {"door": "lobby", "kind": "pin", "value": "907153"}
    ).data
    assert (denied["result"], denied["reason"], denied["person"]) == ("denied", "unknown", None)
    by_card = env.api.post(
        "/api/access/credential", {"door": "lobby", "kind": "card", "value": CARD.lower()}
    ).data
    assert by_card["result"] == "granted"
    # Removing it takes it away at once.
    env.api.delete(f"/api/people/{person_id}/credentials/{card.data['id']}")
    again = env.api.post(
        "/api/access/credential", {"door": "lobby", "kind": "card", "value": CARD}
    ).data
    assert again["result"] == "denied"


def test_r12_pins_a_guesser_tries_first_are_refused(env: Env) -> None:
    """Runs, repeats, keypad shapes, birthdays and PINs chosen for their meaning are what a
    guesser at the keypad tries first; each is refused with the reason, and a random PIN is
    taken."""
    person_id = env.person("Li Wei")
    weak = {
        "123123": "repeated",
        "112233": "doubled",
        "147258": "keypad",
        "159753": "keypad",
        "19900307": "date",
        "070390": "date",
        "900307": "date",
        "520520": "repeated",
        "5201314": "common",
        "333444": "two digits",
        "654321": "run",
    }
    for pin, why in weak.items():
        reply = env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": pin})
        assert reply.status == 400, pin
        assert "easy to guess" in reply.error and why in reply.error, (pin, reply.error)
    taken = env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN})
    assert taken.status == 201


def test_r12_probing_for_pins_in_use_is_counted_and_paused(env: Env) -> None:
    """ "Already in use" tells whoever adds a PIN that somebody has it; such refusals count
    like failed door attempts and pause that person's changes (429, Retry-After), before the
    value is even looked at. Refusals by the PIN rules reveal nothing and do not count."""
    owner = env.person("Li Wei")
    prober = env.person("Zhao Lei")
    taken = env.api.post(f"/api/people/{owner}/credentials", {"kind": "pin", "value": PIN})
    assert taken.status == 201
    for _ in range(3):  # weak PINs: refused by rule, not counted
        weak = env.api.post(f"/api/people/{prober}/credentials", {"kind": "pin", "value": "123123"})
        assert weak.status == 400 and weak.data["key"] == "credential"
    for _ in range(DEFAULT_MAX_FAILURES):
        probe = env.api.post(f"/api/people/{prober}/credentials", {"kind": "pin", "value": PIN})
        assert probe.status == 409 and "already in use" in probe.error
        assert probe.data["key"] == "credential_in_use"  # the kinds of docs/api.md
    fresh = env.api.post(f"/api/people/{prober}/credentials", {"kind": "pin", "value": "730958"})
    assert fresh.status == 429 and "too many refused" in fresh.error
    assert fresh.data["key"] == "too_many_changes"
    assert int(fresh.headers["Retry-After"]) >= 1
    # Only the prober is paused.
    other = env.api.post(f"/api/people/{owner}/credentials", {"kind": "pin", "value": "730958"})
    assert other.status == 201


def test_r4_a_door_is_never_left_with_face_as_its_only_method(
    make_env: Callable[..., Env], rtsp_server: RtspServer
) -> None:
    env = make_env(rtsp_server.url)
    api = env.api
    worker = env.engine.doors["front_door"]
    path = "/api/doors/front_door/methods"
    doors = {d["id"]: d for d in api.get("/api/doors").data["doors"]}
    assert doors["front_door"]["enabled"] == ["face", "pin"]
    assert doors["front_door"]["camera"]["name"] == "front_cam"
    assert doors["lobby"]["face_enabled"] is False

    reply = api.post(path, {"method": "pin", "enabled": False})
    assert reply.status == 409 and "R4" in reply.error
    assert env.engine.store.door_method_overrides() == {}
    # The rule lives in the store, in the transaction that writes: the CLI, Home Assistant or
    # another process cannot go round it.
    configured = env.config.doors["front_door"].methods
    with pytest.raises(RuleError, match="R4"):
        env.engine.store.set_door_method("front_door", "pin", False, configured=configured)
    assert env.engine.store.door_method_overrides() == {}

    off = api.post(path, {"method": "face", "enabled": False}).data
    assert off["enabled"] == ["pin"] and off["face_enabled"] is False
    assert worker.face_enabled is False
    # Nor is a door left with no way in at all: its last method stays on.
    reply = api.post(path, {"method": "pin", "enabled": False})
    assert (reply.status, reply.data["key"]) == (409, "no_method_left"), reply.data
    assert "no way in" in reply.error
    assert {d["id"]: d["enabled"] for d in api.get("/api/doors").data["doors"]}["front_door"] == [
        "pin"
    ]
    on = api.post(path, {"method": "face", "enabled": True}).data
    assert on["enabled"] == ["face", "pin"] and worker.face_enabled is True
    assert env.engine.store.door_method_overrides()[("front_door", "face")] is True

    for body, status in (
        ({"method": "card", "enabled": False}, 409),  # not configured at this door
        ({"method": "retina", "enabled": False}, 400),
        ({"method": "face", "enabled": "false"}, 400),
        ({"method": "face"}, 400),
        ({"method": "face", "enabled": True, "force": True}, 400),
    ):
        assert api.post(path, body).status == status, body
    assert (
        api.post("/api/doors/back_door/methods", {"method": "pin", "enabled": True}).status == 404
    )


def test_r6_withdrawal_is_one_step_and_erases_templates(env: Env, obama: Path) -> None:
    person_id = env.person("Barack Obama")
    first = env.consent(person_id, days=30)
    assert first["expires_at"] - first["given_at"] == pytest.approx(30 * 86400)
    assert env.upload(person_id, obama).status == 201
    assert len(env.engine.gallery()) == 1

    renew = f"/api/people/{person_id}/consent/renew"
    assert env.api.post(renew, {"notice_version": env.notice}).status == 400  # not agreed
    assert env.api.post(renew, {"agree": True, "notice_version": "f" * 16}).status == 409
    assert (
        env.api.post(
            renew, {"agree": True, "notice_version": env.notice, "bundle": "newsletter"}
        ).status
        == 400
    )
    renewed = env.api.post(renew, {"agree": True, "notice_version": env.notice, "days": 365})
    assert renewed.status == 200 and renewed.data["id"] == first["id"]
    assert renewed.data["expires_at"] > first["expires_at"] + 300 * 86400

    # One request, no body, and the face is gone from the database and from the door.
    reply = env.api.post(f"/api/people/{person_id}/consent/withdraw")
    assert reply.status == 200
    assert reply.data["withdrawn"] is True and reply.data["templates_deleted"] == 1
    assert reply.data["person"]["consent"]["status"] == "withdrawn"
    assert reply.data["person"]["templates"] == 0
    assert env.engine.store.template_count(person_id) == 0
    assert len(env.engine.gallery()) == 0
    assert "consent_withdrawn" in env.audit_kinds()
    # Nothing a client adds to the body can stand in the way of a withdrawal.
    again = env.api.post(f"/api/people/{person_id}/consent/withdraw", {"confirm": "maybe"})
    assert again.status == 200 and again.data["templates_deleted"] == 0
    assert env.upload(person_id, obama).status == 409
    assert env.api.post(renew, {"agree": True, "notice_version": env.notice}).status == 409


def test_r7_delete_returns_a_receipt(env: Env, obama: Path) -> None:
    person_id = env.person("Barack Obama")
    env.consent(person_id)
    assert env.upload(person_id, obama).status == 201
    env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN})
    reply = env.api.delete(f"/api/people/{person_id}")
    assert reply.status == 200
    receipt = reply.data
    assert receipt["reason"] == "request"
    assert receipt["deleted"] == {
        "templates": 1,
        "credentials": 1,
        "consents": 1,
        "memberships": 1,
        "person": 1,
    }
    assert receipt["erased_at"] <= time.time() and receipt["receipt_id"]
    assert "deleted" in receipt["statement"]
    for method, path in (
        ("GET", f"/api/people/{person_id}"),
        ("DELETE", f"/api/people/{person_id}"),
        ("GET", f"/api/people/{person_id}/export"),
    ):
        assert env.api.request(method, path).status == 404
    assert env.engine.store.template_count() == 0 and len(env.engine.gallery()) == 0
    erasures = [e for e in env.engine.store.audit_entries() if e.kind == "erasure"]
    assert [e.data["receipt_id"] for e in erasures] == [receipt["receipt_id"]]
    denied = env.api.post(
        "/api/access/credential", {"door": "lobby", "kind": "pin", "value": PIN}
    ).data
    assert denied["result"] == "denied"


def test_r10_uploaded_photo_is_not_stored(env: Env, obama: Path, faces: Path) -> None:
    person_id = env.person("Barack Obama")
    env.consent(person_id)
    jpeg = obama.read_bytes()
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    second = faces / "enroll" / "barack_obama" / "obama2.jpg"
    png = cv2.imencode(".png", cv2.imread(str(second)))[1].tobytes()
    body, content_type = _multipart("image", "obama2.png", png, "image/png")
    _Watch.writes = []
    try:
        raw_reply = env.upload(person_id, obama)
        form_reply = env.api.post(
            f"/api/people/{person_id}/faces", raw=body, content_type=content_type
        )
        written = list(_Watch.writes)
    finally:
        _Watch.writes = None
    assert raw_reply.status == 201, raw_reply.data
    assert form_reply.status == 201, form_reply.data
    assert form_reply.data["template_count"] == 2
    # Nothing but the audit log's signed head was opened for writing while the photos were
    # received and enrolled: no spooling of the upload to a temporary file, no debug dump.
    assert written
    assert {path for path, _mode, _flags in written} == {str(env.data_dir / "audit.part")}
    signatures = [
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff\xe0",
        b"\xff\xd8\xff\xe1",
        b"\xff\xd8\xff\xdb",
        jpeg[:32],
        jpeg[len(jpeg) // 2 : len(jpeg) // 2 + 64],
        png[len(png) // 2 : len(png) // 2 + 64],
        decoded[decoded.shape[0] // 2].tobytes()[:96],  # raw pixels of the middle row
    ]
    files = [p for p in env.data_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        for signature in signatures:
            assert signature not in content, f"image data in {path}"


def test_r11_export_holds_everything_and_no_secrets(env: Env, obama: Path) -> None:
    person_id = env.person("Barack Obama", birth_year=1961, leaves_on="2031-06-30")
    env.api.get(f"/api/notice?person={person_id}")
    env.consent(person_id, signer="Barack Obama")
    assert env.upload(person_id, obama).status == 201
    env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN})
    env.api.post(
        f"/api/people/{person_id}/credentials",
        {"kind": "tag", "value": "A1B2C3D4", "label": "blue tag"},
    )
    env.api.post("/api/access/credential", {"door": "lobby", "kind": "pin", "value": PIN})
    reply = env.api.get(f"/api/people/{person_id}/export")
    assert reply.status == 200
    assert "attachment" in reply.headers["Content-Disposition"]
    export = reply.data
    assert export["person"]["id"] == person_id and export["person"]["leaves_on"] == "2031-06-30"
    assert [c["signer"] for c in export["consents"]] == ["Barack Obama"]
    assert sorted(c["kind"] for c in export["credentials"]) == ["pin", "tag"]
    assert [c["label"] for c in export["credentials"] if c["kind"] == "tag"] == ["blue tag"]
    assert len(export["templates"]) == 1
    kinds = [e["kind"] for e in export["audit"]]
    for kind in (
        "person_created",
        "notice_shown",
        "consent_given",
        "enrolment",
        "credential_added",
        "access",
        "export",
    ):
        assert kind in kinds, kind
    text = json.dumps(export)
    assert PIN not in text and "A1B2C3D4" not in text
    assert "scrypt:" not in text and "hmac:" not in text
    assert "sealed" not in text and "vector" not in text

    def no_long_number_lists(value: Any) -> None:
        if isinstance(value, list):
            assert sum(isinstance(v, float) for v in value) < 16, "an embedding-like list"
            for item in value:
                no_long_number_lists(item)
        elif isinstance(value, dict):
            for item in value.values():
                no_long_number_lists(item)

    no_long_number_lists(export)

    # The audit log: listed page by page, verified, and a tampered entry is found.
    page = env.api.get("/api/audit?after=0&limit=3").data
    assert [e["seq"] for e in page["entries"]] == [1, 2, 3] and page["next_after"] == 3
    rest = env.api.get(f"/api/audit?after={page['next_after']}").data
    assert rest["entries"][0]["seq"] == 4
    verdict = env.api.get("/api/audit/verify").data
    assert verdict["ok"] is True and verdict["entries"] == rest["next_after"]
    with sqlite3.connect(env.data_dir / "facegate.db") as db:
        db.execute("UPDATE audit SET data = '{}' WHERE seq = 5")
    verdict = env.api.get("/api/audit/verify").data
    assert verdict["ok"] is False and verdict["at_seq"] == 5 and verdict["problem"]
    assert env.api.get("/api/health").data["audit_ok"] is False


def test_r11_engine_does_not_extend_or_sign_a_forged_audit_chain(env: Env) -> None:
    """Re-chaining the log by the public SHA-256 recipe once let the running engine append and
    sign the forgery. Now a decision still happens, but the log is neither extended nor
    re-signed, and health says the chain is broken."""
    person_id = env.person("Li Wei")
    env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN})
    head_path = env.data_dir / "audit.head"
    with sqlite3.connect(env.data_dir / "facegate.db") as db:
        (last,) = db.execute("SELECT max(seq) FROM audit").fetchone()
        row = db.execute("SELECT prev, ts, kind, subject, door FROM audit WHERE seq = ?", (last,))
        prev, ts, kind, subject, door = row.fetchone()
        forged = '{"forged":true}'
        digest = entry_hash(prev, last, ts, kind, subject, door, forged)
        db.execute("UPDATE audit SET data = ?, hash = ? WHERE seq = ?", (forged, digest, last))
    head_before = head_path.read_bytes()
    granted = env.api.post("/api/access/credential", {"door": "lobby", "kind": "pin", "value": PIN})
    assert granted.data["result"] == "granted"  # the door still works for the resident
    with sqlite3.connect(env.data_dir / "facegate.db") as db:
        assert db.execute("SELECT max(seq) FROM audit").fetchone() == (last,)
    assert head_path.read_bytes() == head_before
    health = env.api.get("/api/health").data
    assert health["audit_ok"] is False and str(last) in health["audit_problem"]


# Faces from the door camera ----------------------------------------------------------------


def test_snapshot_leaves_the_doors_frame_in_its_buffer() -> None:
    reader = CameraReader("test", "rtsp://127.0.0.1:1/unused")
    image = np.full((48, 64, 3), 7, np.uint8)
    taken: list[Any] = []
    waiter = threading.Thread(target=lambda: taken.append(reader.snapshot(5.0)))
    waiter.start()
    deadline = time.monotonic() + 5
    while reader._snapshot_waiters == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    reader._publish(image)
    waiter.join(5)
    snapshot = taken[0]
    assert snapshot is not None and snapshot.seq == 1
    assert snapshot.image is not image and np.array_equal(snapshot.image, image)
    frame = reader.next_frame(0.0)  # the door still gets that very frame
    assert frame is not None and frame.seq == 1 and frame.image is image
    assert reader._snapshot is None  # nothing kept once the snapshot is handed over
    assert reader.snapshot(0.05) is None  # no new frame: nothing


def test_r2_snapshot_enrols_from_the_door_camera_after_consent(
    make_env: Callable[..., Env], rtsp_server: RtspServer
) -> None:
    env = make_env(rtsp_server.url)
    person_id = env.person("Lin-Manuel Miranda")
    path = f"/api/people/{person_id}/faces/snapshot"
    reply = env.api.post(path, {"door": "front_door"})
    assert reply.status == 409 and "R2" in reply.error
    env.consent(person_id, signer="Lin-Manuel Miranda")
    assert env.api.post(path, {"door": "lobby"}).status == 409  # no camera there
    assert env.api.post(path, {"door": "garage"}).status == 404
    assert env.api.post(path, {}).status == 400
    assert env.api.post(path, {"door": "front_door", "frames": 6}).status == 400
    # Three frames of the resident at the door by default, enrolled together.
    reply = env.api.post(path, {"door": "front_door"})
    assert reply.status == 201, reply.data
    assert reply.data["template_count"] == 3
    assert 0 <= reply.data["spread"] <= reply.data["max_spread"]
    reply = env.api.post(path, {"door": "front_door", "frames": 1})
    assert reply.status == 201 and reply.data["template_count"] == 4
    assert len(env.engine.gallery()) == 4
    health = env.api.get("/api/health").data
    assert health["cameras"]["front_cam"]["online"] is True
    assert health["cameras_online"] == 1 and health["templates"] == 4
    policy = health["decision_policy"]
    assert policy["people_enrolled"] == 1 and policy["template_policy"] == "mean"
    door = policy["doors"]["front_door"]
    assert door["strictness"] == "strict" and door["target_far_per_attempt"] == 0.001
    assert door["threshold"] > policy["calibration"]["tails"][0]["onset"]


def test_several_photos_in_one_upload_are_enrolled_together_or_not_at_all(
    env: Env, faces: Path
) -> None:
    person_id = env.person("Barack Obama")
    env.consent(person_id, signer="Barack Obama")
    obama = faces / "enroll" / "barack_obama"
    path = f"/api/people/{person_id}/faces"
    photos = [obama / "obama2.jpg", faces / "enroll/joe_biden/biden.jpg"]
    body, content_type = _multipart_many([p.read_bytes() for p in photos])
    reply = env.api.post(path, raw=body, content_type=content_type)
    assert reply.status == 422
    assert reply.error.startswith("uploaded image 2: does not look like")
    assert env.engine.store.template_count(person_id) == 0
    photos = [obama / "obama.jpg", obama / "obama2.jpg", obama / "obama3.jpg"]
    body, content_type = _multipart_many([p.read_bytes() for p in photos])
    reply = env.api.post(path, raw=body, content_type=content_type)
    assert reply.status == 201, reply.data
    assert reply.data["template_count"] == 3 and reply.data["spread"] > 0
    body, content_type = _multipart_many([photos[0].read_bytes()] * 6)
    reply = env.api.post(path, raw=body, content_type=content_type)
    assert reply.status == 400 and "at most 5" in reply.error


def _multipart_many(images: list[bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
            f'filename="{i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + data
        + b"\r\n"
        for i, data in enumerate(images)
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


# Every bad input gets a 4xx that says what is wrong ---------------------------------------


JSON = {"content_type": "application/json"}


def test_bad_input_gets_a_4xx_that_says_what_is_wrong(env: Env) -> None:
    api = env.api
    person_id = env.person()
    env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN})
    p = f"/api/people/{person_id}"
    ghost = "/api/people/0123456789abcdef"
    blank = cv2.imencode(".png", np.full((200, 200, 3), 128, np.uint8))[1].tobytes()
    access = "/api/access/credential"
    huge_png = blank[:16] + struct.pack(">II", 20_000, 20_000) + blank[24:]
    # fmt: off
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("POST", "/api/people", {"raw": b"{bad", **JSON}, 400, "not valid JSON"),
        ("POST", "/api/people", {"raw": b"[1, 2]", **JSON}, 400, "JSON object"),
        ("POST", "/api/people", {"raw": b""}, 400, "required"),
        ("POST", "/api/people", {"raw": b'{"name": "a", "name": "b"}', **JSON}, 400, "twice"),
        ("POST", "/api/people", {"raw": b'{"name": NaN}', **JSON}, 400, "NaN"),
        ("POST", "/api/people", {"raw": b"\xff\xfe", **JSON}, 400, "JSON"),
        ("POST", "/api/people", {"raw": b" " * 70_000, **JSON}, 413, "larger"),
        # What once answered 500, or was taken without a word.
        ("POST", "/api/people", {"raw": b'{"name": "A"}'}, 415, "application/json"),
        ("POST", "/api/people", {"raw": b'{"name": "A"}', "content_type": "text/plain"}, 415,
         "application/json"),
        ("POST", "/api/people", {"raw": b'{"name": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
                                 **JSON}, 400, "nested too deeply"),
        ("POST", "/api/people", {"raw": b'{"name": "A", "birth_year": ' + b"9" * 5000 + b"}",
                                 **JSON}, 400, "more than 30 characters"),
        ("POST", "/api/people", {"raw": b'{"name": "Li \\ud800 Wei"}', **JSON}, 400, "surrogate"),
        ("POST", "/api/people", {"body": {"name": "Li\u0000Wei"}}, 400, "control character"),
        ("POST", "/api/people", {"body": {"name": "Li \u202eieW"}}, 400, "text-direction"),
        ("POST", "/api/people", {"body": {}}, 400, "name"),
        ("POST", "/api/people", {"body": {"name": ""}}, 400, "name"),
        ("POST", "/api/people", {"body": {"name": "x" * 81}}, 400, "name"),
        ("POST", "/api/people", {"body": {"name": 7}}, 400, "name"),
        ("POST", "/api/people", {"body": {"name": "A", "birth_year": "1990"}}, 400, "birth_year"),
        ("POST", "/api/people", {"body": {"name": "A", "birth_year": True}}, 400, "birth_year"),
        ("POST", "/api/people", {"body": {"name": "A", "birth_year": 1800}}, 400, "birth_year"),
        ("POST", "/api/people", {"body": {"name": "A", "minor": "yes"}}, 400, "minor"),
        ("POST", "/api/people", {"body": {"name": "A", "leaves_on": "soon"}}, 400, "leaves_on"),
        ("GET", ghost, {}, 404, "no person"),
        ("PATCH", ghost, {"body": {"leaves_on": None}}, 404, "no person"),
        ("DELETE", ghost, {}, 404, "no person"),
        ("GET", ghost + "/export", {}, 404, "no person"),
        ("POST", ghost + "/consent", {"body": {"agree": True}}, 404, "no person"),
        ("POST", ghost + "/consent/renew", {"body": {}}, 404, "no person"),
        ("POST", ghost + "/consent/withdraw", {}, 404, "no person"),
        ("POST", ghost + "/faces", {"raw": blank, "content_type": "image/png"}, 404, "no person"),
        ("POST", ghost + "/faces/snapshot", {"body": {"door": "lobby"}}, 404, "no person"),
        ("POST", ghost + "/credentials", {"body": {"kind": "pin"}}, 404, "no person"),
        ("DELETE", ghost + "/credentials/abc", {}, 404, "no person"),
        ("GET", "/api/people/" + "x" * 200, {}, 404, "no person"),
        ("GET", "/api/notice?person=" + "0" * 32, {}, 404, "no person"),
        ("PATCH", p, {"body": {}}, 400, "nothing to change"),
        ("PATCH", p, {"body": {"leaves_on": "31/12/2030"}}, 400, "YYYY-MM-DD"),
        ("PATCH", p, {"body": {"disabled_methods": "pin"}}, 400, "list"),
        ("PATCH", p, {"body": {"disabled_methods": ["iris"]}}, 400, "iris"),
        ("PATCH", p, {"body": {"name": "New"}}, 400, "unknown field"),
        ("POST", p + "/credentials", {"body": {"kind": "pin", "value": "730958",
                                               "label": "door\u2066"}}, 400, "text-direction"),
        ("POST", p + "/consent/renew", {"body": {"agree": True, "notice_version": env.notice}},
         409, "no consent to renew"),
        ("POST", p + "/faces", {"raw": blank, "content_type": "image/png"}, 409, "R2"),
        ("POST", p + "/credentials", {"body": {"kind": "retina", "value": "x"}}, 400, "kind"),
        ("POST", p + "/credentials", {"body": {"kind": "pin", "value": 482916}}, 400, "string"),
        ("POST", p + "/credentials", {"body": {"kind": "pin", "value": "1234"}}, 400, "6-12"),
        ("POST", p + "/credentials", {"body": {"kind": "pin", "value": "111111"}}, 400, "repeat"),
        ("POST", p + "/credentials", {"body": {"kind": "pin", "value": PIN}}, 409, "in use"),
        ("POST", p + "/credentials", {"body": {"kind": "card", "value": "a b"}}, 400, "card"),
        ("POST", p + "/credentials", {"body": {"kind": "tag", "value": "A1B2C3D4",
                                               "owner_phone": "13800138000"}}, 400, "unknown"),
        ("DELETE", p + "/credentials/nope", {}, 404, "no credential"),
        ("POST", access, {"body": {"door": "x", "kind": "pin", "value": PIN}}, 404, "no door"),
        ("POST", access, {"body": {"door": "lobby", "kind": "iris", "value": PIN}}, 400, "kind"),
        ("POST", access, {"body": {"door": "lobby", "kind": "pin"}}, 400, "value"),
        ("POST", access, {"body": {"door": "lobby", "kind": "pin", "value": PIN, "person": "x"}},
         400, "unknown field"),
        ("POST", "/api/doors/lobby/methods", {"body": {"method": "pin"}}, 400, "enabled"),
        ("GET", "/api/audit?after=-1", {}, 400, "after"),
        ("GET", "/api/audit?limit=0", {}, 400, "limit"),
        ("GET", "/api/audit?limit=abc", {}, 400, "limit"),
        ("GET", "/api/audit?limit=5000", {}, 400, "limit"),
        ("GET", "/api/nothing-here", {}, 404, "no such endpoint"),
        ("PUT", "/api/people", {}, 405, "not allowed"),
    ]
    # fmt: on
    for method, path, kw, status, words in cases:
        reply = api.request(method, path, **kw)
        assert reply.status == status, (method, path, kw, reply.status, reply.data)
        assert words.lower() in reply.error.lower(), (method, path, reply.error)

    # With consent recorded, the photo itself is checked.
    env.consent(person_id)
    faces_path = p + "/faces"
    # fmt: off
    for kw, status, words in (
        ({"body": {"image": "base64..."}}, 415, "image/jpeg"),
        ({"raw": b"GIF89a", "content_type": "image/gif"}, 415, "image/jpeg"),
        ({"raw": b"not an image", "content_type": "image/jpeg"}, 400, "not a readable"),
        ({"raw": b"", "content_type": "image/png"}, 400, "empty"),
        ({"raw": blank, "content_type": "image/png"}, 422, "no face"),
        ({"raw": b"\0" * (10 * 2**20 + 1), "content_type": "image/jpeg"}, 413, "10 MiB"),
        ({"raw": b"--x--\r\n", "content_type": "multipart/form-data; boundary=x"}, 400, "image"),
        # A few bytes that declare 20000x20000 pixels are refused before decoding (1.2 GB).
        ({"raw": huge_png, "content_type": "image/png"}, 400, "20000x20000"),
    ):
        reply = api.post(faces_path, **kw)
        assert reply.status == status, (kw.get("content_type"), reply.data)
        assert words in reply.error, reply.error
    # fmt: on
    body, content_type = _multipart("photo", "a.png", blank, "image/png")
    reply = api.post(faces_path, raw=body, content_type=content_type)
    assert reply.status == 400 and "'image'" in reply.error
    assert env.engine.store.template_count() == 0

    # The engine took all of it in its stride: nothing half-written, the chain intact.
    assert [x["name"] for x in api.get("/api/people").data["people"]] == ["Li Wei"]
    health = api.get("/api/health").data
    assert health["status"] == "ok" and health["audit_ok"] is True


def test_patch_sets_move_out_and_disabled_methods(env: Env) -> None:
    person_id = env.person()
    env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN})
    updated = env.api.patch(
        f"/api/people/{person_id}", {"leaves_on": "2031-01-31", "disabled_methods": ["pin"]}
    ).data
    assert updated["leaves_on"] == "2031-01-31" and updated["disabled_methods"] == ["pin"]
    event = env.api.post(
        "/api/access/credential", {"door": "lobby", "kind": "pin", "value": PIN}
    ).data
    assert (event["result"], event["reason"]) == ("denied", "method_disabled")
    cleared = env.api.patch(
        f"/api/people/{person_id}", {"leaves_on": None, "disabled_methods": []}
    ).data
    assert cleared["leaves_on"] is None and cleared["disabled_methods"] == []
    event = env.api.post(
        "/api/access/credential", {"door": "lobby", "kind": "pin", "value": PIN}
    ).data
    assert event["result"] == "granted"


# The event stream --------------------------------------------------------------------------


def test_event_stream_delivers_decisions_and_state_changes(env: Env) -> None:
    url = env.server.url
    headers = {"Authorization": f"Bearer {env.server.token}"}
    actuator = env.engine.actuators["lobby"]

    async def run() -> list[dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=20)
        async with (
            aiohttp.ClientSession(timeout=timeout, headers=headers) as session,
            session.ws_connect(f"{url}/api/events") as ws,
        ):

            async def next_message(kind: str) -> dict[str, Any]:
                while True:
                    message = await ws.receive_json(timeout=10)
                    if message["type"] == kind:
                        return dict(message)

            seen = [await next_message("state")]
            async with session.post(f"{url}/api/people", json={"name": "Li Wei"}) as r:
                person_id = (await r.json())["id"]
            seen.append(await next_message("state"))
            body = {"kind": "pin", "value": PIN}
            async with session.post(f"{url}/api/people/{person_id}/credentials", json=body):
                pass
            seen.append(await next_message("state"))
            body = {"door": "lobby", "kind": "pin", "value": PIN}
            async with session.post(f"{url}/api/access/credential", json=body) as r:
                assert r.status == 200
            seen.append(await next_message("decision"))
            # A decision made on an engine thread, outside any request.
            thread = threading.Thread(
                target=actuator.decide,
                kwargs={"method": "tag", "reason": "unknown", "evidence_at": time.monotonic()},
            )
            thread.start()
            seen.append(await next_message("decision"))
            thread.join(5)
            body = {"method": "pin", "enabled": False}
            async with session.post(f"{url}/api/doors/lobby/methods", json=body) as r:
                assert r.status == 200
            seen.append(await next_message("state"))
            return seen

    snapshot, created, credentials, pin, tag, door = asyncio.run(run())
    assert snapshot["change"] == "snapshot" and snapshot["notice_version"] == env.notice
    assert [d["id"] for d in snapshot["doors"]] == ["lobby"] and snapshot["people"] == []
    assert created["change"] == "person_created" and created["person"]["name"] == "Li Wei"
    assert credentials["change"] == "credentials"
    assert [c["kind"] for c in credentials["person"]["credentials"]] == ["pin"]
    assert pin["event"]["result"] == "granted" and pin["event"]["method"] == "pin"
    assert pin["event"]["person"]["name"] == "Li Wei" and pin["event"]["sig"]
    assert tag["event"]["method"] == "tag" and tag["event"]["result"] == "denied"
    for decision in (pin, tag):
        assert not {"image", "embedding", "vector", "value"} & set(decision["event"])
        assert PIN not in json.dumps(decision)
    assert door["change"] == "door" and door["door"]["enabled"] == ["card", "tag"]


def test_decisions_on_the_stream_are_the_signed_events_published_on_mqtt(
    env: Env, mqtt_listener: Subscriber
) -> None:
    key = bytes.fromhex(env.api.get("/api/installation").data["event_key"])
    stream = Stream(env.server.url, env.server.token)
    try:
        person_id = env.person()
        env.api.post(f"/api/people/{person_id}/credentials", {"kind": "card", "value": CARD})
        granted = env.api.post(
            "/api/access/credential", {"door": "lobby", "kind": "card", "value": CARD}
        ).data
        denied = env.api.post(
            "/api/access/credential", {"door": "lobby", "kind": "tag", "value": "nobody's"}
        ).data
        for event in (granted, denied):
            sent = stream.wait_for(lambda m, e=event: m.get("event", {}).get("id") == e["id"])
            assert sent == {"type": "decision", "event": event}
            # The broker carries the very same fields, sig and ts included.
            assert mqtt_listener.wait_for(
                lambda got, e=event: any(
                    m.topic == "facegate/lobby/access" and json.loads(m.payload) == e for m in got
                ),
                5,
            )
            assert isinstance(event["ts"], float) and abs(event["ts"] - time.time()) < 10
            assert verify(sent["event"], key)
        assert (granted["result"], denied["result"]) == ("granted", "denied")
    finally:
        stream.close()


def test_every_change_the_integration_shows_reaches_the_stream(env: Env) -> None:
    stream = Stream(env.server.url, env.server.token)
    api = env.api
    try:
        person_id = env.person()
        api.patch(f"/api/people/{person_id}", {"leaves_on": "2099-01-01"})
        env.consent(person_id)
        api.post(
            f"/api/people/{person_id}/consent/renew",
            {"agree": True, "notice_version": env.notice, "days": 30},
        )
        api.post(f"/api/people/{person_id}/consent/withdraw")
        credential = api.post(
            f"/api/people/{person_id}/credentials", {"kind": "tag", "value": "tag-0042"}
        ).data
        api.delete(f"/api/people/{person_id}/credentials/{credential['id']}")
        api.post("/api/doors/lobby/methods", {"method": "tag", "enabled": False})
        api.delete(f"/api/people/{person_id}")
        stream.wait_for(lambda m: m.get("change") == "person_erased")
        changes = [m for m in stream.messages() if m["type"] == "state"]
    finally:
        stream.close()
    assert [m["change"] for m in changes] == [
        "snapshot",
        "person_created",
        "person_updated",
        "consent_given",
        "consent_renewed",
        "consent_withdrawn",
        "credentials",
        "credentials",
        "door",
        "person_erased",
    ]
    by_change = {m["change"]: m for m in changes[1:]}
    assert by_change["person_updated"]["person"]["leaves_on"] == "2099-01-01"
    assert by_change["consent_given"]["person"]["consent"]["status"] == "live"
    assert by_change["consent_withdrawn"]["person"]["consent"]["status"] == "withdrawn"
    added, removed = (m for m in changes if m["change"] == "credentials")
    assert [c["kind"] for c in added["person"]["credentials"]] == ["tag"]
    assert removed["person"]["credentials"] == []
    assert by_change["door"]["door"]["enabled"] == ["card", "pin"]
    assert by_change["person_erased"] == {
        "type": "state",
        "change": "person_erased",
        "ts": by_change["person_erased"]["ts"],
        "person_id": person_id,
        "person": None,
    }
    assert all(m["person_id"] == person_id for m in changes[1:] if m["change"] != "door")
    assert "tag-0042" not in json.dumps(changes)


def test_camera_going_offline_and_back_reaches_the_stream(
    make_env: Callable[..., Env], rtsp_server: RtspServer
) -> None:
    env = make_env(rtsp_server.url)
    stream = Stream(env.server.url, env.server.token)

    def camera_states() -> list[bool]:
        return [m["online"] for m in stream.messages() if m["type"] == "camera"]

    try:
        snapshot = stream.wait_for(lambda m: m.get("change") == "snapshot")
        door = next(d for d in snapshot["doors"] if d["id"] == "front_door")
        assert door["camera"]["name"] == "front_cam"
        online = {"type": "camera", "camera": "front_cam", "online": True}
        if not door["camera"]["online"]:  # still connecting when the client joined
            stream.wait_for(lambda m: m == online)
        rtsp_server.stop()
        stream.wait_for(lambda m: m == {**online, "online": False}, 15)
        rtsp_server.start()  # the same port: a camera that rebooted
        deadline = time.monotonic() + 25
        while camera_states()[-1] is False and time.monotonic() < deadline:
            time.sleep(0.1)
        states = camera_states()
    finally:
        stream.close()
    assert states[-2:] == [False, True], states
    assert all(a != b for a, b in itertools.pairwise(states)), "one message per change"


def test_the_broker_going_away_and_back_reaches_the_stream_and_the_health(
    env: Env, mosquitto: Mosquitto
) -> None:
    """While the broker is gone no MQTT lock can open: Home Assistant hears it at once."""
    stream = Stream(env.server.url, env.server.token)

    def broker_states() -> list[bool]:
        return [m["connected"] for m in stream.messages() if m["type"] == "mqtt"]

    try:
        stream.wait_for(lambda m: m.get("change") == "snapshot")
        assert env.api.get("/api/health").data["mqtt_connected"] is True
        mosquitto.stop()
        stream.wait_for(lambda m: m == {"type": "mqtt", "connected": False}, 15)
        assert env.api.get("/api/health").data["mqtt_connected"] is False
        mosquitto.start()  # the same port; the link reconnects by itself (1 s .. 30 s)
        stream.wait_for(lambda m: m == {"type": "mqtt", "connected": True}, 40)
        assert env.api.get("/api/health").data["mqtt_connected"] is True
    finally:
        stream.close()
    assert broker_states() == [False, True]


def test_slow_event_clients_are_dropped_and_the_rest_keep_up() -> None:
    async def run() -> None:
        hub = EventHub(queue_size=3)
        hub.attach(asyncio.get_running_loop())
        slow, fast = hub.subscribe(), hub.subscribe()
        assert slow is not None and fast is not None
        for n in range(3):
            hub.state("test", n=n)
            await fast.queue.get()
        hub.state("test", n=3)  # slow is now 4 behind: dropped
        assert slow.dropped and hub.clients == 1 and hub.dropped_clients == 1
        last = slow.queue.get_nowait()
        assert isinstance(last, Close) and last.code == 1013 and slow.queue.empty()
        assert json.loads(str(await fast.queue.get()))["n"] == 3
        # Decisions come from engine threads and never raise there, even after shutdown.
        threading.Thread(target=hub.on_decision, args=({"door": "x"},)).start()
        message = json.loads(str(await asyncio.wait_for(fast.queue.get(), 5)))
        assert message == {"type": "decision", "event": {"door": "x"}}
        hub.close()
        assert isinstance(fast.queue.get_nowait(), Close)
        hub.on_decision({"door": "y"})
        assert hub.subscribe() is None
        full = EventHub(max_clients=1)
        assert full.subscribe() is not None and full.subscribe() is None

    asyncio.run(run())


def test_api_server_stops_in_bounded_time_with_a_client_connected(env: Env) -> None:
    url, token = env.server.url, env.server.token
    closed: list[int | None] = []
    connected = threading.Event()

    async def listen() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.ws_connect(f"{url}/api/events") as ws,
        ):
            await ws.receive_json(timeout=10)
            connected.set()
            message = await ws.receive(timeout=15)
            closed.append(ws.close_code if message.type != aiohttp.WSMsgType.ERROR else -1)

    client = threading.Thread(target=asyncio.run, args=(listen(),))
    client.start()
    assert connected.wait(10)
    started = time.monotonic()
    env.server.stop()
    assert time.monotonic() - started < 5
    client.join(10)
    assert closed == [1001]  # going away
    # The port is free again, and a second server on a taken port says why it cannot start.
    other = ApiServer(env.engine, "127.0.0.1", 0)
    other.start()
    try:
        clash = ApiServer(env.engine, "127.0.0.1", other.port)
        with pytest.raises(FacegateError, match="cannot listen"):
            clash.start()
    finally:
        other.stop()


def test_config_api_section_has_defaults_and_names_bad_keys(tmp_path: Path) -> None:
    base = {
        "data_dir": str(tmp_path),
        "mqtt": {"host": "127.0.0.1"},
        "doors": {"lobby": {"methods": ["pin"], "lock": {"command_topic": "a/b"}}},
    }
    default = parse(base)
    assert (default.api.host, default.api.port) == ("127.0.0.1", 8765)
    port = free_port()
    custom = parse({**base, "api": {"host": "0.0.0.0", "port": port}})
    assert (custom.api.host, custom.api.port) == ("0.0.0.0", port)
    for api, key in (
        ({"port": 0}, "api.port"),
        ({"port": "x"}, "api.port"),
        ({"host": ""}, "api.host"),
        ({"tls": True}, "api.tls"),
    ):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            parse({**base, "api": api})
