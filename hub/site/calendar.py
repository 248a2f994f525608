"""The compound's business calendar: which minutes count toward a service-level target."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.site.hours import parse_hours
from hub.site.model import SiteInfo


class BusinessCalendar:
    """Working days (ISO weekdays, minus holidays, plus the weekend days worked instead) and
    daily business hours, in the site's time zone."""

    def __init__(
        self,
        hours: str = "08:30-17:30",
        workdays: frozenset[int] = frozenset({1, 2, 3, 4, 5}),
        holidays: frozenset[date] = frozenset(),
        extra_workdays: frozenset[date] = frozenset(),
        tz: str = "Asia/Shanghai",
    ) -> None:
        self.start, self.end = parse_hours(hours)
        if not self.start < self.end and self.end != time(0, 0):
            raise ValueError(f"business hours {hours!r} must not pass midnight")
        self.workdays = workdays
        self.holidays = holidays
        self.extra_workdays = extra_workdays
        self.tz = ZoneInfo(tz)

    @classmethod
    def of(cls, info: SiteInfo) -> BusinessCalendar:
        """The calendar the site file describes."""
        return cls(
            info.business_hours,
            frozenset(info.workdays),
            frozenset(info.holidays),
            frozenset(info.extra_workdays),
            info.timezone,
        )

    def is_workday(self, day: date) -> bool:
        """Whether business is done on `day`."""
        if day in self.extra_workdays:
            return True
        return day.isoweekday() in self.workdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        opens = datetime.combine(day, self.start, self.tz)
        closes = datetime.combine(
            day + timedelta(days=1) if self.end == time(0, 0) else day, self.end, self.tz
        )
        return opens, closes

    def minutes(self, start: datetime, end: datetime) -> float:
        """Business minutes between two instants (0 when end is not after start)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_workday(day):
                opens, closes = self._window(day)
                overlap = min(end, closes) - max(start, opens)
                if overlap > timedelta(0):
                    total += overlap.total_seconds() / 60
            day += timedelta(days=1)
        return total

    def after(self, start: datetime, minutes: float) -> datetime:
        """The instant at which `minutes` business minutes have passed since `start`."""
        left = timedelta(minutes=max(0.0, minutes))
        day = start.astimezone(self.tz).date()
        for _ in range(3660):  # ten years of days: a target never needs more
            if self.is_workday(day):
                opens, closes = self._window(day)
                begin = max(start, opens)
                if closes > begin:
                    if begin + left <= closes:
                        return begin + left
                    left -= closes - begin
            day += timedelta(days=1)
        raise ValueError("the calendar has no business hours within ten years")
