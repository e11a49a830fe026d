"""When a person or a credential may open a door: valid from / until, a number of uses, and a
weekly schedule in the installation's time zone.

Declared once: the API's bodies, the CLI and the decision path all use these. A schedule is
read on the wall clock of the installation's time zone, so "Tuesdays 08:00-12:00" means eight
on the clock on the door's wall the day the clocks change too (the hour that does not exist
in spring is simply not there; the hour that happens twice in autumn is inside the window
both times). A window whose end is not after its start runs past midnight into the next day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from facegate.errors import FacegateError
from facegate.vocabulary import WEEKDAYS, Reason, Weekday

MAX_USES = 100_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _clock(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError("must be a time of day written HH:MM (00:00-24:00)")
    return value


def _distinct(value: list[Weekday]) -> list[Weekday]:
    return sorted(set(value), key=WEEKDAYS.index)


Clock = Annotated[str, Field(max_length=5, examples=["08:00"]), AfterValidator(_clock)]


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Window(BaseModel):
    """Days of the week and hours of the day, e.g. {"days": ["tue"], "start": "08:00",
    "end": "12:00"}; an end at or before the start runs past midnight."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7), AfterValidator(_distinct)]
    start: Clock
    end: Clock

    def holds(self, local: dt.datetime) -> bool:
        """Whether this local wall-clock moment is inside the window."""
        day = WEEKDAYS[local.weekday()]
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
        now, start, end = local.hour * 60 + local.minute, _minutes(self.start), _minutes(self.end)
        if start < end:
            return day in self.days and start <= now < end
        # Overnight: from the start on a listed day, until the end on the day after it.
        return (day in self.days and now >= start) or (yesterday in self.days and now < end)

    def text(self) -> str:
        """The CLI's form back, runs of days as ranges: "mon-fri 08:00-18:00"."""
        runs: list[list[int]] = []
        for index in sorted(WEEKDAYS.index(d) for d in self.days):
            if runs and runs[-1][-1] == index - 1:
                runs[-1].append(index)
            else:
                runs.append([index])
        days = ",".join(
            WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}" for r in runs
        )
        return f"{days} {self.start}-{self.end}"

    @classmethod
    def parse(cls, text: str) -> Window:
        """The CLI's form: "mon-fri 08:00-18:00", "sat,sun 09:00-12:00", "tue 22:00-06:00"."""
        try:
            days_text, hours = text.strip().split()
            start, end = hours.split("-")
        except ValueError:
            raise FacegateError(
                f"{text!r} is not a schedule window: write days and hours, e.g. "
                '"mon-fri 08:00-18:00" or "sat,sun 09:00-12:00"'
            ) from None
        days: list[str] = []
        for part in days_text.lower().split(","):
            first, _, last = part.partition("-")
            if first not in WEEKDAYS or (last and last not in WEEKDAYS):
                raise FacegateError(f"{part!r}: days are {', '.join(WEEKDAYS)} (or a range)")
            low, high = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
            if high < low:
                raise FacegateError(f"{part!r}: a range of days goes from Monday to Sunday")
            days.extend(WEEKDAYS[low : high + 1])
        try:
            return cls.model_validate({"days": days, "start": start, "end": end})
        except ValueError as error:
            raise FacegateError(f"{text!r}: {error}") from None


@dataclass(frozen=True, kw_only=True)
class Validity:
    """Limits on a person or a credential; none set means always, without limit."""

    valid_from: float | None = None
    valid_until: float | None = None
    max_uses: int | None = None
    uses: int = 0
    schedule: tuple[Window, ...] = field(default=())

    def refusal(self, now: float, zone: dt.tzinfo | None) -> Reason | None:
        """Why this holder may not open a door at `now` (wall-clock seconds), or None."""
        if self.valid_until is not None and now >= self.valid_until:
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used_up"
        if self.valid_from is not None and now < self.valid_from:
            return "outside_schedule"
        if self.schedule:
            local = dt.datetime.fromtimestamp(now, tz=zone)
            if not any(window.holds(local) for window in self.schedule):
                return "outside_schedule"
        return None

    @property
    def limited(self) -> bool:
        return any(
            value is not None for value in (self.valid_from, self.valid_until, self.max_uses)
        ) or bool(self.schedule)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "max_uses": self.max_uses,
            "uses": self.uses,
            "schedule": [window.model_dump() for window in self.schedule],
        }

    def columns(self) -> tuple[float | None, float | None, int | None, str | None]:
        """valid_from, valid_until, max_uses and schedule as the store's columns hold them."""
        schedule = (
            json.dumps([w.model_dump() for w in self.schedule], separators=(",", ":"))
            if self.schedule
            else None
        )
        return self.valid_from, self.valid_until, self.max_uses, schedule

    @classmethod
    def of_row(cls, row: Any) -> Validity:
        schedule = row["schedule"]
        return cls(
            valid_from=row["valid_from"],
            valid_until=row["valid_until"],
            max_uses=row["max_uses"],
            uses=int(row["uses"]),
            schedule=tuple(Window.model_validate(w) for w in json.loads(schedule))
            if schedule
            else (),
        )

    def check(self) -> None:
        """Refuses limits that can never be met (FacegateError: the API answers 400)."""
        if self.max_uses is not None and not 1 <= self.max_uses <= MAX_USES:
            raise FacegateError(f"max_uses must be between 1 and {MAX_USES}")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise FacegateError("valid_until must be after valid_from")


def time_zone(name: str | None) -> dt.tzinfo | None:
    """The installation's time zone (None: the machine's local time)."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FacegateError(
            f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai or Europe/Berlin"
        ) from None


def moment(text: str, zone: dt.tzinfo | None, *, end: bool = False) -> float:
    """Wall-clock seconds of an ISO 8601 date or date-time; without an offset it is read in the
    installation's time zone. A bare date means the start of that day, or with `end` (a
    valid-until) the end of it: "until 2027-06-30" lets the visitor in on the 30th."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise FacegateError(
            f"{text!r} is not a date or time: write 2026-12-24 or 2026-12-24T18:00 "
            "(optionally with an offset, +08:00)"
        ) from None
    if end and _DATE.match(text.strip()):
        parsed += dt.timedelta(days=1)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone) if zone is not None else parsed.astimezone()
    return parsed.timestamp()
