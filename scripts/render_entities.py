"""Pictures of facegate in Home Assistant for the README, from what Home Assistant itself said.

Reads the JSON that tests/integration/test_render.py writes (every facegate entity and device as
a real Home Assistant set up against the real engine shows them, and the config flow's user
form), renders HTML pages styled like Home Assistant's device page and config dialog, and
screenshots them with headless Chromium:

    FACEGATE_RENDER_OUT=docs/ha-entities.json bash scripts/ha_test.sh 2026
    /tmp/fgvenv/bin/python scripts/render_entities.py docs/ha-entities.json

writes docs/ha-entities.png (the devices and their entities), docs/ha-entities-zh-Hans.png (one
card with the zh-Hans names) and docs/ha-config-flow.png (the user step, English and zh-Hans).
Labels come from custom_components/facegate/translations/*.json. Icons are placeholders named
after the mdi icon Home Assistant would show. Standard library only; Chromium from
`apt-get install -y chromium`.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TRANSLATIONS = REPO / "custom_components" / "facegate" / "translations"
NEXT = "\u203a"  # the breadcrumb's separator
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# Home Assistant's own words for generic states and sections, per language.
UI = {
    "en": {
        "on": "On",
        "off": "Off",
        "unknown": "Unknown",
        "unavailable": "Unavailable",
        "press": "Press",
        "controls": "Controls",
        "sensors": "Sensors",
        "events": "Events",
        "config": "Configuration",
        "diagnostic": "Diagnostic",
        "device_info": "Device info",
        "by": "{model} by {manufacturer}",
        "firmware": "Firmware: {version}",
        "via": "Connected via {via}",
        "children": "Connected devices",
        "submit": "Submit",
        "required": "*",
        "connected": "Connected",
        "disconnected": "Disconnected",
    },
    "zh-Hans": {
        "on": "开",
        "off": "关",
        "unknown": "未知",
        "unavailable": "不可用",
        "press": "按下",
        "controls": "控制",
        "sensors": "传感器",
        "events": "事件",
        "config": "配置",
        "diagnostic": "诊断",
        "device_info": "设备信息",
        "by": "{manufacturer} {model}",
        "firmware": "固件\uff1a{version}",
        "via": "通过 {via} 连接",
        "children": "已连接的设备",
        "submit": "提交",
        "required": "*",
        "connected": "已连接",
        "disconnected": "已断开",
    },
}
# Glyphs of the DejaVu fonts that stand in for the mdi icons of icons.json (no icon font here).
GLYPHS = {
    "door": "\u2302",
    "door-open": "\u2302",
    "door-closed-lock": "\u2302",
    "timer-outline": "\u25f7",
    "shield-account": "?",
    "shield-check": "\u2713",
    "shield-off": "\u2715",
    "calendar-clock": "\u2637",
    "card-account-details": "\u25a3",
    "account-remove": "\u2715",
    "face-recognition": "\u263a",
    "face-man-outline": "\u263a",
    "dialpad": "\u2328",
    "card-bulleted": "\u25a4",
    "nfc-variant": "\u25ce",
    "cellphone-key": "\u260e",
    "cctv": "\u25c9",
    "cctv-off": "\u25cb",
}
CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #fafafa; color: #212121;
  font: 14px/1.45 Roboto, "Noto Sans", "Noto Sans CJK SC", "DejaVu Sans", sans-serif; }
.bar { background: #03a9f4; color: #fff; padding: 14px 24px; font-size: 20px; }
.bar small { opacity: .85; font-size: 14px; margin-left: 10px; }
.grid { display: grid; grid-template-columns: repeat(var(--cols), 1fr); gap: 16px;
  padding: 16px; align-items: start; }
.card { background: #fff; border-radius: 12px; border: 1px solid #e0e0e0; overflow: hidden; }
.card h2 { margin: 0; padding: 16px 16px 4px; font-size: 20px; font-weight: 400; }
.card .sub { padding: 0 16px 10px; color: #727272; font-size: 13px; }
.card h3 { margin: 0; padding: 10px 16px 2px; font-size: 12px; font-weight: 500;
  text-transform: uppercase; letter-spacing: .06em; color: #727272; border-top: 1px solid #eee; }
.row { display: flex; align-items: center; padding: 6px 16px; min-height: 52px; }
.icon { flex: none; width: 40px; height: 40px; border-radius: 50%; background: #e3f2fd;
  color: #44739e; display: flex; align-items: center; justify-content: center;
  font: 18px/1 "DejaVu Sans", sans-serif; margin-right: 14px; text-align: center; }
.icon.on { background: #fff3c4; color: #b58100; }
.name { flex: 1; min-width: 0; }
.name .id { color: #8a8a8a; font: 11.5px "DejaVu Sans Mono", monospace; }
.state { flex: none; text-align: right; color: #212121; margin-left: 12px; }
.state small { display: block; color: #8a8a8a; font-size: 12px; }
.toggle { width: 36px; height: 14px; border-radius: 7px; background: #bdbdbd; position: relative;
  display: inline-block; }
.toggle::after { content: ""; position: absolute; top: -3px; left: -2px; width: 20px;
  height: 20px; border-radius: 50%; background: #f5f5f5; box-shadow: 0 1px 3px #0006; }
.toggle.on { background: #81d4fa; }
.toggle.on::after { left: 18px; background: #03a9f4; }
.button { color: #03a9f4; font-weight: 500; text-transform: uppercase; font-size: 13px; }
.info { padding: 4px 16px 14px; }
.info div { padding: 2px 0; }
.info ul { margin: 4px 0 0; padding-left: 18px; color: #03a9f4; }
.dialog { background: #fff; border-radius: 24px; box-shadow: 0 8px 30px #0003; padding: 24px;
  margin: 24px; }
.dialog h2 { margin: 0 0 12px; font-size: 22px; font-weight: 400; }
.dialog p { margin: 0 0 16px; color: #424242; }
.field { border: 1px solid #9e9e9e; border-radius: 4px 4px 0 0; border-width: 0 0 1px;
  background: #f5f5f5; padding: 8px 12px 6px; margin: 16px 0 2px; }
.field label { display: block; color: #616161; font-size: 12px; }
.field .value { font-size: 16px; min-height: 22px; }
.helper { color: #727272; font-size: 12px; padding: 0 12px; }
.actions { text-align: right; margin-top: 24px; }
.actions span { color: #03a9f4; font-weight: 500; padding: 8px 12px; }
"""


def esc(value: Any) -> str:
    return html.escape(str(value))


def load_translations(language: str) -> dict[str, Any]:
    return dict(json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")))


def entity_name(entity: dict[str, Any], language: str, translations: Any, device: str) -> str:
    """Home Assistant's friendly name in English; in another language, the device's name and
    the entity's translated name, composed as Home Assistant does (has_entity_name)."""
    key = entity.get("translation_key")
    name = translations["entity"].get(entity["domain"], {}).get(key, {}).get("name")
    if language == "en" or name is None:
        return str(entity["friendly_name"])
    return f"{device} {name}"


def state_text(entity: dict[str, Any], translations: dict[str, Any], ui: dict[str, str]) -> str:
    """The state as the entities card shows it (HTML)."""
    domain, state = entity["domain"], str(entity["state"])
    if domain == "button" and state != "unavailable":  # its state is the last press
        return f'<span class="button">{esc(ui["press"])}</span>'
    if state in ("unknown", "unavailable"):
        return esc(ui[state])
    if domain == "switch":
        return f'<span class="toggle{" on" if state == "on" else ""}"></span>'
    if domain == "binary_sensor":
        if entity.get("device_class") == "connectivity":
            return esc(ui["connected" if state == "on" else "disconnected"])
        return esc(ui[state])
    entry = translations["entity"].get(domain, {}).get(entity.get("translation_key"), {})
    if domain == "event":
        event_type = str(entity["attributes"].get("event_type"))
        types = entry.get("state_attributes", {}).get("event_type", {}).get("state", {})
        method = entity["attributes"].get("method")
        when = datetime.fromisoformat(state).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{esc(types.get(event_type, event_type))} · {esc(method)}<small>{esc(when)}</small>"
    if entity.get("device_class") == "timestamp":
        return esc(datetime.fromisoformat(state).strftime("%Y-%m-%d %H:%M UTC"))
    if entity.get("unit"):
        try:
            return esc(f"{float(state):.1f} {entity['unit']}")
        except ValueError:
            return esc(f"{state} {entity['unit']}")
    return esc(entry.get("state", {}).get(state, state))


def icon_badge(entity: dict[str, Any]) -> str:
    """A placeholder for the mdi icon: a circle with a glyph like it, lit when on."""
    icon = str(entity.get("icon") or "mdi:help")
    lit = " on" if entity["state"] == "on" else ""
    glyph = GLYPHS.get(icon.removeprefix("mdi:"), "?")
    return f'<span class="icon{lit}" title="{esc(icon)}">{esc(glyph)}</span>'


def section(entity: dict[str, Any]) -> str:
    if entity.get("entity_category") in ("config", "diagnostic"):
        return str(entity["entity_category"])
    if entity["domain"] in ("switch", "button", "lock"):
        return "controls"
    if entity["domain"] == "event":
        return "events"
    return "sensors"


def card(
    device: dict[str, Any], devices: list[dict[str, Any]], language: str, translations: Any
) -> str:
    ui = UI[language]
    sub = ui["by"].format(model=device["model"], manufacturer=device["manufacturer"])
    if device.get("via_device"):
        sub += " · " + ui["via"].format(via=device["via_device"])
    parts = [f'<div class="card"><h2>{esc(device["name"])}</h2><div class="sub">{esc(sub)}</div>']
    if not device["entities"]:
        children = [d["name"] for d in devices if d.get("via_device") == device["name"]]
        parts.append(f'<h3>{esc(ui["device_info"])}</h3><div class="info">')
        if device.get("sw_version"):
            parts.append(f"<div>{esc(ui['firmware'].format(version=device['sw_version']))}</div>")
        parts.append(f"<div>{esc(ui['children'])}:</div><ul>")
        parts.extend(f"<li>{esc(child)}</li>" for child in children)
        parts.append("</ul></div>")
    for key in ("controls", "sensors", "events", "config", "diagnostic"):
        rows = [e for e in device["entities"] if section(e) == key]
        if not rows:
            continue
        parts.append(f"<h3>{esc(ui[key])}</h3>")
        for entity in rows:
            name = entity_name(entity, language, translations, device["name"])
            parts.append(
                f'<div class="row">{icon_badge(entity)}<div class="name">{esc(name)}'
                f'<div class="id">{esc(entity["entity_id"])}</div></div>'
                f'<div class="state">{state_text(entity, translations, ui)}</div></div>'
            )
    parts.append("</div>")
    return "".join(parts)


def page(title: str, subtitle: str, body: str, columns: int, language: str) -> str:
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f"<style>{CSS}</style></head><body style='--cols:{columns}'>"
        f'<div class="bar">{esc(title)}<small>{esc(subtitle)}</small></div>'
        f'<div class="grid">{body}</div></body></html>'
    )


def entities_page(document: dict[str, Any]) -> str:
    devices = document["devices"]
    translations = load_translations("en")
    cards = "".join(card(d, devices, "en", translations) for d in devices)
    subtitle = f"Home Assistant {document['home_assistant']} · facegate"
    return page(f"Devices & services {NEXT} facegate", subtitle, cards, 2, "en")


def form_dialog(document: dict[str, Any], language: str) -> str:
    step = load_translations(language)["config"]["step"][document["config_flow_user"]["step_id"]]
    ui = UI[language]
    parts = [f'<div class="dialog"><h2>{esc(step["title"])}</h2><p>{esc(step["description"])}</p>']
    for field in document["config_flow_user"]["data_schema"]:
        name = field["name"]
        required = " " + ui["required"] if field.get("required") else ""
        label = step["data"].get(name, name) + required
        value = field.get("default", "")
        if name == "token":
            value = "•" * 12
        elif name == "host":
            value = "192.168.1.20"
        parts.append(
            f'<div class="field"><label>{esc(label)}</label>'
            f'<div class="value">{esc(value)}</div></div>'
            f'<div class="helper">{esc(step.get("data_description", {}).get(name, ""))}</div>'
        )
    parts.append(f'<div class="actions"><span>{esc(ui["submit"])}</span></div></div>')
    return "".join(parts)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("render_entities: no Chromium: apt-get install -y chromium")


def screenshot(markup: str, png: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="facegate-render-") as tmp:
        source = Path(tmp) / "page.html"
        source.write_text(markup, encoding="utf-8")
        profile = Path(tmp) / "profile"
        profile.mkdir()
        command = [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            source.as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    print(f"render_entities: {png.relative_to(REPO)} ({png.stat().st_size // 1024} KiB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("json", type=Path, help="the file tests/integration/test_render.py wrote")
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs")
    args = parser.parse_args(argv)
    document = json.loads(args.json.read_text(encoding="utf-8"))
    out = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)

    screenshot(entities_page(document), out / "ha-entities.png", 1200, 1020)
    person = next(d["name"] for d in document["devices"] if d["model"] == "Resident")
    back = next(d["name"] for d in document["devices"] if d["model"] == "Door")
    zh_cards = "".join(
        card(d, document["devices"], "zh-Hans", load_translations("zh-Hans"))
        for d in document["devices"]
        if d["name"] in (back, person)
    )
    subtitle = f"Home Assistant {document['home_assistant']} · 简体中文"
    zh = page(f"设备与服务 {NEXT} facegate", subtitle, zh_cards, 2, "zh-Hans")
    screenshot(zh, out / "ha-entities-zh-Hans.png", 1200, 530)
    dialogs = form_dialog(document, "en") + form_dialog(document, "zh-Hans")
    form = page(f"Add integration {NEXT} facegate", "config flow, user step", dialogs, 2, "en")
    screenshot(form, out / "ha-config-flow.png", 1200, 580)
    return 0


if __name__ == "__main__":
    sys.exit(main())
