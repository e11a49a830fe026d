"""The integration as a Home Assistant owner sees it: real Home Assistant 2025.4.1 with its own
frontend, onboarded through its API, the integration added through its config flow, the real
engine beside it, and Debian's Chromium showing the pages in English and in Chinese. What the
README's pictures show is asserted here on the rendered page: a door's logbook naming who came
in and how (and a stranger refused), a resident's consent and enrolment, the invitation with its
QR code in the notifications, and a repair issue with its fix.

Skipped, with the reason, where Home Assistant's environment is not built (scripts/ha_env.sh).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest_browser import Journey
from conftest_mqtt import free_port
from home_assistant_core import HomeAssistantCore, missing

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from engine_client import ENROL_PHOTO, EngineUnderTest
from engine_harness import start_engine
from resident_phone import ResidentPhone

pytest_plugins = ["conftest_browser"]
pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

RESIDENT = "王芳"
PIN = "739164"
WRONG_PIN = "258046"
# Per language: the locale the browser asks for and the words the pages must show.
SAID: dict[str, dict[str, str]] = {
    "en": {
        "locale": "en-US",
        "connect": "Connect to the facegate engine",
        "ok": "OK",
        "granted": f"{RESIDENT} came in by PIN",
        "refused": "someone unknown was refused",
        "consent": "Face consent",
        "given": "Given",
        "photos": "Face photos enrolled",
        "invitation": f"Invitation for {RESIDENT}",
        "repair": "Back door has no lock to open",
        "fix": "Choose the lock of Back door",
    },
    "zh-Hans": {
        "locale": "zh-CN",
        "connect": "连接 facegate 引擎",
        "ok": "确定",
        "granted": f"{RESIDENT} 通过密码进门",
        "refused": "陌生人 被拒绝",
        "consent": "人脸识别授权",
        "given": "已同意",
        "photos": "已录入人脸照片",
        "invitation": f"给 {RESIDENT} 的邀请",
        # The doors' names are the engine's configuration, here English.
        "repair": "Back door 没有可开的门锁",
        "fix": "为 Back door 选择门锁",
    },
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineUnderTest]:
    with start_engine(tmp_path_factory.mktemp("engine")) as started:
        yield started


@pytest.fixture
def home(engine: EngineUnderTest, tmp_path: Path, language: str) -> Iterator[HomeAssistantCore]:
    """A new Home Assistant in `language`, onboarded, with the integration. The resident is
    added from it and enrols on their own phone (the second Home Assistant, finding them
    already there, invites them again: its own notification); then a stranger's wrong PIN and
    the resident's PIN at the front door."""
    core = HomeAssistantCore(tmp_path / "config", free_port(), language)
    core.start()
    try:
        core.onboard(language)
        added = core.add_integration(
            "facegate", {"host": engine.host, "port": engine.port, "token": engine.token}
        )
        assert added["type"] == "create_entry", added
        core.wait_for_state("event.front_door_access_decision", None)
        if not engine.api("GET", "/api/people")["people"]:
            answer = core.call("facegate", "create_person", {"name": RESIDENT})
            phone = ResidentPhone(language)
            phone.open_invitation(answer["service_response"]["invitation"]["url"])
            phone.consent(RESIDENT)
            phone.enrol((engine.data_dir.parent / ENROL_PHOTO).read_bytes())
            [person] = engine.api("GET", "/api/people")["people"]
            body = {"kind": "pin", "value": PIN, "label": "keypad"}
            engine.api("POST", f"/api/people/{person['id']}/credentials", body)
        else:
            devices = core.ws_command({"type": "config/device_registry/list"})
            [device] = [d for d in devices if d["name"] == RESIDENT]
            core.call("facegate", "invite_person", {"person": device["id"]})
        assert engine.present("front_door", "pin", WRONG_PIN)["result"] == "denied"
        assert engine.present("front_door", "pin", PIN)["result"] == "granted"
        core.wait_for_state("sensor.front_door_last_decision", "granted")
        yield core
    finally:
        core.stop()


def _open(journey: Journey, path: str) -> None:
    journey.page.goto(journey.base + path)
    journey.page.wait_for_load_state("networkidle")


def _device(journey: Journey, name: str) -> str:
    """A device's id, as the frontend itself knows it."""
    found = journey.page.evaluate(
        "name => Object.values(document.querySelector('home-assistant').hass.devices)"
        ".find(d => d.name === name)?.id",
        name,
    )
    assert found, f"no device {name} in the frontend"
    return str(found)


@pytest.mark.parametrize("language", list(SAID))
def test_the_integration_in_the_real_frontend(
    home: HomeAssistantCore, browser: Any, shots: Path, language: str
) -> None:
    said = SAID[language]
    journey = Journey(browser, home.url, said["locale"], shots, f"ha-{language}", desk=True)
    journey.context.add_init_script(home.browser_storage(language))
    page = journey.page
    try:
        # The form a user fills in for an engine they run themselves (the add-on needs none).
        _open(journey, "/config/integrations/dashboard/add?domain=facegate")
        page.get_by_role("button", name=said["ok"], exact=True).click()  # "set up facegate?"
        page.get_by_text(said["connect"]).first.wait_for()
        journey.shot("connect")

        _open(journey, "/config/devices/dashboard")
        door = _device(journey, "Front door")
        _open(journey, f"/config/devices/device/{door}")
        page.get_by_text(said["granted"]).first.wait_for()
        page.get_by_text(said["refused"]).first.wait_for()
        journey.shot("door-logbook")

        _open(journey, f"/config/devices/device/{_device(journey, RESIDENT)}")
        page.get_by_text(said["photos"]).first.wait_for()
        page.get_by_text(said["given"]).first.wait_for()
        journey.shot("resident")

        page.evaluate(
            "document.querySelector('home-assistant').shadowRoot"
            ".querySelector('home-assistant-main')"
            ".dispatchEvent(new CustomEvent('hass-show-notifications',"
            " {bubbles: true, composed: true}))"
        )
        page.get_by_text(said["invitation"]).first.wait_for()
        qr = page.locator("img[src^='data:image/svg+xml;base64,']").first
        qr.wait_for()
        assert qr.evaluate("img => img.naturalWidth") > 0  # the QR code is drawn, not broken
        journey.shot("invitation", full_page=False)

        _open(journey, "/config/repairs")
        page.get_by_text(said["repair"]).first.click()
        page.get_by_text(said["fix"]).first.wait_for()
        journey.shot("repair")
    except Exception:
        journey.shot("failed")  # what the page showed instead, beside the others
        raise
    finally:
        journey.context.close()
