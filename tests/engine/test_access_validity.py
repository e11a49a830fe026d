"""Validity of a person or a credential: from / until, uses, and weekly hours read on the wall
clock of the installation's time zone, daylight-saving changes included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from facegate.errors import FacegateError
from facegate.identity.validity import Validity, Window, moment, time_zone

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(text: str, zone: dt.tzinfo = BERLIN, fold: int = 0) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone, fold=fold).timestamp()


def _utc(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def test_windows_are_written_as_people_say_them() -> None:
    window = Window.parse("mon-wed,fri 08:00-18:00")
    assert window.days == ["mon", "tue", "wed", "fri"]
    assert window.text() == "mon-wed,fri 08:00-18:00"
    assert Window.parse("sat,sun 09:00-12:00").text() == "sat-sun 09:00-12:00"
    for wrong in ("someday 08:00-09:00", "mon 8-9", "fri-mon 08:00-09:00", "mon 25:00-26:00"):
        with pytest.raises(FacegateError):
            Window.parse(wrong)


def test_an_overnight_window_runs_into_the_next_day() -> None:
    night = Validity(schedule=(Window.parse("fri 22:00-06:00"),))
    assert night.refusal(_at("2026-12-04T23:30", SHANGHAI), SHANGHAI) is None  # Friday night
    assert night.refusal(_at("2026-12-05T05:59", SHANGHAI), SHANGHAI) is None  # Saturday dawn
    assert night.refusal(_at("2026-12-05T06:00", SHANGHAI), SHANGHAI) == "outside_schedule"
    assert night.refusal(_at("2026-12-04T05:00", SHANGHAI), SHANGHAI) == "outside_schedule"


def test_a_schedule_keeps_to_the_wall_clock_when_summer_time_begins() -> None:
    """Sunday 29 March 2026, Berlin: 02:00 CET jumps to 03:00 CEST. "sun 08:00-09:00" opens at
    08:00 on the clock, which is 06:00 UTC that day and 07:00 UTC the Sunday before."""
    cleaner = Validity(schedule=(Window.parse("sun 08:00-09:00"),))
    assert cleaner.refusal(_utc("2026-03-22T07:30"), BERLIN) is None  # 08:30 CET
    assert cleaner.refusal(_utc("2026-03-29T06:30"), BERLIN) is None  # 08:30 CEST
    # A fixed UTC offset taken from the week before would open at 09:30 CEST and refuse 08:30.
    assert cleaner.refusal(_utc("2026-03-29T07:30"), BERLIN) == "outside_schedule"
    # A window around the hour that does not exist: 01:30 CET and 03:15 CEST are both inside.
    early = Validity(schedule=(Window.parse("sun 01:00-03:30"),))
    assert early.refusal(_utc("2026-03-29T00:30"), BERLIN) is None  # 01:30 CET
    assert early.refusal(_utc("2026-03-29T01:15"), BERLIN) is None  # 03:15 CEST
    assert early.refusal(_utc("2026-03-29T01:45"), BERLIN) == "outside_schedule"  # 03:45 CEST


def test_a_schedule_keeps_to_the_wall_clock_when_summer_time_ends() -> None:
    """Sunday 25 October 2026, Berlin: 03:00 CEST falls back to 02:00 CET, so 02:30 happens
    twice; a window 02:00-03:00 holds both times, and 03:00 CET is outside."""
    window = Validity(schedule=(Window.parse("sun 02:00-03:00"),))
    first, second = _at("2026-10-25T02:30", fold=0), _at("2026-10-25T02:30", fold=1)
    assert second - first == 3600
    assert window.refusal(first, BERLIN) is None
    assert window.refusal(second, BERLIN) is None
    assert window.refusal(_at("2026-10-25T03:00"), BERLIN) == "outside_schedule"


def test_refusals_say_why_ended_before_not_yet() -> None:
    now = _at("2026-12-08T10:00", SHANGHAI)
    assert Validity(valid_until=now).refusal(now, SHANGHAI) == "expired"
    assert Validity(valid_from=now + 60).refusal(now, SHANGHAI) == "outside_schedule"
    assert Validity(max_uses=1, uses=1).refusal(now, SHANGHAI) == "used_up"
    assert Validity(max_uses=2, uses=1).refusal(now, SHANGHAI) is None
    # Ended outranks not-yet: an expired code is never told "come back later".
    ended = Validity(valid_until=now, schedule=(Window.parse("mon 08:00-09:00"),))
    assert ended.refusal(now, SHANGHAI) == "expired"
    with pytest.raises(FacegateError, match="after valid_from"):
        Validity(valid_from=now, valid_until=now).check()
    with pytest.raises(FacegateError, match="max_uses"):
        Validity(max_uses=0).check()


def test_moments_are_read_in_the_installation_time_zone() -> None:
    assert moment("2026-12-24T18:00", SHANGHAI) == _utc("2026-12-24T10:00")
    assert moment("2026-12-24T18:00+01:00", SHANGHAI) == _utc("2026-12-24T17:00")
    assert moment("2027-06-30", SHANGHAI) == _at("2027-06-30T00:00", SHANGHAI)
    # "until 2027-06-30" lets the visitor in all that day.
    assert moment("2027-06-30", SHANGHAI, end=True) == _at("2027-07-01T00:00", SHANGHAI)
    with pytest.raises(FacegateError, match="not a date"):
        moment("next tuesday", SHANGHAI)
    with pytest.raises(FacegateError, match="IANA"):
        time_zone("Mars/Olympus")
