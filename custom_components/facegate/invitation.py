"""Handing a resident their invitation: the engine makes a single-use link to the resident's own
pages (notice, consent or a PIN instead, enrolment, phone key, their rights), and Home Assistant
shows it to the administrator as a persistent notification with its QR code, to show on a
screen or print. Consent stays the resident's own act (R2): nothing here records it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .api import FacegateClient
from .const import DOMAIN
from .entity import engine_call

# Notifications are not translated by Home Assistant: the two languages of the project, chosen
# from Home Assistant's own.
_TEXT = {
    "en": (
        "Invitation for {name}",
        "Show this QR code to {name}, or send them the link. It works once, until {until}. "
        "On their own phone they read how a face would be used and choose for themselves: "
        "face unlock, a PIN, their phone as a key — or no face at all.\n\n"
        "![QR code]({qr})\n\n{url}",
    ),
    "zh-Hans": (
        "给 {name} 的邀请",
        "请让 {name} 扫描这个二维码，或把链接发给本人。链接只能使用一次，有效期至 {until}。"
        "本人在自己的手机上阅读人脸的使用方式后自行选择：刷脸开门、密码、手机钥匙——"
        "或者完全不用人脸。\n\n![二维码]({qr})\n\n{url}",
    ),
}


def notification_id(person_id: str) -> str:
    return f"{DOMAIN}_invitation_{person_id}"


async def hand_over(
    hass: HomeAssistant, client: FacegateClient, person_id: str, name: str
) -> dict[str, Any]:
    """A new invitation for the person (their earlier unused link stops working), shown to the
    administrator; returns the link, its expiry and the QR code as a data URI."""
    link: dict[str, Any] = await engine_call(client.invite(person_id))
    until = dt_util.as_local(dt.datetime.fromtimestamp(float(link["expires_at"]), dt.UTC))
    title, message = _TEXT["zh-Hans" if hass.config.language.startswith("zh") else "en"]
    values = {
        "name": name,
        "until": until.strftime("%Y-%m-%d %H:%M"),
        "qr": link["qr_data_uri"],
        "url": link["url"],
    }
    persistent_notification.async_create(
        hass,
        message.format(**values),
        title=title.format(**values),
        notification_id=notification_id(person_id),
    )
    return {
        "url": link["url"],
        "expires_at": until.isoformat(),
        "qr_code": link["qr_data_uri"],
    }
