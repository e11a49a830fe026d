"""What a visitor's host is given to forward: the code, the doors it opens and when, in the
notice's two languages. The API (`POST /api/visitors`) and the CLI (`facegate visitor add`)
both say it this way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from facegate.config import Config
from facegate.identity.access_records import AccessGroup
from facegate.identity.validity import Validity


def doors_opened(groups: Sequence[AccessGroup], chosen: Iterable[str], config: Config) -> list[str]:
    """The names of the doors the chosen groups open."""
    wanted = set(chosen)
    return sorted(
        {
            door.name
            for group in groups
            if group.id in wanted
            for door in config.doors.values()
            if group.covers(door.id)
        }
    )


def _when(moment: float | None, zone: dt.tzinfo | None) -> tuple[str, bool]:
    """The moment as the host reads it, and whether it is a midnight (the end of a day)."""
    if moment is None:
        return "", False
    local = dt.datetime.fromtimestamp(moment, tz=zone)
    if (local.hour, local.minute) == (0, 0):
        return (local - dt.timedelta(days=1)).date().isoformat(), True
    return local.strftime("%Y-%m-%d %H:%M"), False


def visitor_message(
    name: str, code: str, validity: Validity, doors: list[str], zone: dt.tzinfo | None
) -> dict[str, str]:
    """What the host forwards to the visitor, in both languages of the notice."""
    hours = "; ".join(w.text() for w in validity.schedule)
    start = (
        ""
        if validity.valid_from is None
        else dt.datetime.fromtimestamp(validity.valid_from, tz=zone).strftime("%Y-%m-%d %H:%M")
    )
    end, whole_day = _when(validity.valid_until, zone)
    uses = validity.max_uses
    en = f"{name}: your door code is {code} for {', '.join(doors)}, valid "
    en += f"through {end}" if whole_day else f"until {end}"
    zh = f"{name}：您的开门密码是 {code}，可开 {'、'.join(doors)}，有效期至 {end}"
    zh += "（含当天）" if whole_day else ""
    if start:
        en += f" (from {start})"
        zh += f"（自 {start} 起）"
    if hours:
        en += f", at {hours}"
        zh += f"，时段 {hours}"
    if uses is not None:
        en += f", {uses} use{'s' if uses != 1 else ''}"
        zh += f"，可用 {uses} 次"
    return {"en": en + ".", "zh-Hans": zh + "。"}
