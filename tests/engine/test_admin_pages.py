"""The administrator pages on the API's listener: the real engine on a real mosquitto, visited
by an HTTP client that keeps cookies like a browser. Who gets in (the API token's login, Home
Assistant's ingress only from its proxy), forms kept the administrator's (CSRF, origin), doors
and R4, people, invitations with their QR codes, groups, decisions and the audit chain."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable

from conftest_api import Env
from facegate.web.admin.guard import BAD_LOGINS
from facegate.web.server import ResidentServer
from web_client import Page, Phone

pytest_plugins = ["conftest_mqtt", "conftest_api"]

INGRESS = {"X-Ingress-Path": "/api/hassio_ingress/Zm9vYmFy", "X-Remote-User-Name": "wang"}


def _logged_in(env: Env, lang: str = "en") -> Phone:
    browser = Phone(f"http://127.0.0.1:{env.server.port}", lang)
    login = browser.get("/")
    assert login.status == 401 and 'name="token"' in login.text, login.text
    overview = browser.post("/admin/login", {"token": env.server.token})
    assert overview.status == 200 and "lobby" in overview.text, overview.text
    return browser


def _form(page: Page, action: str) -> bool:
    return f'action="{action}"' in page.text


def test_the_pages_ask_for_the_api_token_and_the_api_still_needs_it(env: Env) -> None:
    browser = Phone(f"http://127.0.0.1:{env.server.port}")
    page = browser.get("/")  # Home Assistant's "Open Web UI" lands here
    assert page.status == 401 and "Administrator login" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "script-src 'none'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    wrong = browser.post("/admin/login", {"token": "not-the-token-" * 3})
    assert wrong.status == 401 and "not the API token" in wrong.text
    assert browser.cookie("fg_admin") is None
    overview = browser.post("/admin/login", {"token": env.server.token})
    assert overview.status == 200
    cookie = browser.cookie("fg_admin")
    assert cookie is not None and cookie.has_nonstandard_attr("HttpOnly")
    assert "Health" in overview.text and "Everything works" in overview.text
    # The session cookie is not the API's token: the JSON API still asks for the bearer.
    assert env.api.get("/api/health", token="").status == 401
    # Logging out ends the session on the server, not only in the browser.
    stolen = cookie.value
    browser.post("/admin/logout", {"csrf": overview.csrf()})
    again = Phone(browser.base)
    again.jar.set_cookie(cookie)
    assert cookie.value == stolen and again.get("/admin/people").status == 401


def test_r12_wrong_tokens_from_one_address_are_limited(env: Env) -> None:
    browser = Phone(f"http://127.0.0.1:{env.server.port}")
    for _ in range(BAD_LOGINS):
        assert browser.post("/admin/login", {"token": "guess" * 8}).status == 401
    # Even the right token waits now: guessing gains nothing.
    limited = browser.post("/admin/login", {"token": env.server.token})
    assert limited.status == 429 and "Too many wrong tokens" in limited.text


def test_ingress_headers_are_believed_only_from_the_supervisors_proxy(
    make_env: Callable[..., Env],
) -> None:
    stranger = make_env()  # the default proxy, 172.30.32.2: this test's 127.0.0.1 is not it
    page = Phone(f"http://127.0.0.1:{stranger.server.port}").request("/admin/", headers=INGRESS)
    assert page.status == 401 and 'name="token"' in page.text
    proxied = make_env(ingress_proxy="127.0.0.1")
    browser = Phone(f"http://127.0.0.1:{proxied.server.port}")
    page = browser.request("/admin/", headers=INGRESS)
    assert page.status == 200 and "Signed in: wang" in page.text
    # Every link and form stays under the ingress path.
    prefix = INGRESS["X-Ingress-Path"]
    assert f'href="{prefix}/admin/people"' in page.text
    assert all(a.startswith(prefix) for a in re.findall(r'action="([^"]+)"', page.text))
    # A form through ingress needs the CSRF token too; with it, the change is made.
    people = browser.request(
        "/admin/people", b"name=Zhao+Lei", "application/x-www-form-urlencoded", INGRESS
    )
    assert people.status == 403
    body = f"name=Zhao+Lei&group=all-doors&csrf={page.csrf()}".encode()
    added = browser.request("/admin/people", body, "application/x-www-form-urlencoded", INGRESS)
    assert added.status == 200 and "Zhao Lei was added" in added.text
    forged = dict(INGRESS, **{"X-Ingress-Path": "/elsewhere"})
    assert browser.request("/admin/", headers=forged).status == 400


def test_forms_need_their_csrf_token_and_this_origin(env: Env) -> None:
    browser = _logged_in(env)
    csrf = browser.get("/admin/people").csrf()
    assert browser.post("/admin/people", {"name": "Chen Jie"}).status == 403
    other = browser.request(
        "/admin/people",
        f"name=Chen+Jie&csrf={csrf}".encode(),
        "application/x-www-form-urlencoded",
        {"Origin": "http://evil.example"},
    )
    assert other.status == 403
    assert "Chen Jie" not in browser.get("/admin/people").text
    assert browser.post("/admin/people", {"name": "Chen Jie", "csrf": csrf}).status == 200


def test_r4_a_face_door_keeps_another_method_on_the_pages(make_env: Callable[..., Env]) -> None:
    env = make_env("rtsp://127.0.0.1:9/nothing")  # a face door whose camera is away
    browser = _logged_in(env)
    overview = browser.get("/admin/")
    assert "camera front_cam is offline" in overview.text  # health names what needs a person
    assert _form(overview, "/admin/doors/front_door/pin")
    refused = browser.post(
        "/admin/doors/front_door/pin", {"enabled": "no", "csrf": overview.csrf()}
    )
    assert refused.status == 200 and "R4" in refused.text and 'role="alert"' in refused.text
    assert "pin" in env.api.get("/api/doors").data["doors"][1]["enabled"]
    turned = browser.post("/admin/doors/lobby/card", {"enabled": "no", "csrf": overview.csrf()})
    assert "card is now off" in turned.text
    lobby = env.api.get("/api/doors").data["doors"][0]
    assert lobby["id"] == "lobby" and "card" not in lobby["enabled"]


def test_people_invitations_and_groups_on_the_pages(env: Env) -> None:
    residents = ResidentServer(env.engine, "127.0.0.1", 0)
    residents.start()
    try:
        browser = _logged_in(env, "zh-Hans")
        people = browser.get("/admin/people")
        assert "添加人员" in people.text
        added = browser.post(
            "/admin/people", {"name": "王芳", "group": "all-doors", "csrf": people.csrf()}
        )
        assert added.status == 200 and "已添加 王芳" in added.text
        person_id = env.api.get("/api/people").data["people"][0]["id"]
        invited = browser.post(f"/admin/people/{person_id}/invitation", {"csrf": added.csrf()})
        assert 'src="data:image/svg+xml' in invited.text
        link = html.unescape(re.findall(r'id="invitation-link">([^<]+)<', invited.text)[0])
        phone = Phone(f"http://127.0.0.1:{residents.port}", "zh-Hans")
        path = "/invite/" + link.rsplit("/invite/", 1)[1]
        assert phone.get(path).status == 200
        revoked = browser.post(
            f"/admin/people/{person_id}/invitation/revoke", {"csrf": added.csrf()}
        )
        assert "已撤回 1 个邀请" in revoked.text
        assert phone.get(path).status == 410
        # Groups: none ticked, the person opens nothing (and the API says so).
        saved = browser.post(f"/admin/people/{person_id}/groups", {"csrf": added.csrf()})
        assert "通行组已保存" in saved.text
        assert env.api.get(f"/api/people/{person_id}").data["groups"] == []
        kinds = env.audit_kinds()
        assert {"person_created", "invitation_created", "invitation_revoked"} <= set(kinds)
        assert "groups_changed" in kinds
        assert browser.get("/admin/people/no-such-person").status == 404
    finally:
        residents.stop()


def test_decisions_and_the_audit_chain_on_the_pages(env: Env) -> None:
    person = env.person("Li Wei")
    assert env.api.post(f"/api/people/{person}/credentials", {"kind": "pin", "value": "482913"})
    for value in ("482913", "000000"):
        env.api.post("/api/access/credential", {"door": "lobby", "kind": "pin", "value": value})
    deadline = time.monotonic() + 10  # the audit entry is written just after the event
    while len(env.engine.store.recent_access(5)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    browser = _logged_in(env)
    decisions = browser.get("/admin/decisions").text
    rows = re.findall(r'<tr class="(granted|denied)">(.*?)</tr>', decisions, re.S)
    assert [r[0] for r in rows[:2]] == ["denied", "granted"]  # newest first
    assert "Li Wei" in rows[1][1] and "match" in rows[1][1] and "unknown" in rows[0][1]
    audit = browser.get("/admin/audit")
    assert re.search(r"The chain of \d+ entries .* is intact and signed", audit.text)
    with env.engine.store._transaction() as db:  # altered outside the engine
        db.execute("UPDATE audit SET data = '{}' WHERE seq = 2")
    broken = browser.get("/admin/audit")
    assert "The chain is broken at entry #2" in broken.text
    assert "the audit log is broken" in browser.get("/admin/").text
