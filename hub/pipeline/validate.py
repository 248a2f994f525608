"""Plausibility checks applied to every event before it enters the pipeline.

Each check returns a short snake_case reason (a metrics label) or None. They are pure: the
time is passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.domain import DeviceStatus, Event, PositionFix, Reading, Sighting

EPOCH_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds an event must respect."""

    max_future: timedelta = timedelta(minutes=5)  # device clocks run a little fast
    max_abs_value: float = 1e15
    max_accuracy_m: float = 10_000.0
    max_id_length: int = 200


def _bad_id(value: str, limits: Limits) -> bool:
    return not value or len(value) > limits.max_id_length or not value.isprintable()


def check(event: Event, now: datetime, limits: Limits = Limits()) -> str | None:
    """Why the event is implausible, or None when it may enter."""
    if event.ts < EPOCH_FLOOR:
        return "ts_before_2000"
    if event.ts > now + limits.max_future:
        return "ts_in_future"
    match event:
        case Reading():
            if _bad_id(event.point_id, limits):
                return "bad_id"
            if not isinstance(event.value, int | float) or isinstance(event.value, bool):
                return "value_not_number"
            if math.isnan(event.value):
                return "value_nan"
            if math.isinf(event.value) or abs(event.value) > limits.max_abs_value:
                return "value_out_of_range"
        case DeviceStatus():
            if _bad_id(event.device_id, limits):
                return "bad_id"
        case PositionFix():
            if _bad_id(event.subject_id, limits):
                return "bad_id"
            return _check_position(event, limits)
        case Sighting():
            if _bad_id(event.badge_id, limits) or _bad_id(event.checkpoint_id, limits):
                return "bad_id"
            for v in (event.rssi, event.distance_m):
                if v is not None and not math.isfinite(v):
                    return "value_nan"
        case _:
            pass
    return None


def _check_position(fix: PositionFix, limits: Limits) -> str | None:
    numbers = (fix.lat, fix.lon, fix.x, fix.y, fix.accuracy_m, fix.speed_mps, fix.heading_deg)
    if any(v is not None and not math.isfinite(v) for v in numbers):
        return "value_nan"
    if fix.lat is not None and not -90 <= fix.lat <= 90:
        return "lat_out_of_range"
    if fix.lon is not None and not -180 <= fix.lon <= 180:
        return "lon_out_of_range"
    if fix.lat == 0 and fix.lon == 0:
        return "null_island"  # a receiver without a fix reports 0,0
    if fix.accuracy_m is not None and not 0 <= fix.accuracy_m <= limits.max_accuracy_m:
        return "accuracy_out_of_range"
    if fix.speed_mps is not None and not 0 <= fix.speed_mps <= 150:
        return "speed_out_of_range"
    return None
