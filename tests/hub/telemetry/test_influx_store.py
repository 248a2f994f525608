"""The InfluxDB backend against a real influxd (Debian's 1.x) started on loopback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.domain import DeviceStatus, PositionFix, Quality, Reading, Sighting, SubjectKind
from hub.telemetry.aggregate import AggFn
from hub.telemetry.influx import InfluxConfig, InfluxTelemetryStore
from hub.telemetry.schema import series_meta
from hub.telemetry.spool import pack
from hub.telemetry.sqlite import SQLiteTelemetryStore
from tests.support.servers import Influx2Target, InfluxServer, influx_server, influx_target

T0 = datetime(2026, 10, 1, tzinfo=UTC)  # 08:00 in Asia/Shanghai

TAGS = series_meta(
    "demo",
    [
        ("meter-b1", "b1", None, ["meter-b1.energy", "meter-b1.power"]),
        ("meter-b2", "b2", None, ["meter-b2.energy"]),
        ("电表 3, 东=区", '综合楼 "B"', "1F", ["电表 3, 东=区.energy"]),
    ],
)


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer | Influx2Target]:
    """Debian's influxd 1.x, or the 2.x server named by HUB_TEST_INFLUX2_* (docs/telemetry.md)."""
    with influx_target() as target:
        yield target


def new_store(
    server: InfluxServer | Influx2Target, tmp_path: Path, **kw: object
) -> InfluxTelemetryStore:
    db = f"t_{uuid.uuid4().hex[:10]}"
    where = server.new_database(db)
    return InfluxTelemetryStore(
        InfluxConfig(url=server.url, timeout=5, **where),  # type: ignore[arg-type]
        TAGS,
        tmp_path / f"spool-{db}.db",
        backoff_base=0.05,
        backoff_cap=0.5,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def store(
    influx: InfluxServer | Influx2Target, tmp_path: Path
) -> AsyncIterator[InfluxTelemetryStore]:
    s = new_store(influx, tmp_path)
    await s.start()
    yield s
    await s.close()


async def test_values_with_awkward_names_round_trip(store: InfluxTelemetryStore) -> None:
    awkward = "电表 3, 东=区.energy"
    events = [Reading(awkward, 10.0 + i, "kWh", T0 + timedelta(minutes=i)) for i in range(5)]
    events.append(Reading("meter-b1.power", 4200.0, "W", T0, Quality.UNCERTAIN))
    await store.write(events)
    assert await store.flush()
    hist = await store.history(awkward, T0, T0 + timedelta(hours=1))
    assert [(s.ts, s.value) for s in hist] == [(e.ts, e.value) for e in events[:5]]
    latest = await store.latest([awkward, "meter-b1.power"])
    assert latest[awkward].value == 14.0
    assert latest[awkward].unit == "kWh"
    assert latest["meter-b1.power"].quality is Quality.UNCERTAIN
    everything = await store.latest()
    assert set(everything) == {awkward, "meter-b1.power"}


async def test_many_ranges_are_read_in_few_requests_each_as_history_reads_it(
    store: InfluxTelemetryStore,
) -> None:
    """The energy report's exact hours: 120 ranges (more than one request's statements), an
    awkward name, a range with nothing in it — each answer what `history` gives for it."""
    names = [f"电表 {i}, 区=东.energy" for i in range(60)]
    await store.write(
        [
            Reading(n, 100.0 * i + m, "kWh", T0 + timedelta(minutes=m))
            for i, n in enumerate(names)
            for m in range(6)
        ]
    )
    assert await store.flush()
    ranges = [
        (n, T0 + timedelta(minutes=k), T0 + timedelta(minutes=k + 3)) for n in names for k in (0, 4)
    ]
    ranges.append(("nothing.here", T0, T0 + timedelta(hours=1)))
    got = await store.histories(ranges)
    assert len(got) == len(ranges) == 121
    for r, samples in zip(ranges, got, strict=True):
        assert samples == await store.history(*r)
    assert [s.value for s in got[2]] == [100.0, 101.0, 102.0]  # 电表 1, minutes 0-2
    assert got[-1] == []


async def test_tracks_statuses_and_sightings(
    store: InfluxTelemetryStore, influx: InfluxServer
) -> None:
    fixes = [
        PositionFix(
            "car-1",
            SubjectKind.VEHICLE,
            T0 + timedelta(seconds=i),
            "osmand",
            lat=30.26 + i * 1e-4,
            lon=120.13,
            speed_mps=12.5,
            zone_id='z parking, "P1"',
        )
        for i in range(10)
    ]
    await store.write(
        [
            *fixes,
            DeviceStatus("meter-b1", False, T0, detail='timeout "3s"'),
            Sighting("badge 1", "cp-main-gate", T0, "espresense", rssi=-71.0),
        ]
    )
    assert await store.flush()
    assert await store.track("car-1", T0, T0 + timedelta(minutes=1)) == fixes
    db = store.config.database
    assert influx.count("device_status", "online", db) == 1
    assert influx.count("sighting", "rssi", db) == 1


def counter_and_power_data() -> list[Reading]:
    """Six hours of minute data: two energy counters (one resets), a power point, a gap."""
    events = []
    for m in range(6 * 60):
        ts = T0 + timedelta(minutes=m)
        if 150 <= m < 180:
            continue  # a half-hour gap with no data
        b1 = 1000.0 + 0.5 * m
        b2 = 200.0 + 0.25 * m if m < 200 else 0.25 * (m - 200)  # meter replaced at minute 200
        if m == 100:  # a glitch the meter adapter marked BAD: left out of every aggregate
            events.append(
                Reading("meter-b1.energy", 5.0, "kWh", ts - timedelta(seconds=30), Quality.BAD)
            )
        events += [
            Reading("meter-b1.energy", b1, "kWh", ts),
            Reading("meter-b2.energy", b2, "kWh", ts),
            Reading("meter-b1.power", 3000.0 + (m % 60) * 10.0, "W", ts),
        ]
    return events


@pytest.mark.parametrize("fn", list(AggFn))
@pytest.mark.parametrize(
    ("every", "offset", "group_by"),
    [
        (timedelta(hours=1), timedelta(0), "point"),
        (timedelta(hours=1), timedelta(0), "building"),
        (timedelta(days=1), timedelta(hours=-8), "device"),
        (timedelta(minutes=15), timedelta(0), "point"),
    ],
)
async def test_aggregates_give_the_same_numbers_on_both_backends(
    influx: InfluxServer,
    tmp_path: Path,
    fn: AggFn,
    every: timedelta,
    offset: timedelta,
    group_by: str,
) -> None:
    data = counter_and_power_data()
    points = ["meter-b1.energy", "meter-b2.energy", "meter-b1.power"]
    if fn in (AggFn.INCREASE, AggFn.LAST) or group_by != "point":
        points = points[:2]  # counters: increase; last only per point
        if fn is AggFn.LAST and group_by != "point":
            return
    influx_store = new_store(influx, tmp_path)
    sqlite_store = SQLiteTelemetryStore(tmp_path / "t.db", TAGS)
    try:
        await influx_store.write(data)
        await sqlite_store.write(data)
        assert await influx_store.flush()
        start, end = T0 + timedelta(minutes=7), T0 + timedelta(hours=6)
        a = await influx_store.aggregate(
            fn, points, start, end, every, group_by=group_by, offset=offset
        )
        b = await sqlite_store.aggregate(
            fn, points, start, end, every, group_by=group_by, offset=offset
        )
        assert a, "no windows"
        assert [(r.group, r.start) for r in a] == [(r.group, r.start) for r in b]
        for x, y in zip(a, b, strict=True):
            assert x.value == pytest.approx(y.value, rel=1e-12), (x, y)
    finally:
        await influx_store.close()
        await sqlite_store.close()


async def test_increase_per_building_and_hour_is_exact(
    influx: InfluxServer, tmp_path: Path
) -> None:
    s = new_store(influx, tmp_path)
    try:
        await s.write(counter_and_power_data())
        assert await s.flush()
        rows = await s.aggregate(
            AggFn.INCREASE,
            ["meter-b1.energy", "meter-b2.energy"],
            T0,
            T0 + timedelta(hours=6),
            timedelta(hours=1),
            group_by="building",
        )
        b1 = {r.start.hour: r.value for r in rows if r.group == "b1"}
        b2 = {r.start.hour: r.value for r in rows if r.group == "b2"}
        assert b1[0] == 59 * 0.5  # 60 samples, 59 differences inside the first hour
        assert b1[1] == 60 * 0.5  # the difference 59 -> 60 belongs to hour 1
        assert b1[2] == 30 * 0.5  # minutes 150..179 are missing: 120..149 only
        # Hour 3: the difference across the gap (minute 149 -> 180, 31 x 0.5) lands here.
        assert b1[3] == 31 * 0.5 + 59 * 0.5
        # b2 is replaced at minute 200 (0.25/min before and after): 149 -> 180, 19 differences
        # up to 199, nothing for the reset 199 -> 200, 39 differences after it.
        assert b2[3] == 31 * 0.25 + 19 * 0.25 + 39 * 0.25
        assert sum(b1.values()) == (359 - 30) * 0.5 + 30 * 0.5  # every minute counted once
    finally:
        await s.close()


async def test_a_4xx_bad_line_is_dropped_and_counted_the_rest_arrives(
    store: InfluxTelemetryStore, influx: InfluxServer | Influx2Target
) -> None:
    # 1.x writes the good lines and answers "partial write"; 2.x refuses the whole body, and
    # the shipper splits it until the bad line is alone. Either way: 10 arrive, 1 is counted.
    good = [
        f"reading,point=meter-b1.energy,site=demo value={i} {1_700_000_000_000_000 + i}"
        for i in range(10)
    ]
    store.spool.append(pack([*good[:5], "reading,point=x value= 1", *good[5:]]), 11)
    assert await store.flush()
    assert influx.count("reading", database=store.config.database) == 10
    assert store.bad_points == 1
    assert store.spool.batches == 0


async def test_a_body_too_large_is_split_until_it_fits(tmp_path: Path) -> None:
    with influx_server(max_body=20_000) as small:
        s = new_store(small, tmp_path)
        await s.start()
        try:
            events = [
                Reading("meter-b1.power", float(i), "W", T0 + timedelta(seconds=i))
                for i in range(3000)
            ]
            await s.write(events)
            assert await s.flush(60)
            assert small.count("reading", database=s.config.database) == 3000
        finally:
            await s.close()


async def test_influxdb_down_mid_stream_loses_nothing(tmp_path: Path) -> None:
    """influxd stops in the middle of a stream and comes back later (minutes, scaled down)."""
    with influx_server() as server:
        s = new_store(server, tmp_path)
        await s.start()
        try:
            total = 0
            for batch in range(30):
                events = [
                    Reading(
                        "meter-b1.power",
                        float(batch * 100 + i),
                        "W",
                        T0 + timedelta(seconds=batch * 100 + i),
                    )
                    for i in range(100)
                ]
                await s.write(events)
                total += len(events)
                if batch == 10:
                    await asyncio.to_thread(server.stop)
                if batch == 20:
                    health = s.health()
                    assert health["status"] == "degraded"
                    assert health["spool_points"] >= 900
                    assert "error" in health
                await asyncio.sleep(0.05)
            await asyncio.sleep(2.0)  # the outage goes on while nothing is written
            assert s.spool.points > 0
            await asyncio.to_thread(server.start)  # same data folder: same database
            assert await s.flush(60)
            assert server.count("reading", database=s.config.database) == total
            assert s.health()["status"] == "ok"
            hist = await s.history("meter-b1.power", T0, T0 + timedelta(hours=1), limit=10_000)
            assert [x.value for x in hist] == [float(i) for i in range(total)]
        finally:
            await s.close()
