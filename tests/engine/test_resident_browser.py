"""The resident journeys in a real browser, each in Simplified Chinese and in English: Debian's
headless Chromium driven by Playwright (`executable_path`, no browser download) on a
phone-sized screen, against the real engine with a real RTSP door camera and mosquitto. The
phone's camera is Chromium's fake capture device playing a photo or a clip; the phone key is
Chromium's virtual authenticator. Buttons and texts are found by the pages' own words
(web/resident/words.py), so both languages walk the same steps. Every request is recorded:
none may go to another origin (R9). Screenshots of every step: conftest_browser.py.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Env
from conftest_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, Journey
from facegate.clip import build_clip
from facegate.simulated_camera import RtspServer
from facegate.web.resident.words import REFUSALS, WORDS
from facegate.web.server import ResidentServer

pytest_plugins = ["conftest_mqtt", "conftest_rtsp", "conftest_api", "conftest_browser"]

PIN = "482913"
LOCALES = {"zh-Hans": "zh-CN", "en": "en-GB"}  # what each phone's browser asks for
LANGS = pytest.mark.parametrize("lang", list(LOCALES))
# The engine's refusals, as each page says them (REFUSALS has the Chinese; English is the
# engine's own message).
SAID = {
    "zh-Hans": {key: text.split("{")[-1].split("}")[-1] for key, text in REFUSALS.items()},
    "en": {
        "not_live": "a photo of a photo or of a screen",
        "link_expired": "this invitation link has expired",
        "link_invalid": "this invitation link is not valid",
        "link_used": "this invitation link was already used",
    },
}
SAID["zh-Hans"]["not_live"] = "屏幕上的画面"

Words = Callable[..., str]


def _words(lang: str) -> Words:
    """A page's words: whole, with its blanks filled, or without values the part before the
    first blank (enough to find a button or a label)."""
    table = WORDS[lang]

    def say(key: str, **values: Any) -> str:
        text = table[key]
        return text.format(**values) if values else text.split("{")[0].strip()

    return say


@pytest.fixture(scope="module")
def obama_clip(tmp_path_factory, faces) -> Path:
    out = tmp_path_factory.mktemp("clips") / "obama.mp4"
    photos = [faces / "enroll/barack_obama/obama2.jpg", faces / "enroll/barack_obama/obama3.jpg"]
    return build_clip(photos, out, seconds=3.0, fps=10, blank_seconds=1.0)


def _y4m(source: Path, out: Path, *, still: bool = False) -> Path:
    """What the phone's camera sees, as the Y4M video Chromium's fake capture device plays
    (in a loop): a photo held still, or a clip."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", *(["-loop", "1"] if still else []), "-i", str(source),
         "-t", "2" if still else "4", "-r", "10",
         "-vf", "scale=640:480:force_original_aspect_ratio=decrease,"
         "pad=640:480:(ow-iw)/2:(oh-ih)/2", "-pix_fmt", "yuv420p", str(out)],
        check=True,
        timeout=120,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def camera_feed(tmp_path_factory, faces) -> Path:
    out = tmp_path_factory.mktemp("camera") / "obama.y4m"
    return _y4m(faces / "enroll/barack_obama/obama.jpg", out, still=True)


def _with_camera(driver: Any, feed: Path) -> Any:
    fake_camera = [
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={feed}",
    ]
    return driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera)


def _pages(env: Env) -> tuple[ResidentServer, str]:
    server = ResidentServer(env.engine, "localhost", 0)
    server.start()
    return server, f"http://localhost:{server.port}"


def _granted(decisions: list[dict[str, Any]], within_s: float = 30.0) -> list[dict[str, Any]]:
    """The grants the door camera's stream has led to, waiting for the first."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and not any(d["result"] == "granted" for d in decisions):
        time.sleep(0.2)
    return [d for d in decisions if d["result"] == "granted"]


def _invitation(env: Env, person: str, base: str) -> str:
    url = env.api.post(f"/api/people/{person}/invitation").data["url"]
    return base + "/invite/" + url.rsplit("/invite/", 1)[1]


def _camera_enrols(page: Any, say: Words, phone: Journey | None = None) -> None:
    """Turn the camera on, wait for the engine's "ready", take the three photos."""
    page.get_by_role("button", name=say("camera_on")).click()
    page.wait_for_selector(f"text={say('camera_ready')}", timeout=20_000)
    if phone is not None:
        phone.shot("camera-ready")
    page.get_by_role("button", name=say("camera_button")).click()
    page.wait_for_selector(f"text={say('enrolled', count=3)}", timeout=30_000)


@LANGS
def test_r2_a_resident_consents_enrols_with_the_phone_s_camera_and_the_door_opens(
    lang: str, make_env, *, obama_clip: Path, camera_feed: Path, driver: Any, shots: Path
) -> None:
    say = _words(lang)
    camera = RtspServer(obama_clip, loop=True).start()
    env: Env = make_env(camera.url)
    decisions: list[dict[str, Any]] = []
    env.engine.add_listener(lambda event: decisions.append(dict(event)))
    server, base = _pages(env)
    browser = _with_camera(driver, camera_feed)
    try:
        phone = Journey(browser, base, LOCALES[lang], shots, f"{lang}-face")
        phone.context.grant_permissions(["camera"], origin=base)
        page = phone.page
        person = env.person("Barack Obama")
        page.goto(_invitation(env, person, base))
        phone.shot("invitation")
        page.get_by_role("button", name=say("start")).click()
        phone.shot("welcome")
        page.get_by_role("link", name=say("continue")).click()
        assert env.notice in page.content()  # the live notice, its version shown (R1)
        phone.shot("notice")
        page.get_by_role("link", name=say("continue")).click()
        agree = page.get_by_label(say("agree_box"))
        assert not agree.is_checked()  # nothing pre-ticked (R2)
        phone.shot("consent")
        agree.check()
        page.get_by_label(say("signature")).fill("Barack Obama")
        page.get_by_role("button", name=say("agree_button")).click()
        phone.shot("face")
        _camera_enrols(page, say, phone)
        phone.shot("enrolled")
        assert env.engine.store.template_count(person) == 3
        granted = _granted(decisions)  # the door camera's stream lets the resident in by face
        assert granted and granted[0]["person"]["id"] == person
        assert granted[0]["method"] == "face"
        assert phone.foreign() == []
    finally:
        browser.close()
        server.stop()
        camera.stop()


def _virtual_authenticator(phone: Journey) -> None:
    cdp = phone.context.new_cdp_session(phone.page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )


@LANGS
def test_r4_a_resident_declines_the_face_opens_with_a_pin_and_a_phone_key_then_erases(
    lang: str, make_env, browser: Any, shots: Path
) -> None:
    say = _words(lang)
    env: Env = make_env(phone=True)
    server, base = _pages(env)
    try:
        phone = Journey(browser, base, LOCALES[lang], shots, f"{lang}-declined")
        _virtual_authenticator(phone)
        page = phone.page
        person = env.person("Wang Fang")
        link = _invitation(env, person, base)
        page.goto(link)
        page.get_by_role("button", name=say("start")).click()
        page.get_by_role("link", name=say("continue")).click()
        page.get_by_role("link", name=say("continue")).click()
        page.get_by_role("button", name=say("decline_button")).click()
        assert say("declined") in page.content()
        phone.shot("declined")
        page.get_by_label(say("pin_first")).fill(PIN)
        page.get_by_label(say("pin_again")).fill(PIN)
        page.get_by_role("button", name=say("pin_button")).click()
        assert say("pin_saved") in page.content()
        phone.shot("home")
        event = env.engine.present_credential("lobby", "pin", PIN)
        assert (event["result"], event["person"]["name"]) == ("granted", "Wang Fang")

        # The phone key: registered on this phone, then "Open: Lobby" signs a fresh challenge.
        page.get_by_role("link", name=say("phone_key")).click()
        page.get_by_role("button", name=say("phone_register")).click()
        page.wait_for_selector(f"text={say('phone_registered')}", timeout=15_000)
        [key] = env.engine.store.passkeys(person)
        page.get_by_role("button", name=say("phone_open", door="Lobby")).click()
        page.wait_for_selector(f"text={say('phone_opened', door='Lobby')}", timeout=15_000)
        phone.shot("phone-key")
        access = [e.data for e in env.engine.store.audit_entries() if e.kind == "access"]
        assert access[-1]["method"] == "phone" and access[-1]["result"] == "granted"
        # The key's id is no secret: presented without a signature it opens nothing.
        bare = env.engine.present_credential("lobby", "phone", key.webauthn_id)
        assert (bare["result"], bare["reason"]) == ("denied", "unknown")

        # My data: the export, then erasure; the door stops opening, the link is dead.
        page.goto(base + "/")
        page.get_by_role("link", name=say("my_data")).click()
        phone.shot("my-data")
        with page.expect_download() as download:
            page.get_by_role("link", name=say("export")).click()
        exported = json.loads(Path(download.value.path()).read_text())
        assert exported["person"]["name"] == "Wang Fang"
        assert sorted(c["kind"] for c in exported["credentials"]) == ["phone", "pin"]
        page.get_by_role("link", name=say("erase")).click()
        page.get_by_label(say("erase_confirm")).check()
        page.get_by_role("button", name=say("erase_button")).click()
        assert say("receipt") in page.content()
        phone.shot("receipt")
        assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "unknown"
        page.goto(base + "/")
        assert say("no_session") in page.content()
        page.goto(link)
        assert say("invalid_link") in page.content()
        assert phone.foreign() == []
    finally:
        server.stop()


@LANGS
def test_r3_a_guardian_consents_for_a_child_in_the_browser(
    lang: str, env: Env, browser: Any, shots: Path
) -> None:
    say = _words(lang)
    server, base = _pages(env)
    try:
        phone = Journey(browser, base, LOCALES[lang], shots, f"{lang}-guardian")
        page = phone.page
        child = env.person("Chen Xiaoming", minor=True)
        page.goto(_invitation(env, child, base))
        page.get_by_role("button", name=say("start")).click()
        page.goto(base + "/consent")
        intro = say("guardian_intro", name="Chen Xiaoming")
        assert intro in page.content()
        page.get_by_label(say("agree_box")).check()
        page.get_by_label(say("guardian_signature")).fill("Chen Hua")
        page.get_by_role("button", name=say("agree_button")).click()
        # No guardian named: refused, and nothing recorded (R3).
        assert intro in page.get_by_role("alert").inner_text()
        assert env.engine.store.live_consent(child) is None
        page.get_by_label(say("agree_box")).check()
        page.get_by_label(say("guardian_name")).fill("Chen Hua")
        page.get_by_label(say("guardian_signature")).fill("Chen Hua")
        phone.shot("guardian")
        page.get_by_role("button", name=say("agree_button")).click()
        consent = env.engine.store.live_consent(child)
        assert consent is not None
        assert (consent.guardian, consent.signer) == ("Chen Hua", "Chen Hua")
        assert phone.foreign() == []
    finally:
        server.stop()


@LANGS
def test_an_expired_reused_or_forged_invitation_is_refused_in_the_browser(
    lang: str, env: Env, browser: Any, shots: Path
) -> None:
    said = SAID[lang]
    server, base = _pages(env)
    try:
        phone = Journey(browser, base, LOCALES[lang], shots, f"{lang}-links")
        page = phone.page
        person = env.person("Li Wei")
        _invitation_row, token = env.engine.store.invite(person, hours=0.5 / 3600)
        time.sleep(0.6)
        page.goto(f"{base}/invite/{token}")
        assert said["link_expired"] in page.content()
        phone.shot("expired")
        page.goto(f"{base}/invite/{'x' * 43}")
        assert said["link_invalid"] in page.content()
        link = _invitation(env, env.person("Wang Fang"), base)
        page.goto(link)
        page.get_by_role("button", name=_words(lang)("start")).click()
        other = phone.context.browser.new_context(viewport=PHONE, locale=LOCALES[lang])
        try:
            second = other.new_page()
            second.goto(link)
            assert said["link_used"] in second.content()
        finally:
            other.close()
        assert phone.foreign() == []
    finally:
        server.stop()


@LANGS
def test_r12_an_enrolment_from_a_phone_screen_held_to_the_camera_is_refused(
    lang: str, make_env, *, shots: Path, driver: Any, faces: Path, tmp_path: Path
) -> None:
    """A real replay (a phone showing the person, held to a webcam) refused as the page's camera
    sees it, then the same person live accepted, at a face door that requires liveness."""
    say = _words(lang)
    clips = faces / "pad_real_dev/clips"
    replay = _y4m(clips / "replay/lestari_fake_c0.mp4", tmp_path / "replay.y4m")
    live = _y4m(clips / "live/lestari_real_c0.mp4", tmp_path / "live.y4m")
    env: Env = make_env("rtsp://127.0.0.1:9/away", liveness="required")
    server, base = _pages(env)
    person = env.person("Lestari")
    try:
        for feed in (replay, live):
            browser = _with_camera(driver, feed)
            try:
                phone = Journey(
                    browser, base, LOCALES[lang], shots,
                    f"{lang}-screen" if feed == replay else f"{lang}-live",
                )  # fmt: skip
                phone.context.grant_permissions(["camera"], origin=base)
                page = phone.page
                page.goto(_invitation(env, person, base))
                page.get_by_role("button", name=say("start")).click()
                if feed == replay:
                    page.goto(base + "/consent")
                    page.get_by_label(say("agree_box")).check()
                    page.get_by_label(say("signature")).fill("Lestari")
                    page.get_by_role("button", name=say("agree_button")).click()
                    page.get_by_role("button", name=say("camera_on")).click()
                    # The live check says it before anything is sent.
                    page.wait_for_selector(f"text={SAID[lang]['not_live']}", timeout=20_000)
                    phone.shot("camera-says-screen")
                    page.get_by_role("button", name=say("camera_button")).click()
                    alert = page.get_by_role("alert")
                    alert.wait_for(timeout=30_000)
                    assert SAID[lang]["not_live"] in alert.inner_text()
                    phone.shot("refused")
                    assert env.engine.store.template_count(person) == 0
                else:
                    page.goto(base + "/face")
                    _camera_enrols(page, say)
                    assert env.engine.store.template_count(person) == 3
                assert phone.foreign() == []
            finally:
                browser.close()
    finally:
        server.stop()
