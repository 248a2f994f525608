"""Proving a visit to a checkpoint: evidence gathered per checkpoint and guard until the
checkpoint's proof holds, then judged plausible or refused (pure functions).

- BLE: the guard's badge seen close to the gateway (within the distance, above the RSSI, or
  called close by the gateway) for long enough or often enough, without a long silence.
- GPS: the phone's fix within the checkpoint's radius, its accuracy counted against it.
- Code: the checkpoint's rotating code scanned (the API checked its signature and window).

A proven visit is still refused when the guard is not one of the route's, not on duty, or
could not have walked from his previous checkpoint in the time between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from hub.domain import CodeScan, PositionFix, Sighting
from hub.domain.geo import distance_m
from hub.domain.patrol import Evidence, Method, Refusal, RefusedBecause, Visit
from hub.site.hours import in_hours
from hub.site.patrol import Proof


@dataclass(frozen=True)
class Place:
    """A checkpoint as the rule needs it: its names, where it is, how a visit is proven."""

    name: str
    name_en: str
    lat: float
    lon: float
    proof: Proof


@dataclass(frozen=True, slots=True)
class Pending:
    """Evidence for one guard at one checkpoint that does not prove a visit yet: the current
    run of close BLE reports, and the proofs that held (one per method, the latest)."""

    ble_first: datetime | None = None
    ble_last: datetime | None = None
    ble_reports: int = 0
    ble_distance: float | None = None  # the closest in the run
    ble_rssi: float | None = None  # the strongest
    proven: tuple[Evidence, ...] = ()


def _close(s: Sighting, proof: Proof) -> bool:
    ble = proof.ble
    if ble.trust_close and s.close is True:
        return True
    d, limit = s.distance_m, ble.max_distance_m
    if d is not None and limit is not None and d <= limit:
        return True
    return ble.min_rssi is not None and s.rssi is not None and s.rssi >= ble.min_rssi


def _least(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _proven(p: Pending, evidence: Evidence) -> Pending:
    kept = tuple(e for e in p.proven if e.method is not evidence.method)
    return replace(p, proven=(*kept, evidence))


def sighted(p: Pending, s: Sighting, place: Place) -> Pending:
    """A badge report at the checkpoint's gateway; far reports are not evidence."""
    proof = place.proof
    if Method.BLE not in proof.methods or not _close(s, proof):
        return p
    ble = proof.ble
    if p.ble_last is None or (s.ts - p.ble_last).total_seconds() > ble.gap_s:
        p = Pending(s.ts, s.ts, 1, s.distance_m, s.rssi, p.proven)  # a new run
    else:
        p = replace(
            p,
            ble_last=max(p.ble_last, s.ts),
            ble_first=min(p.ble_first or s.ts, s.ts),
            ble_reports=p.ble_reports + 1,
            ble_distance=_least(p.ble_distance, s.distance_m),
            ble_rssi=_most(p.ble_rssi, s.rssi),
        )
    seconds = (p.ble_last - p.ble_first).total_seconds() if p.ble_first and p.ble_last else 0.0
    if p.ble_reports >= ble.min_reports or (p.ble_reports > 1 and seconds >= ble.min_s):
        detail: dict[str, float | str] = {"reports": p.ble_reports, "seconds": round(seconds, 1)}
        if p.ble_distance is not None:
            detail["distance_m"] = round(p.ble_distance, 1)
        if p.ble_rssi is not None:
            detail["rssi"] = p.ble_rssi
        p = _proven(p, Evidence(Method.BLE, s.ts, detail))
    return p


def fixed(
    p: Pending, ts: datetime, lat: float, lon: float, accuracy: float | None, place: Place
) -> Pending:
    """A phone's fix: within the checkpoint's radius, accuracy counted against it."""
    gps = place.proof.gps
    if Method.GPS not in place.proof.methods or accuracy is None or accuracy > gps.max_accuracy_m:
        return p  # a fix that cannot say how good it is proves nothing
    d = distance_m(lat, lon, place.lat, place.lon)
    if d + accuracy > gps.radius_m:
        return p
    return _proven(p, Evidence(Method.GPS, ts, {"distance_m": round(d, 1), "accuracy_m": accuracy}))


def scanned(p: Pending, scan: CodeScan, place: Place) -> Pending:
    """The checkpoint's code scanned (and the phone's fix with it, when it sent one)."""
    if Method.CODE in place.proof.methods:
        p = _proven(p, Evidence(Method.CODE, scan.ts, {"source": scan.source}))
    if scan.lat is not None and scan.lon is not None:
        p = fixed(p, scan.ts, scan.lat, scan.lon, scan.accuracy_m, place)
    return p


def holds(p: Pending, now: datetime, place: Place) -> tuple[Evidence, ...] | None:
    """The evidence that proves the visit at `now` (`need` methods within `within_s` of each
    other), or None."""
    proof = place.proof
    fresh = tuple(e for e in p.proven if abs((now - e.at).total_seconds()) <= proof.within_s)
    return fresh if len(fresh) >= proof.need else None


def gather(p: Pending, event: CodeScan | Sighting, place: Place) -> Pending:
    """A sighting or a scan at the checkpoint, as evidence."""
    if isinstance(event, Sighting):
        return sighted(p, event, place)
    return scanned(p, event, place)


def gather_fix(p: Pending, fix: PositionFix, place: Place) -> Pending:
    """A phone's fix, as evidence for this checkpoint."""
    if fix.lat is None or fix.lon is None:
        return p
    return fixed(p, fix.ts, fix.lat, fix.lon, fix.accuracy_m, place)


@dataclass(frozen=True)
class Judge:
    """What plausibility needs: the route's guards, their hours on duty, the site's time zone
    and the fastest a guard moves between checkpoints."""

    guards: frozenset[str]
    duty: Mapping[str, str | None]
    timezone: str
    max_speed_mps: float
    slack_m: float


def judge(
    guard: str,
    cp: str,
    at: datetime,
    previous: Visit | None,
    places: Mapping[str, Place],
    j: Judge,
) -> Refusal | None:
    """Why a proven visit does not count, or None when it does. `previous` is the guard's
    last visit of this tour."""
    if j.guards and guard not in j.guards:
        return Refusal(cp, at, guard, RefusedBecause.NOT_ON_ROUTE)
    hours = j.duty.get(guard)
    if not in_hours(hours, at, j.timezone):
        return Refusal(cp, at, guard, RefusedBecause.NOT_ON_DUTY, hours or "")
    if previous is not None and previous.checkpoint in places:
        a, b = places[previous.checkpoint], places[cp]
        metres = distance_m(a.lat, a.lon, b.lat, b.lon)
        seconds = (at - previous.at).total_seconds()
        if metres - j.slack_m > j.max_speed_mps * max(seconds, 0.0):
            return Refusal(
                cp,
                at,
                guard,
                RefusedBecause.TOO_FAST,
                f"{metres:.0f} m from {previous.checkpoint} in {seconds:.0f} s",
            )
    return None
