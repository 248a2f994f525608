"""Energy report time: aggregation pushed down to the telemetry store beside pulling the raw
points and aggregating in Python, same data, same run, on InfluxDB (Debian's influxd) and on
SQLite.

A month of 1-minute counter readings for 200 meters (3 building meters with power points,
197 sub-meters below them; one counter reset and one gap in the data). The hub's path is
`EnergyService.report()` for the month — daily consumption per meter with reset and gap
handling, the month before and the same month last year, hourly out-of-hours use, peak
15-minute demand, data quality. The naive path only pulls every meter's raw readings for the
month (`history()`) and computes the same daily consumption in Python; its figures are
checked equal to the report's. Goals: >= 10x faster than the naive path; the month's report
in under 10 s.

    python bench/report.py [--quick]      (--quick: 5 days instead of a month)
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from _common import ROOT, parse, result

from hub.domain import Reading
from hub.runtime import load_site_for_hub, make_telemetry
from hub.services.energy.service import EnergyService
from hub.services.periods import Period
from hub.settings import Settings
from hub.site import Site
from hub.telemetry.port import TelemetryStore
from tests.support.servers import influx_server

TZ = ZoneInfo("Asia/Shanghai")
METERS = 200
FIRST = datetime(2026, 10, 1, tzinfo=TZ)
GAP = timedelta(minutes=15)


def bench_site(tmp: Path) -> Site:
    """The demo compound with 200 meters: a main meter per building, sub-meters below."""
    raw = yaml.safe_load((ROOT / "hub" / "demo" / "site.yaml").read_text(encoding="utf-8"))
    buildings = ["b1", "b2", "b3"]
    devices, meters = [], []
    for i in range(METERS):
        b = buildings[i % 3]
        points = [{"id": "energy", "unit": "kWh", "kind": "counter"}]
        if i < 3:
            points.append({"id": "power", "unit": "W"})
        devices.append(
            {
                "id": f"em-{i:03d}",
                "name": f"电表{i}",
                "kind": "energy_meter",
                "protocol": "mqtt",
                "building": b,
                "points": points,
            }
        )
        meter = {
            "id": f"m-{i:03d}",
            "name": f"电表{i}",
            "point": f"em-{i:03d}.energy",
            "building": b,
        }
        if i < 3:
            meter["power_point"] = f"em-{i:03d}.power"
        else:
            meter["parent"] = f"m-{i % 3:03d}"
        meters.append(meter)
    raw["devices"] = raw["devices"] + devices
    raw["meters"] = meters
    raw.pop("rules", None)
    for b in raw["buildings"]:
        for f in b.get("floors", []):
            f.pop("plan", None)
    path = tmp / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_site_for_hub(path)


def readings(days: int) -> Iterator[list[Reading]]:
    """A day of minute readings at a time. Meter 7 is reset on day 2 at 10:00; meter 8 is
    silent for two hours on day 3."""
    for d in range(days):
        day: list[Reading] = []
        for m in range(24 * 60):
            ts = (FIRST + timedelta(days=d, minutes=m)).astimezone(UTC)
            minute = d * 1440 + m
            for i in range(METERS):
                if i == 8 and d == 3 and 120 <= m < 240:
                    continue
                value = 1000.0 * i + minute * (0.2 + i % 7 * 0.05)
                if i == 7 and minute > 1440 + 600:
                    value = (minute - 1440 - 600) * 0.55
                day.append(Reading(f"em-{i:03d}.energy", round(value, 3), "kWh", ts))
                if i < 3:
                    day.append(Reading(f"em-{i:03d}.power", 20_000.0 + 500 * (m % 60), "W", ts))
        yield day


def naive_daily(samples: list[tuple[datetime, float]], start: datetime, days: int) -> list[float]:
    """Daily consumption computed from raw readings in Python, the report's rules: windows
    interval-ending, a drop counts the new reading (a reset), a gap spread over its time."""
    out = [0.0] * days
    span = timedelta(days=1)

    def add(a: datetime, b: datetime, amount: float) -> None:
        if b - a <= GAP:
            k = (b - start - timedelta(microseconds=1)) // span
            if 0 <= k < days:
                out[k] += amount
            return
        total = (b - a).total_seconds()
        for k in range(days):
            lo, hi = start + k * span, start + (k + 1) * span
            overlap = (min(hi, b) - max(lo, a)).total_seconds()
            if overlap > 0:
                out[k] += amount * overlap / total

    for (t1, v1), (t2, v2) in itertools.pairwise(samples):
        add(t1, t2, v2 - v1 if v2 >= v1 else v2)
    return out


class Counted:
    """The InfluxDB store's HTTP queries during the report: how many requests and statements
    the hub sent (what it controls), and the longest request (influxd's own share)."""

    def __init__(self, store: TelemetryStore) -> None:
        self.http = getattr(store, "http", None)
        self.requests = self.statements = 0
        self.longest = 0.0

    def __enter__(self) -> Counted:
        if self.http is not None:
            plain = self.http.query_all

            def counted(q: str, timeout: float | None = None) -> list[list[dict[str, object]]]:
                t0 = time.perf_counter()
                try:
                    return plain(q, timeout)  # type: ignore[no-any-return]
                finally:
                    self.requests += 1
                    self.statements += q.count("SELECT")
                    self.longest = max(self.longest, time.perf_counter() - t0)

            self.http.query_all = counted
        return self

    def __exit__(self, *_: object) -> None:
        if self.http is not None:
            del self.http.query_all  # the class's method again


async def measure(store: TelemetryStore, site: Site, days: int) -> dict[str, float]:
    period = Period("month", FIRST.date(), (FIRST + timedelta(days=days - 1)).date(), TZ)
    energy = EnergyService(site, store, gap=GAP, clock=lambda: period.end)
    t0 = time.perf_counter()
    with Counted(store) as counted:
        report = await energy.report(period)
    pushed = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive: dict[str, list[float]] = {}
    for i in range(METERS):
        point = f"em-{i:03d}.energy"
        raw = await store.history(
            point,
            period.start - timedelta(days=1),
            period.end + timedelta(microseconds=1),
            limit=10_000_000,
        )
        naive[f"m-{i:03d}"] = naive_daily([(s.ts, s.value) for s in raw], period.start, days)
    pulled = time.perf_counter() - t0
    # the same figures: the building main meters' daily series and every meter's total
    by_meter = {m.id: m.total or 0.0 for m in report.meters}
    for i in range(METERS):
        mid = f"m-{i:03d}"
        assert abs(by_meter[mid] - sum(naive[mid])) < 1e-6 * max(1.0, by_meter[mid]), mid
    main = {b.id: b.measures["electricity"].series or [] for b in report.buildings}
    for i, b in enumerate(["b1", "b2", "b3"]):
        got, want = main[b], naive[f"m-{i:03d}"]
        assert all(abs(x - y) < 1e-3 for x, y in zip(got, want, strict=True)), (b, got, want)
    return {
        "pushed_s": pushed,
        "naive_s": pulled,
        "requests": counted.requests,
        "statements": counted.statements,
        "longest_s": counted.longest,
    }


async def fill(store: TelemetryStore, days: int) -> float:
    t0 = time.perf_counter()
    for day in readings(days):
        for i in range(0, len(day), 50_000):
            await store.write(day[i : i + 50_000])
        flush = getattr(store, "flush", None)
        if flush is not None:
            assert await flush(), "the spool did not drain"
    return time.perf_counter() - t0


async def run(store: TelemetryStore, site: Site, days: int, label: str) -> dict[str, float]:
    """Fill the store with the days' readings, then measure the report on it."""
    await store.start()
    try:
        filled = await fill(store, days)
        print(f"{label}: {days} days written in {filled:.1f} s", file=sys.stderr)
        return await measure(store, site, days)
    finally:
        await store.close()


async def run_sqlite(site: Site, tmp: Path, days: int) -> dict[str, float]:
    store = make_telemetry(Settings(data_dir=tmp, secret_key="b" * 48), site)
    return await run(store, site, days, "sqlite")


async def run_influx(site: Site, tmp: Path, days: int) -> dict[str, float]:
    with influx_server(max_body=100_000_000) as server:
        where = server.new_database(f"r_{uuid.uuid4().hex[:8]}")
        settings = Settings(
            data_dir=tmp,
            secret_key="b" * 48,
            telemetry_backend="influxdb",
            influx={"url": server.url, "timeout_s": 120, **where},
        )
        return await run(make_telemetry(settings, site), site, days, "influxdb")


def main() -> None:
    args = parse(__doc__.splitlines()[0])
    days = 5 if args.quick else 31
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    site = bench_site(tmp)
    sq = asyncio.run(run_sqlite(site, tmp / "sqlite", days))
    print(
        f"sqlite:   report {sq['pushed_s']:.2f} s pushed down, {sq['naive_s']:.2f} s pulling "
        f"raw points ({sq['naive_s'] / sq['pushed_s']:.1f}x)",
        file=sys.stderr,
    )
    fx = asyncio.run(run_influx(site, tmp / "influx", days))
    print(
        f"influxdb: report {fx['pushed_s']:.2f} s pushed down ({fx['requests']:.0f} requests, "
        f"{fx['statements']:.0f} statements; the longest, influxd aggregating, "
        f"{fx['longest_s']:.2f} s), {fx['naive_s']:.2f} s pulling raw points "
        f"({fx['naive_s'] / fx['pushed_s']:.1f}x)",
        file=sys.stderr,
    )
    # the headline is the backend with the smaller gain; both are in the extra fields
    worst = min((sq, fx), key=lambda r: r["naive_s"] / r["pushed_s"])
    name = "sqlite" if worst is sq else "influxdb"
    result(
        "report",
        1 / worst["pushed_s"],
        f"reports/s ({days} days, 200 meters, pushed down; {name}, the smaller gain)",
        1 / worst["naive_s"],
        10,
        days=days,
        meters=METERS,
        readings=METERS * days * 1440,
        sqlite_report_s=round(sq["pushed_s"], 2),
        sqlite_naive_s=round(sq["naive_s"], 2),
        sqlite_ratio=round(sq["naive_s"] / sq["pushed_s"], 1),
        influx_report_s=round(fx["pushed_s"], 2),
        influx_naive_s=round(fx["naive_s"], 2),
        influx_ratio=round(fx["naive_s"] / fx["pushed_s"], 1),
        influx_requests=int(fx["requests"]),
        influx_statements=int(fx["statements"]),
        influx_longest_query_s=round(fx["longest_s"], 2),
        report_goal_s=10,
    )


if __name__ == "__main__":
    main()
