"""The files beside the code: translations in two languages with the same keys, services,
icons, manifest, quality scale and brand."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import yaml
from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from custom_components.facegate.const import ENGINE_REFUSALS

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "facegate"


def _load(name: str) -> Any:
    text = (INTEGRATION / name).read_text(encoding="utf-8")
    return yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)


def _keys(tree: Any, prefix: str = "") -> set[str]:
    if not isinstance(tree, dict):
        return {prefix}
    return {key for name, value in tree.items() for key in _keys(value, f"{prefix}.{name}")}


def test_english_and_chinese_have_the_same_keys() -> None:
    english = _load("translations/en.json")
    chinese = _load("translations/zh-Hans.json")
    assert _keys(english) == _keys(chinese)
    assert sorted(p.name for p in (INTEGRATION / "translations").iterdir()) == [
        "en.json",
        "zh-Hans.json",
    ]


def test_every_translation_key_in_the_code_is_translated() -> None:
    english = _load("translations/en.json")
    source = "\n".join(p.read_text(encoding="utf-8") for p in INTEGRATION.glob("*.py"))
    used = set(re.findall(r'translation_key="([a-z0-9_]+)"', source))
    entity_keys = {key for platform in english["entity"].values() for key in platform}
    # Dynamic per-method keys.
    used |= {f"method_{m}" for m in ("face", "pin", "card", "tag", "phone")}
    assert used - {"method_{method}"} <= set(english["exceptions"]) | entity_keys
    chinese = _load("translations/zh-Hans.json")
    for code in ENGINE_REFUSALS:  # the engine's refusal codes the integration says itself
        assert f"refusal_{code}" in english["exceptions"], code
        assert f"refusal_{code}" in chinese["exceptions"], code
    fix_aborts = {
        reason
        for issue in english["issues"].values()
        for reason in issue.get("fix_flow", {}).get("abort", {})
    }
    for reason in set(re.findall(r'reason="([a-z_]+)"', source)):
        assert reason in {*english["config"]["abort"], *english["options"]["abort"], *fix_aborts}
    for error in ("cannot_connect", "invalid_auth", "unknown"):
        assert error in english["config"]["error"]
        assert error in english["config"]["abort"]


def test_services_are_described_translated_and_iconed() -> None:
    services = _load("services.yaml")
    english = _load("translations/en.json")
    icons = _load("icons.json")
    assert set(services) == set(english["services"]) == set(icons["services"])
    for name, service in services.items():
        assert set(service["fields"]) == set(english["services"][name]["fields"]), name
    assert set(icons["entity"]) == set(english["entity"])
    for platform, keys in icons["entity"].items():
        assert set(keys) <= set(english["entity"][platform]), platform


def test_manifest_and_quality_scale() -> None:
    manifest = _load("manifest.json")
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_push"
    assert manifest["integration_type"] == "hub"
    assert manifest["requirements"] == []
    for key in ("domain", "name", "codeowners", "dependencies", "documentation"):
        assert key in manifest
    assert "issue_tracker" in manifest
    assert "version" in manifest
    rules = _load("quality_scale.yaml")["rules"]
    for name, rule in rules.items():
        if isinstance(rule, str):
            assert rule == "done", name
        elif rule["status"] == "todo":
            assert name.startswith("docs-"), name  # the README is written in its own issue
        else:
            assert rule["status"] == "exempt", name
            assert rule["comment"], name


def test_brand_icon_is_a_256_pixel_png() -> None:
    data = (INTEGRATION / "brand" / "icon.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (256, 256)


async def test_home_assistant_loads_the_translations(hass: HomeAssistant) -> None:
    for language, name in (("en", "Face consent"), ("zh-Hans", "人脸识别授权")):
        strings = await async_get_translations(hass, language, "entity", ["facegate"])
        assert strings["component.facegate.entity.switch.face_consent.name"] == name
