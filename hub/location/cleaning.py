"""Cleaning of position fixes (pure): accuracy, duplicates, order, jumps.

Per subject the last *applied* fix is kept. A new fix is:
- refused as `poor_accuracy` beyond the kind's accuracy limit;
- refused as a `duplicate` with the same time as the last one;
- kept in history but not applied to the current position when older than the last one
  (`late`: phones buffer fixes while offline and send them later);
- refused as a `gps_jump` when reaching it from the last applied fix needs a speed beyond the
  kind's limit;
- applied otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.domain import PositionFix, SubjectKind
from hub.domain.geo import distance_m

__all__ = ["Limits", "distance_m", "judge"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Plausible accuracy and speed by subject kind."""

    max_accuracy_m: float = 100.0
    person_speed_mps: float = 12.0  # a running guard with margin
    vehicle_speed_mps: float = 70.0  # 250 km/h

    def speed(self, kind: SubjectKind) -> float:
        """The fastest a subject of this kind can move."""
        if kind in (SubjectKind.VEHICLE, SubjectKind.VISITOR_VEHICLE):
            return self.vehicle_speed_mps
        return self.person_speed_mps


def judge(fix: PositionFix, last: PositionFix | None, limits: Limits = Limits()) -> str:
    """ "apply", "late", or the reason the fix is refused."""
    if fix.accuracy_m is not None and fix.accuracy_m > limits.max_accuracy_m:
        return "poor_accuracy"
    if last is None:
        return "apply"
    if fix.ts == last.ts:
        return "duplicate"
    if fix.ts < last.ts:
        return "late"
    lat, lon, prev_lat, prev_lon = fix.lat, fix.lon, last.lat, last.lon
    if lat is None or lon is None or prev_lat is None or prev_lon is None:
        return "apply"  # indoor (x, y) fixes: no jump check across coordinate systems
    seconds = (fix.ts - last.ts).total_seconds()
    moved = distance_m(prev_lat, prev_lon, lat, lon)
    slack = (fix.accuracy_m or 0) + (last.accuracy_m or 0)
    if moved - slack > limits.speed(fix.subject_kind) * seconds:
        return "gps_jump"
    return "apply"
