"""The resident's own pages, as a phone sees them: the real engine and its keypad door on a real
mosquitto, the administrator API, and the resident pages on their own listener, visited by an
HTTP client that keeps cookies like a browser (no JavaScript is needed by any page)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Env
from facegate.web.resident import phone_key
from facegate.web.resident.phone_key import BAD_KEYS
from facegate.web.server import ResidentServer
from web_client import Page, Phone

pytest_plugins = ["conftest_mqtt", "conftest_rtsp", "conftest_api"]

PIN = "482913"


@pytest.fixture
def pages(env: Env) -> Iterator[str]:
    server = ResidentServer(env.engine, "127.0.0.1", 0)
    server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def _invite(env: Env, person_id: str) -> str:
    reply = env.api.post(f"/api/people/{person_id}/invitation")
    assert reply.status == 201, reply
    assert reply.data["qr_svg"].startswith("<svg")
    assert reply.data["qr_data_uri"].startswith("data:image/svg+xml;")
    return "/invite/" + reply.data["url"].rsplit("/invite/", 1)[1]


def _opened(env: Env, pages: str, name: str = "Li Wei", lang: str = "en", **fields: Any) -> Phone:
    phone = Phone(pages, lang)
    link = _invite(env, env.person(name, **fields))
    assert phone.get(link).status == 200
    welcome = phone.post(link, {})
    assert welcome.status == 200, welcome.text
    return phone


def test_r2_a_resident_consents_on_their_own_phone_and_sets_a_pin(env: Env, pages: str) -> None:
    person_id = env.person("Li Wei")
    link = _invite(env, person_id)
    phone = Phone(pages, "zh-CN,zh;q=0.9")
    opened = phone.get(link)
    # Opening the link spends nothing (a chat app's preview must not use it up): a button does.
    assert opened.status == 200 and phone.cookie("fg_session") is None
    assert "只能使用一次" in opened.text and '<form method="post"' in opened.text
    welcome = phone.post(link, {})
    assert (
        welcome.status == 200
        and "Li Wei\uff0c您好" in welcome.text
        and 'lang="zh-Hans"' in welcome.text
    )
    cookie = phone.cookie("fg_session")
    assert cookie is not None and cookie.has_nonstandard_attr("HttpOnly")
    assert "SameSite=Strict" in welcome.headers.get("Set-Cookie", "")
    assert welcome.headers["Referrer-Policy"] == "same-origin"

    notice = phone.get("/notice")
    assert env.notice in notice.text and "目的" in notice.text
    assert "notice_shown" in env.audit_kinds()
    form = phone.get("/consent")
    # Nothing pre-ticked (R2), and declining is a button of the same kind as agreeing.
    assert re.search(r'<input type="checkbox" id="agree" name="agree" value="yes">', form.text)
    assert "checked" not in form.text
    assert form.text.count('<button type="submit" name="choice"') == 2
    unticked = phone.post(
        "/consent",
        {"csrf": form.csrf(), "notice_version": env.notice, "signer": "李伟", "choice": "agree"},
    )
    assert "操作未成功" in unticked.text and env.engine.store.live_consent(person_id) is None
    agreed = phone.post(
        "/consent",
        {"csrf": form.csrf(), "notice_version": env.notice, "signer": "李伟", "agree": "yes",
         "choice": "agree"},
    )  # fmt: skip
    assert agreed.status == 200 and "登记人脸" in agreed.text
    consent = env.engine.store.live_consent(person_id)
    assert consent is not None and (consent.signer, consent.method) == ("李伟", "signed_name")
    assert consent.entered_by is None  # the resident's own act, entered by nobody else

    pin_form = phone.get("/pin")
    differ = phone.post("/pin", {"csrf": pin_form.csrf(), "pin": PIN, "pin_again": "482914"})
    assert "两次输入的密码不一致" in differ.text
    weak = phone.post("/pin", {"csrf": pin_form.csrf(), "pin": "123456", "pin_again": "123456"})
    # The engine's refusal, said in the page's language.
    assert "操作未成功" in weak.text
    assert "太容易被猜到\uff08同一个数字重复或连续数字\uff09" in weak.text
    saved = phone.post("/pin", {"csrf": pin_form.csrf(), "pin": PIN, "pin_again": PIN})
    assert "密码已设置" in saved.text and PIN not in saved.text
    event = env.engine.present_credential("lobby", "pin", PIN)
    assert (event["result"], event["person"]) == ("granted", {"id": person_id, "name": "Li Wei"})
    # A second PIN replaces the first.
    again = phone.post("/pin", {"csrf": pin_form.csrf(), "pin": "693827", "pin_again": "693827"})
    assert "密码已设置" in again.text
    assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "unknown"
    assert [c.kind for c in env.engine.store.credentials(person_id)] == ["pin"]
    # The language switch is remembered.
    english = phone.get("/?lang=en")
    assert "Your door access" in english.text and "Lobby" in english.text
    assert "Your door access" in phone.get("/").text


def test_r2_declining_the_face_leads_to_a_pin_and_is_on_record(env: Env, pages: str) -> None:
    phone = _opened(env, pages, "Wang Fang")
    person_id = env.engine.store.people()[0].id
    form = phone.get("/consent")
    declined = phone.post(
        "/consent", {"csrf": form.csrf(), "notice_version": env.notice, "choice": "decline"}
    )
    assert "No face will be used" in declined.text and 'name="pin"' in declined.text
    assert env.engine.store.consents(person_id) == []
    assert "consent_declined" in env.audit_kinds()


def test_r3_a_child_s_consent_is_given_by_a_guardian(env: Env, pages: str) -> None:
    phone = _opened(env, pages, "Chen Xiaoming", minor=True)
    person_id = env.engine.store.people()[0].id
    form = phone.get("/consent")
    assert "under 14" in form.text and 'name="guardian"' in form.text
    fields = {"csrf": form.csrf(), "notice_version": env.notice, "agree": "yes", "choice": "agree"}
    alone = phone.post("/consent", {**fields, "signer": "Chen Xiaoming"})
    assert (
        "must give this consent" in alone.text and env.engine.store.live_consent(person_id) is None
    )
    phone.post("/consent", {**fields, "signer": "Chen Hua", "guardian": "Chen Hua"})
    consent = env.engine.store.live_consent(person_id)
    assert consent is not None and consent.guardian == "Chen Hua"


def test_r7_a_resident_exports_then_erases_and_the_door_and_the_link_stop(
    env: Env, pages: str
) -> None:
    person_id = env.person("Zhao Min")
    link = _invite(env, person_id)
    phone = Phone(pages)
    phone.post(link, {})
    form = phone.get("/pin")
    phone.post("/pin", {"csrf": form.csrf(), "pin": PIN, "pin_again": PIN})
    export = phone.get("/data/export")
    assert export.headers["Content-Disposition"].startswith("attachment")
    document = json.loads(export.text)
    assert document["person"]["name"] == "Zhao Min" and PIN not in export.text
    erase = phone.get("/data/erase")
    unconfirmed = phone.post("/data/erase", {"csrf": erase.csrf()})
    assert unconfirmed.status == 200 and env.engine.store.people()
    receipt = phone.post("/data/erase", {"csrf": erase.csrf(), "confirm": "yes"})
    assert "Deletion receipt" in receipt.text and "PINs, cards and keys: 1" in receipt.text
    assert env.engine.store.people() == []
    assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "unknown"
    assert phone.get("/").status == 401  # the session went with the person
    assert phone.get(link).status == 410


def test_an_expired_reused_replaced_or_forged_invitation_is_refused(env: Env, pages: str) -> None:
    person_id = env.person("Li Wei")
    link = _invite(env, person_id)
    preview = Phone(pages)
    assert preview.get(link).status == 200 and preview.get(link).status == 200
    assert Phone(pages).post(link, {}).status == 200
    reused = Phone(pages).get(link)
    assert reused.status == 410 and "already used" in reused.text
    assert Phone(pages).post(link, {}).status == 410
    first, second = _invite(env, person_id), _invite(env, person_id)
    replaced = Phone(pages).get(first)
    assert replaced.status == 410 and "replaced" in replaced.text
    assert Phone(pages).post(second, {}).status == 200
    _invitation, token = env.engine.store.invite(person_id, hours=0.5 / 3600)
    time.sleep(0.6)
    expired = Phone(pages).get(f"/invite/{token}")
    assert expired.status == 410 and "expired" in expired.text
    forged = Phone(pages).get("/invite/" + "A" * 43)
    assert forged.status == 410 and "not valid" in forged.text
    # An address that keeps trying is refused for a while.
    phone = Phone(pages)
    statuses = [phone.get(f"/invite/guess{i}").status for i in range(12)]
    assert statuses[-1] == 429 and 410 in statuses
    kinds = env.audit_kinds()
    assert kinds.count("invitation_used") == 2 and "invitation_created" in kinds


def test_every_form_needs_the_session_s_own_csrf_token(env: Env, pages: str) -> None:
    phone = _opened(env, pages, "Li Wei")
    other = _opened(env, pages, "Wang Fang")
    foreign = other.get("/pin").csrf()
    for token in ("", foreign):
        refused = phone.post("/pin", {"csrf": token, "pin": PIN, "pin_again": PIN})
        assert refused.status == 403 and "expired" in refused.text
    assert all(
        c.kind != "pin"
        for p in env.engine.store.people()
        for c in env.engine.store.credentials(p.id)
    )
    assert Phone(pages).get("/data").status == 401  # no session, no page
    # A form posted from another site is refused, even with the right token.
    request = urllib.request.Request(
        pages + "/pin",
        data=urllib.parse.urlencode(
            {"csrf": phone.get("/pin").csrf(), "pin": PIN, "pin_again": PIN}
        ).encode(),
        headers={
            "Origin": "http://evil.example",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        phone.opener.open(request, timeout=10)
    assert refused.value.code == 403


def test_the_phone_key_s_calls_refuse_bad_bodies_clearly(env: Env, pages: str) -> None:
    phone = _opened(env, pages, "Li Wei")
    csrf = {"X-CSRF-Token": phone.get("/pin").csrf()}
    for body in (b"not json", b"[1, 2]"):
        reply = phone.request("/phone/open/options", body, "application/json", csrf)
        assert reply.status == 400 and "JSON" in json.loads(reply.text)["error"], reply.text
    unknown = phone.request("/phone/open/options", b'{"door": "vault"}', "application/json", csrf)
    assert unknown.status == 404 and "vault" in json.loads(unknown.text)["error"]
    stale = phone.request("/phone/open", b"{}", "application/json", csrf)
    assert stale.status == 400 and "expired" in json.loads(stale.text)["error"]
    forged = phone.request("/phone/register/options", b"{}", "application/json")
    assert forged.status == 403  # no CSRF header: refused before anything is generated


def _grey_jpeg() -> bytes:
    import cv2  # the vision stack, in the engine's own test environment
    import numpy as np

    return bytes(cv2.imencode(".jpg", np.full((480, 640, 3), 128, np.uint8))[1])


def _phone_key_session(make_env: Callable[..., Env]) -> tuple[Env, ResidentServer, Phone, str]:
    """A resident of a lobby that opens by phone, with a phone key on record (its public key
    is never read by these refusals), and the pages' CSRF header."""
    env = make_env(phone=True)
    server = ResidentServer(env.engine, "127.0.0.1", 0)
    server.start()
    phone = _opened(env, f"http://127.0.0.1:{server.port}", "Li Wei")
    person_id = env.engine.store.people()[0].id
    env.engine.store.add_passkey(person_id, webauthn_id="a2V5", public_key=b"\0", sign_count=0)
    return env, server, phone, phone.get("/pin").csrf()


def _open_by_phone(phone: Phone, csrf: str, credential: bytes) -> Page:
    headers = {"X-CSRF-Token": csrf}
    options = phone.request(
        "/phone/open/options", b'{"door": "lobby"}', "application/json", headers
    )
    assert options.status == 200, options.text
    return phone.request("/phone/open", credential, "application/json", headers)


def test_r12_a_phone_key_that_keeps_failing_is_paused(make_env: Callable[..., Env]) -> None:
    _env, server, phone, csrf = _phone_key_session(make_env)
    try:
        for _ in range(BAD_KEYS):
            forged = _open_by_phone(phone, csrf, b'{"id": "c29tZW9uZSBlbHNl"}')
            assert forged.status == 400 and "not this person's" in forged.text
        paused = _open_by_phone(phone, csrf, b'{"id": "a2V5"}')
        assert paused.status == 429 and "too often" in json.loads(paused.text)["error"]
    finally:
        server.stop()


def test_r5_a_phone_key_from_outside_the_local_network_is_refused_on_record(
    make_env: Callable[..., Env], monkeypatch: pytest.MonkeyPatch
) -> None:
    env, server, phone, csrf = _phone_key_session(make_env)
    try:
        # The test's phone is on loopback: this is where a public address would be told apart.
        monkeypatch.setattr(phone_key, "_local", lambda _address: False)
        refused = json.loads(_open_by_phone(phone, csrf, b'{"id": "a2V5"}').text)
        assert refused["result"] == "denied" and "own network" in refused["says"]
        deadline = time.monotonic() + 10
        while not env.engine.store.recent_access(1) and time.monotonic() < deadline:
            time.sleep(0.05)
        [(entry, name)] = env.engine.store.recent_access(1)
        assert (entry.door, entry.data["method"], entry.data["reason"], name) == (
            "lobby", "phone", "not_local", "Li Wei",
        )  # fmt: skip
    finally:
        server.stop()


def test_r9_the_pages_load_nothing_from_another_origin(env: Env, pages: str) -> None:
    phone = _opened(env, pages, "Li Wei")
    invitation = _invite(env, env.engine.store.add_person("Wang Fang").id)
    pages_ = (invitation, "/", "/notice", "/consent", "/pin", "/phone", "/data", "/data/erase")
    for path in (*pages_, "/face"):
        page = phone.get(path)
        assert page.status == 200, path
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        for link in re.findall(r'(?<![\w-])(?:src|href|action)="([^"]*)"', page.text):
            assert link == "" or link.startswith(("/", "?", "#")), (path, link)
    assert phone.get("/static/style.css").status == 200


def test_r10_a_face_is_enrolled_from_photos_on_the_phone(
    env: Env, pages: str, faces: Path, tmp_path: Path
) -> None:
    phone = _opened(env, pages, "Barack Obama")
    person_id = env.engine.store.people()[0].id
    photo = faces / "enroll/barack_obama/obama.jpg"
    early = phone.upload("/face/check", phone.get("/face").csrf(), [photo])
    # No face is analysed before consent (R2): the camera's live check says so.
    assert early.status == 409 and "consent" in json.loads(early.text)["error"]
    form = phone.get("/consent")
    phone.post(
        "/consent",
        {"csrf": form.csrf(), "notice_version": env.notice, "agree": "yes",
         "signer": "Barack Obama", "choice": "agree"},
    )  # fmt: skip
    # The live check while the camera is on: what an enrolment would say, nothing stored.
    csrf = phone.get("/face").csrf()
    assert json.loads(phone.upload("/face/check", csrf, [photo]).text)["ready"] is True
    wall = tmp_path / "wall.jpg"
    wall.write_bytes(_grey_jpeg())
    nobody = json.loads(phone.upload("/face/check", csrf, [wall]).text)
    assert nobody == {"ready": False, "says": "The camera's picture: no face found"}
    assert env.engine.store.template_count(person_id) == 0
    two = phone.upload("/face/check", csrf, [photo, photo])
    assert two.status == 400 and "at most 1" in json.loads(two.text)["error"]
    photos = [photo, faces / "enroll/barack_obama/obama2.jpg"]
    done = phone.upload("/face", phone.get("/face").csrf(), photos)
    assert done.status == 200 and "2 photo(s) enrolled" in done.text, done.text
    assert env.engine.store.template_count(person_id) == 2
    # Somebody else's photo among them refuses the lot, saying which.
    mixed = phone.upload(
        "/face", phone.get("/face").csrf(), [photos[0], faces / "enroll/joe_biden/biden.jpg"]
    )
    assert "did not work" in mixed.text and env.engine.store.template_count(person_id) == 2


def test_the_looping_demo_invites_a_resident_whose_pages_open(models_dir: Path) -> None:
    """`facegate demo` without --once keeps running after the clip and prints an invitation
    link (and its QR code) for a demo resident; the link opens their pages."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "facegate.cli", "demo", "--seconds", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        deadline, link, camera = time.monotonic() + 90, None, None
        while link is None and time.monotonic() < deadline:
            line = demo.stdout.readline()
            assert line, "the demo ended before it printed an invitation"
            found = re.search(r"(http://127\.0\.0\.1:\d+)(/invite/\S+)", line)
            if found:
                link = found.groups()
            if started := re.search(r"camera: rtsp://127\.0\.0\.1:(\d+)/", line):
                camera = started.group(1)
        assert link is not None
        phone = Phone(link[0])
        assert "Welcome, Demo resident" in phone.get(link[1]).text
        welcome = phone.post(link[1], {})
        assert welcome.status == 200 and "Face unlock is optional" not in welcome.text
        assert phone.get("/").status == 200
        assert demo.poll() is None  # still running, the door still watched
    finally:
        demo.terminate()
        demo.wait(20)
    # It unwound: the camera server it started is gone too.
    assert camera is not None
    left = subprocess.run(
        ["pgrep", "-f", f"simulated_camera_server.py .*--port {camera} "],
        capture_output=True,
        text=True,
        check=False,
    )
    assert left.stdout == ""


def test_the_doors_keep_working_when_the_pages_cannot_listen(
    tmp_path: Path, models_dir: Path, mosquitto
) -> None:
    """`facegate run` with the resident pages' port already taken: the engine and its API run
    on and say why the pages are not served."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    api_port = free.getsockname()[1]
    free.close()
    config = tmp_path / "facegate.yaml"
    config.write_text(
        json.dumps(
            {
                "data_dir": str(tmp_path / "data"),
                "models_dir": str(models_dir),
                "mqtt": {"host": "127.0.0.1", "port": mosquitto.port},
                "api": {"host": "127.0.0.1", "port": api_port},
                "residents": {"host": "127.0.0.1", "port": taken.getsockname()[1]},
                "doors": {"lobby": {"methods": ["pin"], "lock": {"command_topic": "t/lobby"}}},
            }
        )
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "facegate.cli", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert run.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while not any("resident pages not served" in line for line in seen):
            assert time.monotonic() < deadline and run.poll() is None, "".join(seen)
            seen.append(run.stdout.readline())
        assert any("API at http://127.0.0.1:" in line for line in seen)
        time.sleep(0.5)
        assert run.poll() is None  # still running: the doors do not need the pages
    finally:
        run.terminate()
        run.wait(20)
        taken.close()
