"""Energy reports: consumption per meter, building and compound for a period, beside the
period before and the same period last year; intensity per m² and per person; peak 15-minute
demand; out-of-hours use (the waste figure); and the data's quality. Every sum over readings
is computed by the telemetry store (hub.telemetry.counters); this adds up windows."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hub.domain import Quality
from hub.services.energy.counting import Consumption, consumption
from hub.services.energy.figures import (
    COMPLETE,
    Series,
    coverage_of,
    peak_of,
    percent_change,
    roll,
    rounded,
    share_pct,
)
from hub.services.energy.meters import MeterTree
from hub.services.energy.report import EnergyReport
from hub.services.periods import Period
from hub.site import Site
from hub.site.calendar import BusinessCalendar
from hub.site.energy import Measure, Meter, meters_of
from hub.storage import Database
from hub.storage.models import Booking
from hub.telemetry import counters
from hub.telemetry.aggregate import AggFn
from hub.telemetry.counters import us
from hub.telemetry.port import TelemetryStore

HOUR, DAY, QUARTER = timedelta(hours=1), timedelta(days=1), timedelta(minutes=15)
RAW_LIMIT = 1_000_000  # readings of one irregular stretch of one meter
MEETING = ("confirmed", "checked_in")  # bookings that occupy their room
Progress = Callable[[str], None]
Span = tuple[datetime, datetime]


class EnergyService:
    """Builds energy reports from the site's meters and the telemetry store."""

    def __init__(
        self,
        site: Site,
        telemetry: TelemetryStore,
        *,
        db: Database | None = None,
        gap: timedelta = timedelta(minutes=15),
        offline_after: timedelta = timedelta(minutes=15),
        lookback: timedelta = timedelta(days=2),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.site = site
        self.tree = MeterTree(meters_of(site))
        self.telemetry = telemetry
        self.db = db
        self.gap, self.offline_after, self.lookback = gap, offline_after, lookback
        self.clock = clock
        self.tz = ZoneInfo(site.site.timezone)
        self.calendar = BusinessCalendar.of(site.site)
        self.points = site.point_ids()
        self.room_building = {r.id: r.building for r in site.rooms}

    # -- reading the store --------------------------------------------------------------------

    async def consumption(
        self, meters: Sequence[Meter], start: datetime, end: datetime, every: timedelta
    ) -> dict[str, Consumption]:
        """Each metered meter's consumption per window of (start, end]."""
        by_point = {m.point: m for m in meters if m.point}
        if not by_point:
            return {}
        offset = timedelta(microseconds=us(start - datetime(1970, 1, 1, tzinfo=UTC)) % us(every))
        deltas, steps = await counters.profile(
            self.telemetry.counter_windows,
            self._raw,
            list(by_point),
            start,
            end,
            every,
            offset=offset,
            gap=self.gap,
            lookback=self.lookback,
        )
        rows: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
        for r in deltas:
            rows[r.group].append((r.start, r.value))
        stepped = defaultdict(list)
        for s in steps:
            stepped[s.point].append(s)
        return {
            m.id: consumption(
                m.id,
                rows[p],
                stepped[p],
                start=start,
                end=end,
                every=every,
                gap=self.gap,
                rollover=m.rollover,
            )
            for p, m in by_point.items()
        }

    async def _raw(
        self, ranges: Sequence[tuple[str, datetime, datetime]]
    ) -> list[list[tuple[datetime, float]]]:
        """Each (point, lo, hi)'s good readings in (lo, hi], oldest first."""
        tick = timedelta(microseconds=1)
        asked = [(point, lo + tick, hi + tick) for point, lo, hi in ranges]
        found = await self.telemetry.histories(asked, limit=RAW_LIMIT)
        return [[(x.ts, x.value) for x in s if x.quality is not Quality.BAD] for s in found]

    async def _demand(
        self, meters: Sequence[Meter], period: Period
    ) -> dict[str, dict[datetime, float]]:
        """Mean power per 15 minutes (kW) of each meter with a power point."""
        points = {m.power_point: m for m in meters if m.power_point}
        if not points:
            return {}
        rows = await self.telemetry.aggregate(
            AggFn.MEAN, list(points), period.start, period.end, QUARTER, group_by="point"
        )
        out: dict[str, Series] = defaultdict(dict)
        for r in rows:
            m = points[r.group]
            unit = self.points[r.group][1].unit if r.group in self.points else "W"
            out[m.id][r.start] = r.value / 1000 if unit == "W" else r.value
        return out

    def _meetings(
        self, start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Booked meetings per building in [start, end)."""
        out: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        if self.db is None:
            return out
        q = select(Booking.room_id, Booking.start, Booking.end).where(
            Booking.start < end, Booking.end > start, Booking.status.in_(MEETING)
        )
        with self.db.session() as s:
            for room, a, b in s.execute(q):
                if room in self.room_building:
                    out[self.room_building[room]].append((a, b))
        return out

    def _occupied(self, building: str, w: datetime, meetings: dict[str, list[Span]]) -> bool:
        if self.calendar.minutes(w, w + HOUR) > 0:
            return True
        return any(a < w + HOUR and b > w for a, b in meetings.get(building, ()))

    # -- the report ---------------------------------------------------------------------------

    async def report(self, period: Period, progress: Progress | None = None) -> EnergyReport:
        """The energy report of a period."""
        say = progress or (lambda _: None)
        metered = self.tree.metered
        every = HOUR if period.kind == "day" else DAY  # the report's windows
        grain = DAY if period.kind == "year" else HOUR  # what is read (and checked) from the store
        say("consumption")
        fine = await self.consumption(metered, period.start, period.end, grain)
        now = {k: roll(c, period.start, every) for k, c in fine.items()}
        say("previous period")
        before_p = period.previous()
        coarse = HOUR if period.kind in ("day", "week") else DAY  # comparisons need totals
        before = await self.consumption(metered, before_p.start, before_p.end, coarse)
        say("last year")
        year_p = period.last_year()
        year = await self.consumption(metered, year_p.start, year_p.end, coarse)
        tops = {
            (b.id, x): self.tree.tops(x, b.id)
            for b in self.site.buildings
            for x in self.tree.measures()
        }
        compound_tops = [m for x in self.tree.measures() for m in self.tree.tops(x)]
        top_meters = list({m.id: m for ms in (*tops.values(), compound_tops) for m in ms}.values())
        say("out-of-hours use")
        hourly = (
            fine
            if grain == HOUR
            else await self.consumption(top_meters, period.start, period.end, HOUR)
        )
        meetings = await asyncio.to_thread(self._meetings, period.start, period.end)
        say("demand")
        demand = await self._demand(top_meters, period)
        latest = await self.telemetry.latest([m.point for m in metered if m.point])
        say("report")

        t_now = {k: v.total for k, v in now.items()}
        complete = self.clock() >= period.end
        windows = [
            period.start + i * every for i in range(int((period.end - period.start) / every))
        ]

        def figures(ms: list[Meter], area: float | None, people: int | None) -> dict[str, Any]:
            total = sum(t_now.get(m.id, 0.0) for m in ms)
            out: dict[str, Any] = {"unit": ms[0].measures.unit, "total": rounded(total)}
            # no reading at all in the period is not "0 kWh": the page says there is no data
            out["no_data"] = not any(
                m.id in now and (now[m.id].windows or now[m.id].estimated) for m in ms
            )
            for key, pct, c, p in (
                ("previous", "change_pct", before, before_p),
                ("last_year", "yoy_pct", year, year_p),
            ):
                cover = coverage_of(c, ms, p, coarse)
                value = sum(c[m.id].total for m in ms if m.id in c)
                out[key] = rounded(value) if cover else None
                out[f"{key}_coverage_pct"] = round(cover * 100, 1)
                # a comparison with a period missing data would mislead: none then
                # nor with a period still under way
                out[pct] = percent_change(total, value) if cover >= COMPLETE and complete else None
            out["per_m2"] = rounded(total / area) if area else None
            out["per_person"] = rounded(total / people) if people else None
            if ms[0].measures is Measure.ELECTRICITY:
                out.update(peak_of(ms, demand, self.tz))
            return out

        buildings: list[dict[str, Any]] = []
        for b in self.site.buildings:
            measures: dict[str, Any] = {}
            for x in self.tree.measures():
                ms = tops[(b.id, x)]
                if not ms:
                    continue
                entry = figures(ms, b.area_m2, b.occupants)
                ooh = sum(
                    v
                    for m in ms
                    for w, v in hourly.get(m.id, Consumption()).windows.items()
                    if not self._occupied(b.id, w, meetings)
                )
                entry["out_of_hours"] = rounded(ooh)
                entry["out_of_hours_pct"] = share_pct(ooh, entry["total"])
                entry["series"] = [
                    rounded(sum(now[m.id].windows.get(w, 0.0) for m in ms if m.id in now))
                    for w in windows
                ]
                measures[x.value] = entry
            if measures:
                buildings.append(
                    {
                        "id": b.id,
                        "name": b.name,
                        "name_en": b.name_en,
                        "area_m2": b.area_m2,
                        "occupants": b.occupants,
                        "measures": measures,
                    }
                )
        compound = {}
        area = sum(b.area_m2 or 0 for b in self.site.buildings)
        people = sum(b.occupants or 0 for b in self.site.buildings)
        for x in self.tree.measures():
            ms = self.tree.tops(x)
            if not ms:
                continue
            entry = figures(ms, area, people)
            ooh = sum(
                bd["measures"][x.value]["out_of_hours"]
                for bd in buildings
                if x.value in bd["measures"]
            )
            entry["out_of_hours"] = rounded(ooh)
            entry["out_of_hours_pct"] = share_pct(ooh, entry["total"])
            compound[x.value] = entry
        meters = []
        for m in self.tree.meters.values():
            c = now.get(m.id)
            meters.append(
                {
                    "id": m.id,
                    "name": m.name,
                    "name_en": m.name_en,
                    "measures": m.measures.value,
                    "unit": m.measures.unit,
                    "building": m.building,
                    "parent": m.parent,
                    "virtual": m.virtual is not None,
                    "total": rounded(self.tree.value(m.id, t_now)),
                    "coverage_pct": round(len(c.windows) / len(windows) * 100, 1)
                    if c is not None and windows
                    else None,
                }
            )
        return EnergyReport.model_validate(
            {
                "site": self.site.site.name,
                "site_en": self.site.site.name_en,
                "period": {
                    "kind": period.kind,
                    "label": period.label,
                    "first": period.first.isoformat(),
                    "last": period.last.isoformat(),
                    "previous": before_p.label,
                    "last_year": year_p.label,
                    "every": "hour" if every == HOUR else "day",
                    "complete": complete,  # False: the period is still under way
                    "windows": [w.astimezone(self.tz).isoformat() for w in windows],
                },
                "compound": compound,
                "buildings": buildings,
                "meters": meters,
                "quality": self._quality(metered, now, windows, latest),
                "generated_at": self.clock().isoformat(),
            }
        )

    def _quality(
        self,
        metered: list[Meter],
        now: dict[str, Consumption],
        windows: list[datetime],
        latest: dict[str, Any],
    ) -> dict[str, Any]:
        flags = [
            {
                "meter": f.meter,
                "kind": f.kind,
                "from": f.start.astimezone(self.tz).isoformat(),
                "to": f.end.astimezone(self.tz).isoformat(),
                "amount": rounded(f.amount),
            }
            for c in now.values()
            for f in c.flags
        ]
        estimated = {
            m: [w.astimezone(self.tz).isoformat() for w in sorted(c.estimated)]
            for m, c in now.items()
            if c.estimated
        }
        missing = {
            m: [
                w.astimezone(self.tz).isoformat()
                for w in windows
                if w not in c.windows and w not in c.estimated
            ]
            for m, c in now.items()
        }
        cutoff = self.clock() - self.offline_after
        offline = []
        for m in metered:
            seen = latest.get(m.point) if m.point else None
            if seen is None or seen.ts < cutoff:
                offline.append(
                    {
                        "meter": m.id,
                        "last_seen": seen.ts.astimezone(self.tz).isoformat() if seen else None,
                    }
                )
        return {
            "flags": flags,
            "estimated": estimated,
            "missing": {m: w for m, w in missing.items() if w},
            "offline": offline,
            "gap_min": self.gap.total_seconds() / 60,
        }
