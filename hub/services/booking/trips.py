"""A trip from a vehicle's GPS fixes (pure): kilometres driven with jumps filtered out and
standing jitter ignored, and the stops on the way."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from hub.domain.geo import distance_m as metres

MAX_SPEED_MPS = 55.0  # ~200 km/h: reaching a fix faster than this means the fix jumped
STEP_M = 10.0  # distance counts from the last point it moved this far from (GPS jitter)
STOP_RADIUS_M = 50.0
STOP_MIN_S = 180.0

Fix = tuple[datetime, float, float]  # ts, lat, lon


@dataclass(frozen=True, slots=True)
class Stop:
    """Where the vehicle stood for a while."""

    start: datetime
    end: datetime
    lat: float
    lon: float


@dataclass(slots=True)
class Trip:
    """What the fixes say of a trip."""

    km: float = 0.0
    fixes: int = 0  # used
    jumps: int = 0  # left out: implausible speed
    stops: list[Stop] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None

    def summary(self) -> dict[str, object]:
        """For the request's record."""
        return {
            "gps_km": round(self.km, 3),
            "fixes": self.fixes,
            "jumps": self.jumps,
            "first_fix": self.first.isoformat() if self.first else None,
            "last_fix": self.last.isoformat() if self.last else None,
            "stops": [
                {"start": s.start.isoformat(), "end": s.end.isoformat(), "lat": s.lat, "lon": s.lon}
                for s in self.stops
            ],
        }


def analyse(fixes: Sequence[Fix], *, max_speed: float = MAX_SPEED_MPS) -> Trip:
    """Kilometres and stops of the fixes (any order; duplicates and jumps left out).

    A fix that would need more than `max_speed` from the last good one is a jump and is left
    out, unless the next two agree with it (then the earlier fix was the odd one)."""
    trip = Trip()
    good: list[Fix] = []
    doubtful: list[Fix] = []
    for f in sorted(fixes):
        if good and f[0] <= good[-1][0]:
            continue  # a repeat of a fix already taken
        if not good or _speed(good[-1], f) <= max_speed:
            good.append(f)
            trip.jumps += len(doubtful)
            doubtful.clear()
            continue
        doubtful.append(f)
        if len(doubtful) == 3 and all(
            _speed(a, b) <= max_speed for a, b in itertools.pairwise(doubtful)
        ):
            good[-1:] = doubtful  # the three agree: the last good fix was the jump
            trip.jumps += 1
            doubtful.clear()
    trip.jumps += len(doubtful)
    if not good:
        return trip
    trip.fixes = len(good)
    trip.first, trip.last = good[0][0], good[-1][0]
    anchor = good[0]
    for f in good[1:]:
        d = metres(anchor[1], anchor[2], f[1], f[2])
        if d >= STEP_M:
            trip.km += d / 1000
            anchor = f
    trip.stops = _stops(good)
    return trip


def _speed(a: Fix, b: Fix) -> float:
    dt = (b[0] - a[0]).total_seconds()
    return math.inf if dt <= 0 else metres(a[1], a[2], b[1], b[2]) / dt


def _stops(good: Sequence[Fix]) -> list[Stop]:
    stops = []
    i = 0
    while i < len(good):
        j = i
        here = good[i]
        while j + 1 < len(good) and metres(here[1], here[2], *good[j + 1][1:]) <= STOP_RADIUS_M:
            j += 1
        if (good[j][0] - good[i][0]).total_seconds() >= STOP_MIN_S:
            stops.append(Stop(good[i][0], good[j][0], good[i][1], good[i][2]))
            i = j + 1
        else:
            i += 1
    return stops
