"""The pipeline's location stage: resolve device ids, clean fixes, find zones, keep current state.

Runs inside the pipeline's admission (before any consumer), so a refused fix never reaches the
store, the rules or the live view, and the refusal is counted by source and reason like any
other. Accepted fixes carry the site subject (guard, vehicle) and the zone they fall in.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from hub.domain import Event, PositionFix, Sighting
from hub.location.cleaning import Limits, judge
from hub.location.registry import Registry
from hub.location.zones import ZoneIndex
from hub.site import Site


class LocationStage:
    """Positions and sightings, from device ids to site subjects in zones."""

    kinds = frozenset({"position", "sighting"})

    def __init__(self, site: Site, limits: Limits | None = None) -> None:
        self.registry = Registry(site)
        self.zones = ZoneIndex(site)
        self.limits = limits or Limits()
        self.checkpoint_zones = {
            c.id: c.zone or self.zones.zone_of(c.location.lat, c.location.lon)
            for c in site.checkpoints
        }
        self.current: dict[str, PositionFix] = {}  # subject -> last applied fix
        self.late = 0

    def process(self, event: Event, now: datetime) -> tuple[Event | None, str | None]:
        """(the event to admit, None) or (None, the reason it is refused)."""
        if isinstance(event, Sighting):
            placed = self.registry.sighting(event)
            if isinstance(placed, str):
                return None, placed
            person, checkpoint = placed
            zone = self.checkpoint_zones.get(checkpoint)
            return dataclasses.replace(
                event, checkpoint_id=checkpoint, subject_id=person, zone_id=zone
            ), None
        if not isinstance(event, PositionFix):
            return event, None
        subject = self.registry.fix(event)
        if subject is None:
            return None, "unknown_device"
        subject_id, kind = subject
        e = event
        zone = self.zones.zone_of(e.lat, e.lon) if e.lat is not None and e.lon is not None else None
        # one constructor call: this runs for every fix (dataclasses.replace is several times
        # slower)
        fix = PositionFix(
            subject_id,
            kind,
            e.ts,
            e.source,
            e.lat,
            e.lon,
            e.x,
            e.y,
            e.floor,
            e.accuracy_m,
            e.speed_mps,
            e.heading_deg,
            zone,
        )
        verdict = judge(fix, self.current.get(subject_id), self.limits)
        if verdict not in ("apply", "late"):
            return None, verdict
        if verdict == "apply":
            self.current[subject_id] = fix
        else:
            self.late += 1  # kept in history, not applied to the current position
        return fix, None

    def positions(self) -> list[PositionFix]:
        """Every subject's current position."""
        return list(self.current.values())

    def unknown_devices(self) -> list[dict[str, Any]]:
        """Device ids seen but not registered, most frequent first."""
        return [
            dataclasses.asdict(u)
            for u in sorted(self.registry.unknown.values(), key=lambda u: -u.count)
        ]
