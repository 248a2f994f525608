"""The arithmetic of an energy report's figures: rounding, changes and shares in percent, the
coverage of a comparison period, fine windows rolled up into the report's, the peak demand of
meters together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.services.energy.counting import Consumption
from hub.services.periods import Period
from hub.site.energy import Meter

Series = dict[datetime, float]


def percent_change(now: float, then: float | None) -> float | None:
    return round((now / then - 1) * 100, 1) if then else None


def rounded(x: float) -> float:
    return round(x, 3)


def share_pct(part: float, whole: float) -> float | None:
    return round(part / whole * 100, 1) if whole > 0 else None


COMPLETE = 0.95  # a comparison period with less of its windows metered gets no change %


def coverage_of(
    c: dict[str, Consumption], ms: Sequence[Meter], p: Period, every: timedelta
) -> float:
    """The share of a period's windows with data (or an estimate), for its worst meter."""
    n = int((p.end - p.start) / every)
    if not ms or n == 0:
        return 0.0
    return min(len(set(c[m.id].windows) | c[m.id].estimated) / n if m.id in c else 0.0 for m in ms)


def roll(c: Consumption, start: datetime, every: timedelta) -> Consumption:
    """Fine windows added up into the report's windows (which hold whole fine windows)."""
    out = Consumption(flags=c.flags)
    for w, v in c.windows.items():
        k = start + ((w - start) // every) * every
        out.windows[k] = out.windows.get(k, 0.0) + v
    out.estimated = {start + ((w - start) // every) * every for w in c.estimated}
    return out


def peak_of(ms: Sequence[Meter], demand: dict[str, Series], tz: ZoneInfo) -> dict[str, Any]:
    """The highest 15-minute demand of these meters together, and when."""
    summed: Series = defaultdict(float)
    for m in ms:
        for w, kw in demand.get(m.id, {}).items():
            summed[w] += kw
    if not summed:
        return {}
    at, kw = max(summed.items(), key=lambda kv: kv[1])
    return {"peak_demand_kw": rounded(kw), "peak_at": at.astimezone(tz).isoformat()}
