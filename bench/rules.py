"""Rules engine: geofence evaluation throughput and event-to-alarm latency, beside a naive
per-fence loop in the same run.

1,000 geofences (circles of 50-300 m over the district), 200 rules (180 geofence "enter"
rules on distinct fences, 20 threshold rules), 2,000 vehicles on random walks (~30 m per fix,
so they cross fence edges now and then).
- throughput: fixes/s through `RuleEngine.evaluate` (STRtree query per batch, only the rules
  of fences whose side a subject changed) beside the naive engine: for every fix, every
  geofence rule asks its prepared fence whether the point is inside and steps its state;
- latency: 10,000 fixes/s published into the hub's pipeline for a stretch; from publishing a
  fix to the alarm reaching the alarm book (an in-memory one: the database is not measured
  here), p50 / p99.
Goals: >= 10x the naive rate; p99 < 100 ms at 10k fixes/s.

    python bench/rules.py [--quick]
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from _common import ROOT, parse, result
from shapely import Point
from shapely.prepared import prep

from hub.domain import Action, PositionFix, Raise, StoredRule, SubjectKind
from hub.pipeline import Pipeline
from hub.runtime import load_site_for_hub
from hub.site import Site
from hub.site.model import Geofence
from hub.site.rules import GeofenceRule, ThresholdRule
from rules.engine import RuleEngine
from rules.kinds import geofence
from rules.memory import MemoryAlarmBook, MemoryStateStore

FENCES, GEO_RULES, OTHER_RULES, VEHICLES = 1000, 180, 20, 2000
LAT0, LAT1, LON0, LON1 = 30.23, 30.29, 120.09, 120.17  # the demo district


class Book(MemoryAlarmBook):
    """The in-memory alarm book, noting when each raise arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.raised: list[tuple[str, float]] = []

    def commit(
        self, actions: Sequence[Action], states: Mapping[str, StoredRule], now: datetime
    ) -> None:
        at = time.perf_counter()
        self.raised += [(a.originator, at) for a in actions if isinstance(a, Raise)]
        super().commit(actions, states, now)


def build_site(rng: random.Random) -> Site:
    base = load_site_for_hub(ROOT / "hub" / "demo" / "site.yaml")
    fences = [
        Geofence.model_validate(
            {
                "id": f"gf-{i}",
                "name": f"围栏{i}",
                "applies_to": ["vehicle"],
                "geometry": {
                    "type": "Circle",
                    "center": {"lat": rng.uniform(LAT0, LAT1), "lon": rng.uniform(LON0, LON1)},
                    "radius_m": rng.uniform(50, 300),
                },
            }
        )
        for i in range(FENCES)
    ]
    rules: list[GeofenceRule | ThresholdRule] = [
        GeofenceRule(id=f"enter-{i}", kind="geofence", fence=f"gf-{i}", when="enter")
        for i in range(GEO_RULES)
    ]
    rules += [
        ThresholdRule(id=f"hot-{i}", kind="threshold", point="ahu-b2.supply_temp", above=30 + i)
        for i in range(OTHER_RULES)
    ]
    return base.model_copy(update={"geofences": fences, "rules": rules, "devices": []})


class Fleet:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pos = [(rng.uniform(LAT0, LAT1), rng.uniform(LON0, LON1)) for _ in range(VEHICLES)]
        self.i = 0

    def fixes(self, n: int) -> list[PositionFix]:
        out = []
        now = datetime.now(UTC)
        for _ in range(n):
            v = self.i % VEHICLES
            self.i += 1
            lat, lon = self.pos[v]
            lat = min(max(lat + self.rng.uniform(-3e-4, 3e-4), LAT0), LAT1)
            lon = min(max(lon + self.rng.uniform(-3e-4, 3e-4), LON0), LON1)
            self.pos[v] = (lat, lon)
            out.append(PositionFix(f"v{v}", SubjectKind.VEHICLE, now, "bench", lat=lat, lon=lon))
        return out


class NaiveEngine:
    """The obvious way: every geofence rule checks every fix against its fence."""

    def __init__(self, site: Site) -> None:
        shapes = {g.id: prep(g.geometry.to_shape()) for g in site.geofences}
        self.rules = [(r, shapes[r.fence], {}) for r in site.rules if isinstance(r, GeofenceRule)]
        self.actions = 0

    def evaluate(self, fixes: list[PositionFix]) -> None:
        for fix in fixes:
            point = Point(fix.lon, fix.lat)
            for rule, shape, state in self.rules:
                sub, acts = geofence.step(
                    state.get(fix.subject_id), fix.ts, shape.contains(point), rule, fix.subject_id
                )
                if sub is None:
                    state.pop(fix.subject_id, None)
                else:
                    state[fix.subject_id] = sub
                self.actions += len(acts)


def throughput(site: Site, n_engine: int, n_naive: int) -> tuple[float, float, int, int]:
    rng = random.Random(7)
    engine = RuleEngine(site, MemoryStateStore(), Book())
    fleet = Fleet(rng)
    engine.evaluate(fleet.fixes(VEHICLES), datetime.now(UTC))  # first fixes: every rule runs
    batches = [fleet.fixes(500) for _ in range(n_engine // 500)]
    gc.collect()
    gc.freeze()  # as a started hub does (hub.runtime): no full collection walks the setup
    t = time.perf_counter()
    actions = 0
    for batch in batches:
        actions += len(engine.evaluate(batch, datetime.now(UTC)))
    fast = n_engine / (time.perf_counter() - t)

    naive = NaiveEngine(site)
    fleet = Fleet(random.Random(7))
    naive.evaluate(fleet.fixes(VEHICLES))
    batch = fleet.fixes(n_naive)
    naive.actions = 0
    t = time.perf_counter()
    naive.evaluate(batch)
    slow = n_naive / (time.perf_counter() - t)
    return fast, slow, actions, naive.actions


async def latency(site: Site, seconds: float, rate: int) -> tuple[list[float], int]:
    book = Book()
    engine = RuleEngine(site, book.store, book)
    pipeline = Pipeline(maxsize=100_000)
    pipeline.subscribe("rules", engine, kinds=("position",), max_batch=1000)
    await pipeline.start()
    fleet = Fleet(random.Random(11))
    await pipeline.publish_many("bench", fleet.fixes(VEHICLES))
    await asyncio.sleep(1.0)
    sent_at: dict[str, list[float]] = {}
    book.raised.clear()
    step = 0.01
    per_step = int(rate * step)
    start = time.perf_counter()
    sent = 0
    while time.perf_counter() - start < seconds:
        batch = fleet.fixes(per_step)
        now = time.perf_counter()
        for f in batch:
            sent_at.setdefault(f.subject_id, []).append(now)
        await pipeline.publish_many("bench", batch)
        sent += len(batch)
        delay = start + (sent / rate) - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))
    await asyncio.sleep(0.5)
    await pipeline.stop()
    # The fix that raised an alarm is its subject's newest fix published before the alarm
    # (a vehicle's fixes are 0.2 s apart at this rate, so this holds below 200 ms).
    lat = []
    for o, t in book.raised:
        times = sent_at.get(o, [])
        i = bisect.bisect_right(times, t)
        if i:
            lat.append((t - times[i - 1]) * 1000)
    return lat, sent


def main() -> None:
    args = parse(__doc__ or "")
    site = build_site(random.Random(3))
    n_engine, n_naive, seconds = (40_000, 4_000, 5.0) if args.quick else (200_000, 20_000, 30.0)
    fast, slow, a1, a2 = throughput(site, n_engine, n_naive)
    print(f"engine: {fast:,.0f} fixes/s ({a1} actions); naive: {slow:,.0f} fixes/s ({a2} actions)")
    lat, sent = asyncio.run(latency(site, seconds, 10_000))
    lat.sort()
    p50 = statistics.median(lat) if lat else float("nan")
    p99 = lat[int(len(lat) * 0.99)] if lat else float("nan")
    print(f"paced 10k fixes/s: {sent} fixes, {len(lat)} alarms, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    result(
        "rules",
        fast,
        "fixes/s",
        slow,
        10,
        p50_ms=round(p50, 1),
        p99_ms=round(p99, 1),
        p99_goal_ms=100,
        alarms=len(lat),
        fences=FENCES,
        rules=GEO_RULES + OTHER_RULES,
    )


if __name__ == "__main__":
    main()
