"""Daily hour windows ("08:30-17:30", "22:00-06:00" past midnight) used across the site file."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def parse_hours(spec: str) -> tuple[time, time]:
    """ "22:00-06:00" as (start, end); a window past midnight wraps."""
    m = _HOURS.match(spec.strip())
    if not m or m.group(1, 2) == m.group(3, 4):
        raise ValueError(f"{spec!r}: give HH:MM-HH:MM, e.g. 22:00-06:00")
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    return time(h1, m1), (time(0, 0) if h2 == 24 else time(h2, m2))


def in_hours(spec: str | None, ts: datetime, tz: str) -> bool:
    """Whether `ts` falls in the daily window `spec` (always, without one)."""
    if spec is None:
        return True
    start, end = parse_hours(spec)
    t = ts.astimezone(ZoneInfo(tz)).time()
    return start <= t < end if start < end else (t >= start or t < end)


def check_hours(spec: str | None) -> str | None:
    """A pydantic validator: the window parses (or is absent)."""
    if spec is not None:
        parse_hours(spec)
    return spec
