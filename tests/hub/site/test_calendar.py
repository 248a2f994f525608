"""The business calendar: working days, hours, holidays and the weekend days worked instead."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hub.site.calendar import BusinessCalendar

SH = BusinessCalendar(
    "08:30-17:30",
    holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}),
    extra_workdays=frozenset({date(2026, 9, 27)}),  # a Sunday worked for the National Day
)


def at(day: int, month: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH.tz)


def test_minutes_over_nights_weekends_and_holidays() -> None:
    assert SH.minutes(at(27, 11, 17, 0), at(30, 11, 9, 0)) == 60  # Friday 17:00 -> Monday 9:00
    assert SH.minutes(at(23, 11, 7, 0), at(23, 11, 20, 0)) == 9 * 60
    assert SH.minutes(at(30, 9, 17, 0), at(5, 10, 9, 0)) == 60  # 1-2 Oct off; 3-4 weekend
    assert SH.minutes(at(26, 9, 12, 0), at(28, 9, 8, 30)) == 9 * 60  # Sunday 27th worked
    assert SH.minutes(at(23, 11, 12, 0), at(23, 11, 11, 0)) == 0


def test_business_hours_must_not_pass_midnight() -> None:
    with pytest.raises(ValueError, match="midnight"):
        BusinessCalendar("22:00-06:00")


def test_after_is_the_inverse_of_minutes_and_skips_closed_time() -> None:
    # Friday 17:00 + 60 business minutes: 30 on Friday, 30 on Monday morning
    assert SH.after(at(27, 11, 17, 0), 60) == at(30, 11, 9, 0)
    assert SH.after(at(23, 11, 7, 0), 30) == at(23, 11, 9, 0)  # from before opening
    assert SH.after(at(30, 9, 17, 0), 60) == at(5, 10, 9, 0)  # over the National Day holiday
    assert SH.after(at(26, 9, 17, 0), 60) == at(27, 9, 9, 30)  # Saturday off, Sunday 27th worked
    start = at(24, 11, 10, 17)
    for minutes in (0, 1, 200, 540, 2000):
        assert SH.minutes(start, SH.after(start, minutes)) == pytest.approx(minutes)
