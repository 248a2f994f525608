"""Energy reports from known synthetic data on both telemetry backends (a real influxd and
SQLite): exact kWh per building and day through a counter reset, a gap spread over midnight
and a glitch the adapter marked BAD; peak demand; out-of-hours use; the quality section."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.domain import Quality, Reading
from hub.runtime import make_telemetry
from hub.services.energy.service import EnergyService
from hub.services.periods import parse_period, period_at
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database
from hub.storage.models import Booking
from hub.telemetry.influx import InfluxConfig, InfluxTelemetryStore
from hub.telemetry.port import TelemetryStore
from hub.telemetry.schema import series_meta
from tests.support.servers import Influx2Target, InfluxServer, influx_target

TZ = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 9, 30, tzinfo=TZ)  # a Wednesday; three working days of data
NOW = datetime(2026, 10, 5, 9, 0, tzinfo=TZ)
RATES = {"meter-b1": 1.0, "meter-b2": 0.5, "meter-b3": 0.25}  # kWh a minute


def synthetic() -> list[Reading]:
    """Three days of minute readings: b1 reset after 10:00 on 1 Oct (restarts from zero), b2
    silent from 23:00 on 30 Sep to 01:00 on 1 Oct, b3 with a glitch marked BAD; b3's power
    at 60 kW for the quarter from 09:00 on 2 Oct, 15 kW otherwise."""
    out: list[Reading] = []
    reset = DAY0 + timedelta(days=1, hours=10)
    for m in range(3 * 24 * 60 + 1):
        ts = DAY0 + timedelta(minutes=m)
        u = ts.astimezone(UTC)
        b1 = m * 1.0 if ts <= reset else (ts - reset).total_seconds() / 60 * 1.0
        out.append(Reading("meter-b1.total_energy", 5000 + b1 if ts <= reset else b1, "kWh", u))
        if not DAY0 + timedelta(hours=23) < ts < DAY0 + timedelta(hours=25):
            out.append(Reading("meter-b2.total_energy", 100 + m * 0.5, "kWh", u))
        out.append(Reading("meter-b3.total_energy", 20 + m * 0.25, "kWh", u))
        peak = (
            DAY0 + timedelta(days=2, hours=9) <= ts < DAY0 + timedelta(days=2, hours=9, minutes=15)
        )
        out.append(Reading("meter-b3.total_power", 60000.0 if peak else 15000.0, "W", u))
    glitch = (DAY0 + timedelta(days=2, hours=12, seconds=30)).astimezone(UTC)
    out.append(Reading("meter-b3.total_energy", 5.0, "kWh", glitch, Quality.BAD))
    return out


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer | Influx2Target]:
    with influx_target() as target:
        yield target


@pytest.fixture(params=["sqlite", "influxdb"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, demo_site: Site
) -> AsyncIterator[TelemetryStore]:
    if request.param == "sqlite":
        s: TelemetryStore = make_telemetry(
            Settings(data_dir=tmp_path, secret_key="k" * 48), demo_site
        )
    else:
        server = request.getfixturevalue("influx")
        db = f"e_{uuid.uuid4().hex[:10]}"
        where = server.new_database(db)
        tags = series_meta(
            demo_site.site.id,
            [
                (d.id, d.building, d.floor, [d.point_id(p) for p in d.points])
                for d in demo_site.devices
            ],
        )
        s = InfluxTelemetryStore(
            InfluxConfig(url=server.url, timeout=10, **where), tags, tmp_path / "spool.db"
        )
    await s.start()
    await s.write(synthetic())
    flush = getattr(s, "flush", None)
    if flush is not None:
        assert await flush()
    yield s
    await s.close()


async def test_a_week_gives_the_exact_kwh_per_building_and_day(
    store: TelemetryStore, demo_site: Site
) -> None:
    energy = EnergyService(demo_site, store, clock=lambda: NOW)
    report = (await energy.report(parse_period("2026-W40", TZ))).as_json()
    assert report["period"]["first"] == "2026-09-28"
    assert report["period"]["windows"][2] == "2026-09-30T00:00:00+08:00"
    by = {b["id"]: b["measures"]["electricity"] for b in report["buildings"]}
    day = 24 * 60
    assert by["m-b1" if False else "b1"]["series"] == [0, 0, day * 1.0, day * 1.0, day * 1.0, 0, 0]
    assert by["b2"]["series"] == [0, 0, day * 0.5, day * 0.5, day * 0.5, 0, 0]
    assert by["b3"]["series"] == [0, 0, day * 0.25, day * 0.25, day * 0.25, 0, 0]
    assert report["compound"]["electricity"]["total"] == 3 * day * 1.75
    assert by["b1"]["per_m2"] == pytest.approx(3 * day / 12000, abs=1e-3)
    assert by["b1"]["per_person"] == pytest.approx(3 * day / 700, abs=1e-3)
    # three working days with 08:30-17:30 business hours: 14 hours a day are out of hours
    assert by["b3"]["out_of_hours"] == 3 * 14 * 60 * 0.25
    assert by["b3"]["peak_demand_kw"] == 60.0
    assert by["b3"]["peak_at"] == "2026-10-02T09:00:00+08:00"
    quality = report["quality"]
    kinds = {(f["meter"], f["kind"], f["to"]) for f in quality["flags"]}
    assert ("m-b1", "reset", "2026-10-01T10:01:00+08:00") in kinds
    assert ("m-b2", "gap", "2026-10-01T01:00:00+08:00") in kinds
    assert quality["estimated"]["m-b2"] == [
        "2026-09-30T00:00:00+08:00",
        "2026-10-01T00:00:00+08:00",
    ]
    assert quality["missing"]["m-b1"][:2] == [
        "2026-09-28T00:00:00+08:00",
        "2026-09-29T00:00:00+08:00",
    ]
    assert {o["meter"] for o in quality["offline"]} == {
        "m-b1",
        "m-b2",
        "m-b3",
    }  # silent since 3 Oct


async def test_a_day_is_reported_by_the_hour_beside_the_day_before(
    store: TelemetryStore, demo_site: Site
) -> None:
    energy = EnergyService(demo_site, store, clock=lambda: NOW)
    report = (await energy.report(period_at("day", date(2026, 10, 1), TZ))).as_json()
    b1 = next(b for b in report["buildings"] if b["id"] == "b1")["measures"]["electricity"]
    assert b1["series"] == [60.0] * 24  # the reset hour too: the restart counted from zero
    assert b1["total"] == 1440.0
    assert b1["previous"] == 1440.0
    assert b1["change_pct"] == 0.0
    assert b1["last_year"] is None
    b2 = next(b for b in report["buildings"] if b["id"] == "b2")["measures"]["electricity"]
    assert b2["series"][0] == 30.0  # (00:00, 01:00]: half of the gap's hour-long share


async def test_a_day_still_under_way_is_not_compared(
    store: TelemetryStore, demo_site: Site
) -> None:
    midday = DAY0 + timedelta(days=1, hours=12)
    energy = EnergyService(demo_site, store, clock=lambda: midday)
    report = (await energy.report(period_at("day", date(2026, 10, 1), TZ))).as_json()
    assert report["period"]["complete"] is False
    b1 = next(b for b in report["buildings"] if b["id"] == "b1")["measures"]["electricity"]
    assert b1["previous"] == 1440.0
    assert b1["change_pct"] is None  # half a day against a whole one would mislead


async def test_an_evening_meeting_is_use_not_waste(
    store: TelemetryStore, demo_site: Site, db: Database
) -> None:
    """Hours booked for a meeting in a building's room are not counted out of hours (a
    released or cancelled booking does not count)."""
    evening = DAY0 + timedelta(hours=19)
    with db.session() as s:
        for status in ("confirmed", "released"):
            s.add(
                Booking(
                    room_id="r-b3-2",
                    organiser="staff",
                    title="夜间培训",
                    start=evening.astimezone(UTC),
                    end=(evening + timedelta(hours=2)).astimezone(UTC),
                    busy_until=(evening + timedelta(hours=2)).astimezone(UTC),
                    status=status,
                )
            )
    energy = EnergyService(demo_site, store, db=db, clock=lambda: NOW)
    report = (await energy.report(parse_period("2026-W40", TZ))).as_json()
    b3 = next(b for b in report["buildings"] if b["id"] == "b3")["measures"]["electricity"]
    assert b3["out_of_hours"] == (3 * 14 - 2) * 60 * 0.25
    b1 = next(b for b in report["buildings"] if b["id"] == "b1")["measures"]["electricity"]
    assert b1["out_of_hours"] == 3 * 14 * 60 * 1.0  # the meeting was in another building


async def test_a_period_without_one_reading_says_so_instead_of_zero(
    store: TelemetryStore, demo_site: Site
) -> None:
    energy = EnergyService(demo_site, store, clock=lambda: NOW)
    empty = (await energy.report(period_at("day", date(2026, 9, 20), TZ))).as_json()
    b1 = next(b for b in empty["buildings"] if b["id"] == "b1")["measures"]["electricity"]
    assert (b1["total"], b1["no_data"]) == (0.0, True)
    assert empty["compound"]["electricity"]["no_data"] is True
    day = (await energy.report(period_at("day", date(2026, 10, 1), TZ))).as_json()
    b1 = next(b for b in day["buildings"] if b["id"] == "b1")["measures"]["electricity"]
    assert b1["no_data"] is False
