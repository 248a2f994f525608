"""The location stage: ids to subjects, cleaning and zones, on the demo compound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain import PositionFix, Sighting, SubjectKind
from hub.location import LocationStage
from hub.site import Site

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
PARKING = (30.25945, 120.13080)


def fix(dev: str, lat: float, lon: float, s: int = 0, **kw: object) -> PositionFix:
    return PositionFix(
        dev, SubjectKind.PERSON, T0 + timedelta(seconds=s), "test", lat=lat, lon=lon, **kw
    )  # type: ignore[arg-type]


@pytest.fixture
def stage(demo_site: Site) -> LocationStage:
    return LocationStage(demo_site)


def test_a_phone_becomes_its_guard_in_a_zone(stage: LocationStage) -> None:
    out, reason = stage.process(fix("g1/phone", *PARKING), T0)
    assert reason is None
    assert isinstance(out, PositionFix)
    assert (out.subject_id, out.subject_kind, out.zone_id) == ("g1", SubjectKind.GUARD, "z-parking")
    tracker = PositionFix("860000000000001", SubjectKind.VEHICLE, T0, "osmand", lat=30.2, lon=120.1)
    car, _ = stage.process(tracker, T0)
    assert isinstance(car, PositionFix)
    assert (car.subject_id, car.zone_id) == ("car-1", None)  # outside every zone


def test_the_smallest_containing_zone_wins(stage: LocationStage) -> None:
    out, _ = stage.process(fix("g2/phone", 30.26095, 120.12935), T0)  # the plant room circle
    assert isinstance(out, PositionFix)
    assert out.zone_id == "z-plant"


def test_unknown_devices_are_refused_and_listed(stage: LocationStage) -> None:
    for i in range(3):
        assert stage.process(fix("stranger/phone", *PARKING, s=i), T0)[1] == "unknown_device"
    (entry,) = stage.unknown_devices()
    assert (entry["device_id"], entry["kind"], entry["count"]) == ("stranger/phone", "phone", 3)


def test_cleaning_accuracy_duplicates_late_fixes_and_jumps(stage: LocationStage) -> None:
    assert stage.process(fix("g1/phone", *PARKING, s=10), T0)[1] is None
    assert stage.process(fix("g1/phone", *PARKING, s=20, accuracy_m=500), T0)[1] == "poor_accuracy"
    assert stage.process(fix("g1/phone", *PARKING, s=10), T0)[1] == "duplicate"
    late, reason = stage.process(fix("g1/phone", 30.2600, 120.1300, s=5), T0)
    assert reason is None
    assert late is not None  # kept for history...
    assert stage.current["g1"].ts == T0 + timedelta(seconds=10)  # ...but not the current fix
    # 1 km in 10 s on foot: a GPS jump
    assert stage.process(fix("g1/phone", 30.2690, 120.1308, s=20), T0)[1] == "gps_jump"
    assert stage.process(fix("g1/phone", 30.2596, 120.1308, s=30), T0)[1] is None  # walking


def test_sightings_resolve_badge_and_gateway(stage: LocationStage) -> None:
    seen = Sighting("FDA50693-A4E2-4FB1-AFCF-C6EB07647825-1-3", "cp-parking", T0, "espresense")
    out, reason = stage.process(seen, T0)
    assert reason is None
    assert isinstance(out, Sighting)
    assert (out.subject_id, out.checkpoint_id) == ("g3", "cp-parking")
    assert out.zone_id == "z-parking"  # the zone the checkpoint's location falls in
    beacon = Sighting("g2/phone", "fda50693-a4e2-4fb1-afcf-c6eb07647825-2-4", T0, "owntracks")
    phone, _ = stage.process(beacon, T0)
    assert isinstance(phone, Sighting)
    assert (phone.subject_id, phone.checkpoint_id) == ("g2", "cp-plant")
    assert phone.zone_id == "z-plant"  # the zone the site model gives the checkpoint
    assert stage.process(Sighting("nobody", "cp-b3", T0, "x"), T0)[1] == "unknown_badge"
    assert stage.process(Sighting("g1/phone", "cp-nowhere", T0, "x"), T0)[1] == "unknown_checkpoint"
