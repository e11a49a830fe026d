"""The resident journeys in a real browser: Debian's headless Chromium driven by Playwright
(`executable_path`, no browser download) on a phone-sized screen, against the real engine with
a real RTSP door camera and mosquitto. Every request the pages make is recorded: none may go
to another origin (R9). Screenshots of each step go to $FACEGATE_SCREENSHOTS when set (the
README's come from there), else to the test's temporary directory.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Env
from conftest_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, Journey
from facegate.clip import build_clip
from facegate.simulated_camera import RtspServer
from facegate.web.server import ResidentServer

pytest_plugins = ["conftest_mqtt", "conftest_rtsp", "conftest_api", "conftest_browser"]

PIN = "482913"


@pytest.fixture(scope="module")
def obama_clip(tmp_path_factory, faces) -> Path:
    out = tmp_path_factory.mktemp("clips") / "obama.mp4"
    photos = [faces / "enroll/barack_obama/obama2.jpg", faces / "enroll/barack_obama/obama3.jpg"]
    return build_clip(photos, out, seconds=3.0, fps=10, blank_seconds=1.0)


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


def _invitation(env: Env, name: str, base: str) -> str:
    person = env.person(name)
    url = env.api.post(f"/api/people/{person}/invitation").data["url"]
    return base + "/invite/" + url.rsplit("/invite/", 1)[1]


def test_r2_a_resident_consents_and_enrols_on_the_phone_and_the_door_opens(
    make_env, obama_clip: Path, browser: Any, shots: Path, faces: Path
) -> None:
    camera = RtspServer(obama_clip, loop=True).start()
    env: Env = make_env(camera.url)
    decisions: list[dict[str, Any]] = []
    env.engine.add_listener(lambda event: decisions.append(dict(event)))
    server, base = _pages(env)
    try:
        phone = Journey(browser, base, "zh-CN", shots, "zh-Hans-face")
        page = phone.page
        page.goto(_invitation(env, "Barack Obama", base))
        phone.shot("invitation")
        page.get_by_role("button", name="在这部手机上打开我的页面").click()
        phone.shot("welcome")
        page.get_by_role("link", name="继续").click()
        assert "目的" in page.content()
        phone.shot("notice")
        page.get_by_role("link", name="继续").click()
        agree = page.get_by_label("我同意按告知")
        assert not agree.is_checked()  # nothing pre-ticked (R2)
        phone.shot("consent")
        agree.check()
        page.get_by_label("请输入您的姓名作为签名").fill("Barack Obama")
        page.get_by_role("button", name="我同意——使用刷脸开门").click()
        phone.shot("face")
        page.get_by_label("您的人脸照片").set_input_files(
            [str(faces / "enroll/barack_obama/obama.jpg")]
        )
        page.get_by_role("button", name="登记").click()
        assert "已登记 1 张照片" in page.content(), page.content()
        phone.shot("enrolled")
        granted = _granted(decisions)  # the door camera's stream lets the resident in by face
        assert granted and granted[0]["person"]["name"] == "Barack Obama"
        assert granted[0]["method"] == "face"
        assert phone.foreign() == []
    finally:
        server.stop()
        camera.stop()


def test_r4_a_resident_declines_the_face_and_opens_the_door_with_a_pin(
    env: Env, browser: Any, shots: Path
) -> None:
    server, base = _pages(env)
    try:
        phone = Journey(browser, base, "en-GB", shots, "en-pin")
        page = phone.page
        page.goto(_invitation(env, "Wang Fang", base))
        page.get_by_role("button", name="Open my page on this phone").click()
        page.get_by_role("link", name="Continue").click()
        page.get_by_role("link", name="Continue").click()
        page.get_by_role("button", name="No thanks — give me a PIN").click()
        assert "No face will be used" in page.content()
        phone.shot("declined")
        page.get_by_label("New PIN").fill(PIN)
        page.get_by_label("The same PIN again").fill(PIN)
        page.get_by_role("button", name="Save the PIN").click()
        assert "Your PIN is set." in page.content()
        phone.shot("home")
        event = env.engine.present_credential("lobby", "pin", PIN)
        assert (event["result"], event["person"]["name"]) == ("granted", "Wang Fang")
        # Then the resident erases everything: the door stops opening, the page says so.
        page.get_by_role("link", name="My data and my rights").click()
        phone.shot("my-data")
        page.get_by_role("link", name="Erase everything about me").click()
        page.get_by_label("I understand: erase everything about me").check()
        page.get_by_role("button", name="Erase now").click()
        assert "Deletion receipt" in page.content()
        phone.shot("receipt")
        assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "unknown"
        page.goto(base + "/")
        assert "Please open the invitation link" in page.content()
        assert phone.foreign() == []
    finally:
        server.stop()


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


def test_r10_a_resident_enrols_with_the_phone_s_camera_and_the_door_opens(
    make_env, obama_clip: Path, camera_feed: Path, shots: Path, driver: Any
) -> None:
    camera = RtspServer(obama_clip, loop=True).start()
    env: Env = make_env(camera.url)
    decisions: list[dict[str, Any]] = []
    env.engine.add_listener(lambda event: decisions.append(dict(event)))
    server, base = _pages(env)
    browser = _with_camera(driver, camera_feed)
    try:
        phone = Journey(browser, base, "en-GB", shots, "en-camera")
        phone.context.grant_permissions(["camera"], origin=base)
        page = phone.page
        page.goto(_invitation(env, "Barack Obama", base))
        page.get_by_role("button", name="Open my page on this phone").click()
        page.goto(base + "/consent")
        page.get_by_label("I agree that my face is processed").check()
        page.get_by_label("Type your full name as your signature").fill("Barack Obama")
        page.get_by_role("button", name="I agree — use my face").click()
        page.get_by_role("button", name="Turn on the camera").click()
        # While the camera is on, the engine says what it sees before anything is enrolled.
        page.wait_for_selector("text=Good: your face is clear", timeout=20_000)
        phone.shot("camera-ready")
        page.get_by_role("button", name="Take 3 photos with the camera").click()
        page.wait_for_selector("text=Photo 2 of 3", timeout=15_000)
        phone.shot("camera")
        page.wait_for_selector("text=3 photo(s) enrolled", timeout=30_000)
        phone.shot("enrolled")
        person = env.engine.store.people()[0].id
        assert env.engine.store.template_count(person) == 3
        granted = _granted(decisions)
        assert granted and granted[0]["person"]["id"] == person
        assert phone.foreign() == []
    finally:
        browser.close()
        server.stop()
        camera.stop()


def test_r5_a_phone_key_opens_the_door_through_the_same_path_and_its_id_alone_does_not(
    make_env, browser: Any, shots: Path
) -> None:
    env: Env = make_env(phone=True)
    server, base = _pages(env)
    try:
        phone = Journey(browser, base, "en-GB", shots, "en-phone-key")
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
        page = phone.page
        page.goto(_invitation(env, "Zhao Min", base))
        page.get_by_role("button", name="Open my page on this phone").click()
        page.goto(base + "/phone")
        page.get_by_role("button", name="Make this phone a key").click()
        page.wait_for_selector("text=This phone is a key.", timeout=15_000)
        phone.shot("registered")
        person = env.engine.store.people()[0].id
        [key] = env.engine.store.passkeys(person)
        assert [c.kind for c in env.engine.store.credentials(person)] == ["phone"]
        page.get_by_role("button", name="Open: Lobby").click()
        page.wait_for_selector("text=Lobby: opened.", timeout=15_000)
        phone.shot("opened")
        access = [e.data for e in env.engine.store.audit_entries() if e.kind == "access"]
        assert access[-1]["method"] == "phone" and access[-1]["result"] == "granted"
        # The key's id is no secret: presented without a signature it opens nothing.
        bare = env.engine.present_credential("lobby", "phone", key.webauthn_id)
        assert (bare["result"], bare["reason"]) == ("denied", "unknown")
        assert phone.foreign() == []
    finally:
        server.stop()


def test_r3_a_guardian_consents_for_a_child_in_the_browser(
    env: Env, browser: Any, shots: Path
) -> None:
    server, base = _pages(env)
    try:
        phone = Journey(browser, base, "zh-CN", shots, "zh-Hans-guardian")
        page = phone.page
        child = env.person("Chen Xiaoming", minor=True)
        url = env.api.post(f"/api/people/{child}/invitation").data["url"]
        page.goto(base + "/invite/" + url.rsplit("/invite/", 1)[1])
        page.get_by_role("button", name="在这部手机上打开我的页面").click()
        page.goto(base + "/consent")
        assert "未满 14 周岁" in page.content()
        page.get_by_label("我同意按告知").check()
        page.get_by_label("监护人\uff1a请输入您的姓名作为签名").fill("Chen Hua")
        page.get_by_role("button", name="我同意——使用刷脸开门").click()
        # No guardian named: refused, nothing recorded.
        assert "须由父母或其他监护人同意" in page.get_by_role("alert").inner_text()
        assert env.engine.store.live_consent(child) is None
        page.get_by_label("我同意按告知").check()
        page.get_by_label("监护人姓名").fill("Chen Hua")
        page.get_by_label("监护人\uff1a请输入您的姓名作为签名").fill("Chen Hua")
        phone.shot("guardian")
        page.get_by_role("button", name="我同意——使用刷脸开门").click()
        consent = env.engine.store.live_consent(child)
        assert consent is not None and (consent.guardian, consent.signer) == (
            "Chen Hua",
            "Chen Hua",
        )
        assert phone.foreign() == []
    finally:
        server.stop()


def test_an_expired_reused_or_forged_invitation_is_refused_in_the_browser(
    env: Env, browser: Any, shots: Path
) -> None:
    server, base = _pages(env)
    try:
        phone = Journey(browser, base, "en-GB", shots, "en-links")
        page = phone.page
        person = env.person("Li Wei")
        _invitation_row, token = env.engine.store.invite(person, hours=0.5 / 3600)
        time.sleep(0.6)
        page.goto(f"{base}/invite/{token}")
        assert "this invitation link has expired" in page.content()
        phone.shot("expired")
        page.goto(f"{base}/invite/{'x' * 43}")
        assert "this invitation link is not valid" in page.content()
        link = _invitation(env, "Wang Fang", base)
        page.goto(link)
        page.get_by_role("button", name="Open my page on this phone").click()
        other = phone.context.browser.new_context(viewport=PHONE)
        try:
            second = other.new_page()
            second.goto(link)
            assert "this invitation link was already used" in second.content()
        finally:
            other.close()
        assert phone.foreign() == []
    finally:
        server.stop()


def test_r12_an_enrolment_from_a_phone_screen_held_to_the_camera_is_refused(
    make_env, shots: Path, driver: Any, faces: Path, tmp_path: Path
) -> None:
    """A real replay (a phone showing the person, held to a webcam) refused as the page's camera
    sees it, then the same person live accepted, at a face door that requires liveness."""
    clips = faces / "pad_real_dev/clips"
    replay = _y4m(clips / "replay/lestari_fake_c0.mp4", tmp_path / "replay.y4m")
    live = _y4m(clips / "live/lestari_real_c0.mp4", tmp_path / "live.y4m")
    env: Env = make_env("rtsp://127.0.0.1:9/away", liveness="required")
    server, base = _pages(env)
    person = env.person("Lestari")
    try:
        for feed, lang in ((replay, "zh-CN"), (live, "en-GB")):
            browser = _with_camera(driver, feed)
            try:
                name = "zh-Hans-screen" if feed == replay else "en-live"
                phone = Journey(browser, base, lang, shots, name)
                phone.context.grant_permissions(["camera"], origin=base)
                page = phone.page
                url = env.api.post(f"/api/people/{person}/invitation").data["url"]
                page.goto(base + "/invite/" + url.rsplit("/invite/", 1)[1])
                page.locator("form button[type=submit]").click()
                if feed == replay:
                    page.goto(base + "/consent")
                    page.get_by_label("我同意按告知").check()
                    page.get_by_label("请输入您的姓名作为签名").fill("Lestari")
                    page.get_by_role("button", name="我同意——使用刷脸开门").click()
                    page.get_by_role("button", name="打开摄像头").click()
                    page.wait_for_selector("text=屏幕上的画面", timeout=20_000)
                    phone.shot("camera-says-screen")
                    page.get_by_role("button", name="用摄像头拍 3 张照片").click()
                    alert = page.get_by_role("alert")
                    alert.wait_for(timeout=30_000)
                    assert "屏幕上的画面" in alert.inner_text()
                    phone.shot("refused")
                    assert env.engine.store.template_count(person) == 0
                else:
                    page.goto(base + "/face")
                    page.get_by_role("button", name="Turn on the camera").click()
                    page.wait_for_selector("text=Good: your face is clear", timeout=20_000)
                    page.get_by_role("button", name="Take 3 photos with the camera").click()
                    page.wait_for_selector("text=3 photo(s) enrolled", timeout=30_000)
                    assert env.engine.store.template_count(person) == 3
                assert phone.foreign() == []
            finally:
                browser.close()
    finally:
        server.stop()
