"""The processing notice (R1), generated from the live configuration and versioned by hash.

Consent records name the version the person saw, so a later change of purpose or scope can be
told apart from the notice they agreed to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from facegate.config import Config
from facegate.identity.access_records import AccessGroup
from facegate.identity.records import DEFAULT_CONSENT_DAYS
from facegate.identity.store import IdentityStore

_METHOD_NAMES = {
    "en": {"pin": "PIN code", "card": "card", "tag": "NFC tag", "phone": "phone"},
    "zh-Hans": {"pin": "密码", "card": "门禁卡", "tag": "NFC 标签", "phone": "手机"},
}


LANGUAGES = ("en", "zh-Hans")


@dataclass(frozen=True, kw_only=True)
class Notice:
    version: str  # hash of the full text in both languages
    scope: str  # hash of purpose and scope only: when it changes, consents must be renewed
    text: dict[str, str]  # language -> notice text

    def to_json(self, lang: str) -> dict[str, str]:
        return {"version": self.version, "scope": self.scope, "lang": lang, "text": self.text[lang]}


def _alternatives(config: Config, lang: str) -> list[str]:
    lines = []
    for door in config.doors.values():
        others = [_METHOD_NAMES[lang][m] for m in sorted(door.methods) if m != "face"]
        joiner = ", " if lang == "en" else "、"
        lines.append(f"{door.name}: {joiner.join(others)}")
    return lines


def _groups(config: Config, groups: Sequence[AccessGroup], lang: str) -> str:
    """Which doors each access group opens (R1: the scope of what a face or a code opens)."""
    every = {"en": "every door", "zh-Hans": "全部门"}[lang]
    dash, joiner, between = (" — ", ", ", "; ") if lang == "en" else ("：", "、", "；")
    lines = []
    for group in groups:
        names = [config.doors[d].name for d in group.doors if d in config.doors]
        opens = every if group.every_door else joiner.join(names) or "-"
        lines.append(f"{group.name}{dash}{opens}")
    return between.join(lines)


def build_notice(config: Config, groups: Sequence[AccessGroup]) -> Notice:
    """The notice of this configuration and these access groups (the store's `groups()`)."""
    face_doors = [d.name for d in config.doors.values() if "face" in d.methods]
    alternatives_en = "; ".join(_alternatives(config, "en"))
    alternatives_zh = "；".join(_alternatives(config, "zh-Hans"))
    en = "\n".join(
        [
            "facegate processing rules",
            "Purpose: opening these doors for residents who choose face unlock: "
            + (", ".join(face_doors) or "none at present")
            + ".",
            "Method: the door camera's frames are analysed in memory; a face is compared with the "
            "templates of people who consented. No photo or video is stored.",
            "Scope: one numeric template (an embedding) per enrolment photo; no ID-card number, "
            "title deed or phone number is ever asked for.",
            "Storage: on this machine only, encrypted (AES-256-GCM); nothing is sent to any cloud.",
            f"Retention: until you withdraw, move out, or your consent expires "
            f"(at most {DEFAULT_CONSENT_DAYS} days unless renewed).",
            "Access: the building's facegate administrators; every processing step is logged.",
            "Withdrawal: at any time, in one step; your templates are deleted at once and you "
            "receive a deletion receipt.",
            "Alternatives that open the same doors just as quickly: " + alternatives_en + ".",
            *(
                ["Which doors each access group opens: " + _groups(config, groups, "en") + "."]
                if groups
                else []
            ),
        ]
    )
    zh = "\n".join(
        [
            "facegate 人脸信息处理规则",
            "目的：为自愿选择刷脸开门的住户开启以下门："
            + ("、".join(face_doors) or "目前没有")
            + "。",
            "方式：门口摄像头画面仅在内存中分析，与已同意者的人脸特征比对。不保存任何照片或视频。",
            "范围：每张登记照片仅保存一个数字特征值（嵌入向量）；从不索取身份证号、房产证或手机号。",
            "存储地点：仅保存在本机并加密（AES-256-GCM），不发送到任何云端。",
            f"保存期限：至您撤回同意、搬离或同意到期为止（未续期最长 {DEFAULT_CONSENT_DAYS} 天）。",
            "可查看者：本楼 facegate 管理员；每一步处理都有日志记录。",
            "撤回方式：随时一步撤回；您的人脸特征立即删除，并向您出具删除回执。",
            "同样快捷的其他开门方式：" + alternatives_zh + "。",
            *(["各通行组可开的门：" + _groups(config, groups, "zh-Hans") + "。"] if groups else []),
        ]
    )
    return Notice(
        version=_digest({"en": en, "zh-Hans": zh}),
        scope=_digest(_scope(config)),
        text={"en": en, "zh-Hans": zh},
    )


def _scope(config: Config) -> dict[str, object]:
    """What a person agrees to: which doors use their face, what is kept, for how long.

    Wording, alternatives and door names can change without asking anyone again; adding a
    door that uses the face, or keeping something new, cannot.
    """
    return {
        "purpose": "door_access",
        "face_doors": sorted(d.id for d in config.doors.values() if "face" in d.methods),
        "stored": ["embedding"],
        "embedder": config.embedder,
        "storage": "local_encrypted",
        "retention_days_max": DEFAULT_CONSENT_DAYS,
    }


def _digest(value: object) -> str:
    encoded = json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def publish_notice(store: IdentityStore, notice: Notice) -> int:
    """Keeps the notice on record, so consents can name it; a change of purpose or scope sends
    everyone who agreed to an earlier one back to renew before their face opens anything.
    Returns how many consents now need renewal."""
    store.record_notice(
        version=notice.version,
        scope=notice.scope,
        text_en=notice.text["en"],
        text_zh=notice.text["zh-Hans"],
    )
    return store.require_renewal_outside(notice.scope)
