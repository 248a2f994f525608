"""Patrol schedules: the occurrences in a window, however the windows move."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule

from hub.site.rules import parse_schedule

TZ = ZoneInfo("Asia/Shanghai")


def reference(text: str, after: datetime, until: datetime) -> list[datetime]:
    rule = rrule.rrulestr(text, dtstart=datetime(2020, 1, 1, tzinfo=TZ))
    return list(rule.between(after, until, inc=True))  # type: ignore[union-attr]


def test_moving_windows_give_each_start_once_as_dateutil_would() -> None:
    text = "FREQ=HOURLY;BYMINUTE=0"
    schedule = parse_schedule(text, "Asia/Shanghai")
    now = datetime(2026, 11, 26, 7, 59, 30, tzinfo=TZ)
    assert schedule.between(now - timedelta(minutes=30), now) == []
    checked = now
    starts = []
    for _ in range(24 * 60 * 6):  # a day of 10-second ticks
        now += timedelta(seconds=10)
        starts += [s for s in schedule.between(checked, now) if s > checked]
        checked = now
    first = datetime(2026, 11, 26, 8, tzinfo=TZ)
    assert starts == [first + timedelta(hours=h) for h in range(24)]
    # asked about the past (a dry run), it starts over and still answers right
    past = (datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 3, 3, tzinfo=TZ))
    assert schedule.between(*past) == reference(text, *past)


def test_a_finite_rule_runs_out() -> None:
    schedule = parse_schedule("FREQ=DAILY;BYHOUR=20;COUNT=3", "Asia/Shanghai")
    window = (datetime(2019, 12, 1, tzinfo=TZ), datetime(2030, 1, 1, tzinfo=TZ))
    assert schedule.between(*window) == reference("FREQ=DAILY;BYHOUR=20;COUNT=3", *window)
    assert len(schedule.between(*window)) == 3


def test_the_walls_question_about_the_tour_before_does_not_start_the_walk_over() -> None:
    """The rules' ticks ask about now, the wall's progress about the tour before: both are
    answered from the remembered starts, not by walking from 2020 again (which blocked the
    event loop for a third of a second every five seconds)."""
    text = "FREQ=HOURLY;BYMINUTE=0"
    schedule = parse_schedule(text, "Asia/Shanghai")
    now = datetime(2026, 11, 26, 8, 0, 5, tzinfo=TZ)
    assert schedule.between(now - timedelta(seconds=10), now) == [now.replace(second=0)]
    walk = schedule._gen  # the one walk from 2020
    for hour in range(50):
        later = now + timedelta(hours=hour)
        assert schedule.between(later - timedelta(seconds=10), later) == [later.replace(second=0)]
        day_before = (later - timedelta(days=1), later)
        assert schedule.between(*day_before) == reference(text, *day_before)
    assert schedule._gen is walk  # never started over
