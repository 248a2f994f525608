"""Kilometres and stops from GPS fixes: jumps and standing jitter left out."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from hub.services.booking.trips import analyse, metres

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
ORIGIN = (30.26, 120.13)
M_PER_DEG_LAT = 111_195.0


def east(lat: float, lon: float, m: float) -> tuple[float, float]:
    return lat, lon + m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))


def test_a_straight_drive_measures_its_length_and_a_jump_is_left_out() -> None:
    fixes = []
    lat, lon = ORIGIN
    for i in range(121):  # 10 minutes at 10 m/s, a fix every 5 s: 6 km
        fixes.append((T0 + timedelta(seconds=5 * i), *east(lat, lon, 50.0 * i)))
    fixes.insert(60, (T0 + timedelta(seconds=302), 31.0, 121.0))  # a 100 km jump
    trip = analyse(fixes)
    assert trip.km == pytest.approx(6.0, rel=0.005)
    assert trip.jumps == 1
    assert trip.stops == []


def test_standing_jitter_is_a_stop_not_kilometres() -> None:
    rng = random.Random(7)
    fixes = [
        (
            T0 + timedelta(seconds=10 * i),
            ORIGIN[0] + rng.uniform(-3e-5, 3e-5),
            ORIGIN[1] + rng.uniform(-3e-5, 3e-5),
        )
        for i in range(60)  # ten minutes parked, a few metres of noise
    ]
    trip = analyse(fixes)
    assert trip.km < 0.05
    (stop,) = trip.stops
    assert (stop.end - stop.start) >= timedelta(minutes=9)


def test_repeats_and_any_order_are_taken_once() -> None:
    a = (T0, *ORIGIN)
    b = (T0 + timedelta(seconds=60), *east(*ORIGIN, 600.0))
    assert analyse([b, a, a, b]).km == pytest.approx(0.6, rel=0.001)
    assert metres(*ORIGIN, *east(*ORIGIN, 1000.0)) == pytest.approx(1000.0, rel=1e-4)
