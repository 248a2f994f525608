"""The demo's energy history: a year and a month of 15-minute meter readings ending now, so
energy reports have something to show (an office's weekday profile, the canteen's lunch,
summer cooling and winter heating), with what real data has: a meter replaced once and a
few hours of silence. Written once; a restarted demo continues from what is stored."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.domain import Reading
from hub.site import Site
from hub.site.energy import meters_of
from hub.telemetry.port import TelemetryStore

STEP = timedelta(minutes=15)
DAYS = 430  # last year's same month complete, for the year-on-year figures
BASE_KW = {"b1": 60.0, "b2": 45.0, "b3": 20.0}  # a building's mean working-hours load


def load_kw(building: str, local: datetime, rng: random.Random) -> float:
    """A plausible load: office hours on weekdays, night base load, seasons, some noise."""
    base = BASE_KW.get(building, 30.0)
    workday = local.isoweekday() <= 5
    h = local.hour + local.minute / 60
    if building == "b3":  # the canteen: breakfast, lunch, dinner
        shape = 0.3 + sum(1.2 * math.exp(-(((h - peak) / 0.8) ** 2)) for peak in (7.5, 11.8, 17.5))
    elif workday and 8 <= h < 18:
        shape = 1.0
    elif workday and 18 <= h < 21:
        shape = 0.45  # overtime
    else:
        shape = 0.22  # servers, lighting left on: the waste out-of-hours figures find
    day = local.timetuple().tm_yday
    season = (
        1
        + 0.4 * max(0.0, math.cos(2 * math.pi * (day - 205) / 365))
        + 0.25 * max(0.0, math.cos(2 * math.pi * (day - 15) / 365))
    )
    return base * shape * season * rng.uniform(0.92, 1.08)


async def seed_energy(store: TelemetryStore, site: Site, now: datetime) -> dict[str, float]:
    """Write the history unless the meters already have data; each counter's latest value
    (the simulated meters continue from it)."""
    meters = [m for m in meters_of(site) if m.point and m.building]
    points = [p for m in meters for p in (m.point, m.power_point) if p]
    latest = await store.latest(points)
    if latest:
        return {p: v.value for p, v in latest.items() if any(m.point == p for m in meters)}
    tz = ZoneInfo(site.site.timezone)
    rng = random.Random(2026)  # noqa: S311 - demo data, not a secret
    start = (now - timedelta(days=DAYS)).replace(minute=0, second=0, microsecond=0)
    replaced = start + timedelta(days=DAYS - 200)  # meter-b3 replaced: starts again at 0
    silent = (start + timedelta(days=DAYS - 20), start + timedelta(days=DAYS - 20, hours=5))
    counters = {m.id: 10_000.0 * (i + 1) for i, m in enumerate(meters)}
    batch: list[Reading] = []
    t = start
    while t < now:
        local = t.astimezone(tz)
        for m in meters:
            assert m.point is not None
            assert m.building is not None
            kw = load_kw(m.building, local, rng)
            counters[m.id] += kw * STEP.total_seconds() / 3600
            if m.building == "b3" and replaced <= t < replaced + STEP:
                counters[m.id] = 0.0
            if m.building == "b2" and silent[0] < t < silent[1]:
                continue
            batch.append(Reading(m.point, round(counters[m.id], 3), "kWh", t))
            if m.power_point:
                batch.append(Reading(m.power_point, round(kw * 1000, 1), "W", t))
        if len(batch) >= 20_000:
            await store.write(batch)
            batch = []
        t += STEP
    await store.write(batch)
    flush = getattr(store, "flush", None)
    if flush is not None:
        await flush()
    stored = await store.latest([m.point for m in meters if m.point])
    return {p: v.value for p, v in stored.items()}  # what was stored, not a hair above it
