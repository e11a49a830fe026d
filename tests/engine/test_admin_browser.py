"""The administrator pages in a real browser (Debian's Chromium through Playwright), against the
real engine on a real mosquitto: log in with the API token, add a person, hand them an
invitation as a QR code that a phone then opens, keep R4 at a face door, read the decisions
and the audit chain's verdict — in Simplified Chinese and in English, loading nothing from
another origin (R9). Screenshots go where conftest_browser.py says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from conftest_api import Env
from conftest_browser import Journey
from facegate.web.server import ResidentServer

pytest_plugins = ["conftest_mqtt", "conftest_api", "conftest_browser"]

PIN = "482913"


def test_r4_an_administrator_invites_a_resident_and_keeps_a_second_method_at_the_face_door(
    make_env: Callable[..., Env], browser: Any, shots: Path
) -> None:
    env = make_env("rtsp://127.0.0.1:9/away")  # a face door whose camera is not there
    residents = ResidentServer(env.engine, "localhost", 0)
    residents.start()
    base = f"http://127.0.0.1:{env.server.port}"
    try:
        admin = Journey(browser, base, "zh-CN", shots, "zh-Hans-admin", desk=True)
        page = admin.page
        page.goto(base + "/")  # where Home Assistant's "Open Web UI" lands
        page.get_by_label("API 令牌").fill(env.server.token)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("heading", name="概览").wait_for()
        assert "摄像头 front_cam 离线" in page.content()  # health names what needs a person
        admin.shot("overview")
        # R4: the face door's PIN cannot be turned off, the page says why.
        page.get_by_role("button", name="关闭 pin").nth(1).click()
        alert = page.get_by_role("alert")
        assert "R4" in alert.inner_text()
        admin.shot("r4")
        assert "pin" in env.api.get("/api/doors").data["doors"][1]["enabled"]

        page.get_by_role("link", name="人员").click()
        page.get_by_label("姓名").fill("王芳")
        page.get_by_role("button", name="添加").click()
        assert "已添加 王芳" in page.content()
        page.get_by_role("button", name="生成邀请").click()
        qr = page.get_by_alt_text("邀请链接的二维码")
        assert qr.is_visible() and qr.evaluate("img => img.complete && img.naturalWidth") > 100
        admin.shot("invitation")
        link = page.locator("#invitation-link").inner_text()
        # The code a phone's camera reads is the link itself. OpenCV's Aruco-based reader: its
        # older QRCodeDetector missed 8 of 400 flawless codes of such links (one failed CI),
        # this one none of 1,900.
        shown = cv2.imdecode(np.frombuffer(qr.screenshot(), np.uint8), cv2.IMREAD_COLOR)
        assert cv2.QRCodeDetectorAruco().detectAndDecode(shown)[0] == link

        # The resident opens the link on a phone: their own pages, their own language.
        phone_base = f"http://localhost:{residents.port}"
        phone = Journey(browser, phone_base, "zh-CN", shots, "zh-Hans-admin-phone")
        phone.page.goto(phone_base + "/invite/" + link.rsplit("/invite/", 1)[1])
        phone.page.get_by_role("button", name="在这部手机上打开我的页面").click()
        assert "王芳\uff0c您好" in phone.page.content()

        person = env.engine.store.people()[0].id
        env.api.post(f"/api/people/{person}/credentials", {"kind": "pin", "value": PIN})
        env.api.post("/api/access/credential", {"door": "lobby", "kind": "pin", "value": PIN})
        page.get_by_role("link", name="最近的开门记录").click()
        page.get_by_role("cell", name="王芳").wait_for(timeout=10_000)
        admin.shot("decisions")
        page.get_by_role("link", name="审计日志").click()
        assert "链条完整且已签名" in page.locator("#verdict").inner_text()

        page.get_by_role("link", name="English").click()
        page.get_by_role("link", name="People").click()
        assert "王芳" in page.content() and "Add a person" in page.content()
        admin.shot("people-en")
        assert admin.foreign() == [] and phone.foreign() == []
    finally:
        residents.stop()
