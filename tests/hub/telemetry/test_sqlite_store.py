"""The embedded telemetry store: what goes in comes back, exactly, in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.domain import DeviceStatus, PositionFix, Quality, Reading, Sighting, SubjectKind
from hub.telemetry import SQLiteTelemetryStore
from hub.telemetry.sqlite import from_us, to_us

T0 = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteTelemetryStore]:
    s = SQLiteTelemetryStore(tmp_path / "telemetry.db")
    yield s
    await s.close()


def test_microsecond_timestamps_round_trip_exactly() -> None:
    ts = datetime(2026, 11, 26, 19, 4, 5, 123456, tzinfo=UTC)
    assert from_us(to_us(ts)) == ts
    local = ts.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert to_us(local) == to_us(ts)


async def test_history_and_latest_of_points(store: SQLiteTelemetryStore) -> None:
    events = [
        Reading("m1.energy", 100.0 + i, "kWh", T0 + timedelta(minutes=i)) for i in range(60)
    ] + [Reading("m2.power", 5000.0, "W", T0, Quality.UNCERTAIN)]
    assert await store.write(events) == 61
    hist = await store.history("m1.energy", T0 + timedelta(minutes=10), T0 + timedelta(minutes=20))
    assert [s.value for s in hist] == [110.0 + i for i in range(10)]
    assert hist[0].ts == T0 + timedelta(minutes=10)
    latest = await store.latest()
    assert latest["m1.energy"].value == 159.0
    assert latest["m1.energy"].unit == "kWh"
    assert latest["m2.power"].quality is Quality.UNCERTAIN
    assert set(await store.latest(["m2.power", "nope"])) == {"m2.power"}


async def test_a_late_old_sample_goes_to_history_but_not_to_latest(
    store: SQLiteTelemetryStore,
) -> None:
    await store.write([Reading("p", 2.0, "W", T0 + timedelta(minutes=5))])
    await store.write([Reading("p", 1.0, "W", T0)])
    assert (await store.latest(["p"]))["p"].value == 2.0
    assert len(await store.history("p", T0, T0 + timedelta(hours=1))) == 2


async def test_writing_the_same_sample_twice_keeps_one(store: SQLiteTelemetryStore) -> None:
    batch = [Reading("p", 1.0, "W", T0)]
    await store.write(batch)
    await store.write(batch)  # e.g. a retried batch
    assert len(await store.history("p", T0, T0 + timedelta(seconds=1))) == 1


async def test_tracks_statuses_and_sightings_are_stored(store: SQLiteTelemetryStore) -> None:
    fixes = [
        PositionFix(
            "car-1",
            SubjectKind.VEHICLE,
            T0 + timedelta(seconds=i),
            "osmand",
            lat=30.26 + i * 1e-4,
            lon=120.13,
            speed_mps=10.0,
            zone_id="z-parking",
        )
        for i in range(5)
    ]
    await store.write(
        [
            *fixes,
            DeviceStatus("meter-b1", False, T0, detail="timeout"),
            Sighting("badge-1", "cp-main-gate", T0, "espresense", rssi=-70.0, distance_m=1.5),
        ]
    )
    track = await store.track("car-1", T0, T0 + timedelta(minutes=1))
    assert track == fixes
    assert store.health()["written"] == 7


async def test_prune_deletes_only_what_is_older_than_the_cutoff(
    store: SQLiteTelemetryStore,
) -> None:
    await store.write([Reading("p", float(d), "kWh", T0 + timedelta(days=d)) for d in range(10)])
    deleted = await store.prune(T0 + timedelta(days=4))
    assert deleted == 4
    kept = await store.history("p", T0, T0 + timedelta(days=30))
    assert [s.value for s in kept] == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]


async def test_data_survives_reopening_the_file(tmp_path: Path) -> None:
    s = SQLiteTelemetryStore(tmp_path / "t.db")
    await s.write([Reading("p", 42.0, "kWh", T0)])
    await s.close()
    s2 = SQLiteTelemetryStore(tmp_path / "t.db")
    assert (await s2.latest(["p"]))["p"].value == 42.0
    await s2.close()
