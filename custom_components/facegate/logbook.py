"""The logbook says who came in or was refused, at which door, by which method and why — in
Home Assistant's language — instead of "Access decision detected an event".

Each verified decision is also a `facegate_access` event on the bus (coordinator.py). That
event, which the recorder keeps, carries the person's engine id, never their name: the name is
looked up when the logbook is read, so it is gone from the logbook once the person is erased
(R7), and a stranger is never named at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_ACCESS

_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "granted": "{who} came in by {method}",
        "denied": "{who} was refused ({method}: {reason})",
        "stranger": "someone unknown",
        "erased": "a resident since erased",
        "methods": {
            "face": "face",
            "pin": "PIN",
            "card": "card",
            "tag": "NFC tag",
            "phone": "phone key",
        },
        "reasons": {},
    },
    "zh-Hans": {
        "granted": "{who} 通过{method}进门",
        "denied": "{who} 被拒绝（{method}：{reason}）",
        "stranger": "陌生人",
        "erased": "已删除的住户",
        "methods": {
            "face": "刷脸",
            "pin": "密码",
            "card": "门禁卡",
            "tag": "NFC 标签",
            "phone": "手机钥匙",
        },
        "reasons": {
            "unknown": "不认识",
            "no_consent": "未授权",
            "consent_expired": "授权已过期",
            "spoof": "疑似照片或屏幕",
            "rate_limited": "尝试过多",
            "door_disabled": "该方式已关闭",
            "lock_offline": "门锁离线",
            "stale": "结果过时",
            "method_disabled": "本人已关闭该方式",
            "ambiguous": "无法确定是谁",
            "tampered": "数据被改动",
            "not_allowed": "无权进入此门",
            "outside_schedule": "不在允许时段",
            "expired": "已过有效期",
            "used_up": "次数已用完",
            "not_local": "不在本地网络",
        },
    },
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    @callback
    def describe(event: Event) -> dict[str, str]:
        return describe_access(hass, event.data)

    async_describe_event(DOMAIN, EVENT_ACCESS, describe)


def describe_access(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    words = _WORDS["zh-Hans" if hass.config.language.startswith("zh") else "en"]
    door, name = str(data.get("door")), None
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.entry_id == data.get("entry_id") and hasattr(entry, "runtime_data"):
            state = entry.runtime_data.coordinator.data
            door = str(state.doors.get(door, {}).get("name") or door)
            person_id = data.get("person_id")
            if person_id is not None:
                name = state.people.get(person_id, {}).get("name") or words["erased"]
    method = words["methods"].get(data.get("method"), str(data.get("method")))
    reason = words["reasons"].get(data.get("reason"), str(data.get("reason")))
    who = name or words["stranger"]
    result = "granted" if data.get("result") == "granted" else "denied"
    message = words[result].format(who=who, method=method, reason=reason)
    described = {LOGBOOK_ENTRY_NAME: door, LOGBOOK_ENTRY_MESSAGE: message}
    if isinstance(data.get(ATTR_ENTITY_ID), str):  # the door's event entity, linked
        described[LOGBOOK_ENTRY_ENTITY_ID] = data[ATTR_ENTITY_ID]
    return described
