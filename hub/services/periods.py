"""Report periods in the site's time zone: a day, an ISO week, a month or a year; the one
before it and the same one a year earlier."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

KINDS = ("day", "week", "month", "year")
T = TypeVar("T")
C = TypeVar("C")
_FORMS = {
    "day": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "year": re.compile(r"^(\d{4})$"),
}


@dataclass(frozen=True, slots=True)
class Period:
    """[first, last] days, site time; `start`/`end` the instants that bound it."""

    kind: str
    first: date
    last: date
    tz: ZoneInfo

    @property
    def label(self) -> str:
        """2026-10-05, 2026-W41, 2026-10 or 2026."""
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            y, w, _ = self.first.isocalendar()
            return f"{y}-W{w:02d}"
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        return f"{self.first:%Y}"

    @property
    def start(self) -> datetime:
        """Midnight at the start of the first day."""
        return datetime.combine(self.first, time(0), self.tz)

    @property
    def end(self) -> datetime:
        """Midnight at the end of the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.tz)

    @property
    def days(self) -> int:
        """How many days it has."""
        return (self.last - self.first).days + 1

    def shifted(self, **delta: int) -> Period:
        """The same kind of period moved by a relativedelta (e.g. months=-1)."""
        return period_at(self.kind, self.first + relativedelta(**delta), self.tz)  # type: ignore[arg-type]

    def previous(self) -> Period:
        """The period just before."""
        step = {"day": {"days": -1}, "week": {"weeks": -1}, "month": {"months": -1}}
        return self.shifted(**step.get(self.kind, {"years": -1}))

    def last_year(self) -> Period:
        """The same period a year earlier (the same ISO week number for weeks)."""
        if self.kind == "week":
            y, w, _ = self.first.isocalendar()
            try:
                return period_at("week", date.fromisocalendar(y - 1, w, 1), self.tz)
            except ValueError:  # week 53 in a year that had 52
                return period_at("week", date.fromisocalendar(y - 1, 52, 1), self.tz)
        return self.shifted(years=-1)


def period_at(kind: str, day: date, tz: ZoneInfo) -> Period:
    """The period of this kind holding `day`."""
    if kind == "day":
        return Period(kind, day, day, tz)
    if kind == "week":
        first = day - timedelta(days=day.isoweekday() - 1)
        return Period(kind, first, first + timedelta(days=6), tz)
    if kind == "month":
        first = day.replace(day=1)
        return Period(kind, first, first + relativedelta(months=1) - timedelta(days=1), tz)
    if kind == "year":
        return Period(kind, date(day.year, 1, 1), date(day.year, 12, 31), tz)
    raise ValueError(f"a period is one of {', '.join(KINDS)}")


FIRST_YEAR, LAST_YEAR = 2000, 2199  # beyond, comparisons a year back and forth overflow


def parse_period(text: str, tz: ZoneInfo) -> Period:
    """2026-10-05 (a day), 2026-W41 (an ISO week), 2026-10 (a month), 2026 (a year)."""
    text = text.strip()
    if text[:4].isdigit() and not FIRST_YEAR <= int(text[:4]) <= LAST_YEAR:
        raise ValueError(f"no such period {text!r} (years {FIRST_YEAR}–{LAST_YEAR})")
    for kind, form in _FORMS.items():
        m = form.match(text)
        if not m:
            continue
        try:
            if kind == "day":
                return period_at(kind, date.fromisoformat(text), tz)
            if kind == "week":
                return period_at(kind, date.fromisocalendar(int(m[1]), int(m[2]), 1), tz)
            if kind == "month":
                return period_at(kind, date(int(m[1]), int(m[2]), 1), tz)
            return period_at(kind, date(int(m[1]), 1, 1), tz)
        except ValueError as err:
            raise ValueError(f"no such period {text!r}") from err
    raise ValueError(f"a period looks like 2026-10-05, 2026-W41, 2026-10 or 2026, not {text!r}")


def last_complete(kind: str, now: datetime, tz: ZoneInfo) -> Period:
    """The newest period of this kind that has ended by `now`."""
    today = now.astimezone(tz).date()
    return period_at(kind, today, tz).previous()


def by_month(
    things: Iterable[T],
    when: Callable[[T], datetime],
    key: Callable[[T], str],
    tz: ZoneInfo,
    new: Callable[[], C],
    add: Callable[[C, T], None],
) -> list[tuple[int, str, C]]:
    """A year's figures: each thing added to the cell of its month (site time) and of the
    year (month 0), under its key and under all keys (""); (month, key, cell), months in
    order with the year last, all keys first."""
    cells: dict[tuple[int, str], C] = {}
    for t in things:
        month, k = when(t).astimezone(tz).month, key(t)
        for cell in ((month, k), (month, ""), (0, k), (0, "")):
            if cell not in cells:
                cells[cell] = new()
            add(cells[cell], t)
    ordered = sorted(cells.items(), key=lambda kv: (kv[0][0] or 13, kv[0][1]))
    return [(month, k, c) for (month, k), c in ordered]
