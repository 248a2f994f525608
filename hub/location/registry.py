"""Which site subject a device id belongs to; unknown ids are counted and listed to adopt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.domain import PositionFix, Sighting, SubjectKind
from hub.site import Site
from hub.site.model import PersonRole


@dataclass
class Unknown:
    """A device id nobody registered: what sent it, how often, when last."""

    kind: str  # "tracker", "phone", "badge", "checkpoint"
    device_id: str
    source: str
    count: int
    last_seen: datetime


class Registry:
    """Device ids (phones, trackers, badges, gateways, beacons) to site ids."""

    def __init__(self, site: Site, *, max_unknown: int = 1000) -> None:
        self.subjects: dict[str, tuple[str, SubjectKind]] = {}
        kind_of = {PersonRole.GUARD: SubjectKind.GUARD}
        for p in site.people:
            kind = kind_of.get(p.role, SubjectKind.PERSON)
            self.subjects[p.id] = (p.id, kind)
            for phone in p.phones:
                self.subjects[phone] = (p.id, kind)
        for v in site.vehicles:
            self.subjects[v.id] = (v.id, SubjectKind.VEHICLE)
            if v.tracker:
                self.subjects[v.tracker] = (v.id, SubjectKind.VEHICLE)
        self.badges = {b.lower(): p.id for p in site.people for b in p.badges}
        self.badges.update({phone: p.id for p in site.people for phone in p.phones})
        self.checkpoints: dict[str, str] = {}
        for c in site.checkpoints:
            self.checkpoints[c.id] = c.id
            if c.gateway:
                self.checkpoints[c.gateway] = c.id
            if c.beacon:
                self.checkpoints[c.beacon.lower()] = c.id
        self.unknown: dict[tuple[str, str], Unknown] = {}
        self.max_unknown = max_unknown

    def _unknown(self, kind: str, device_id: str, source: str, ts: datetime) -> None:
        key = (kind, device_id)
        entry = self.unknown.get(key)
        if entry is None:
            if len(self.unknown) >= self.max_unknown:
                return  # bounded: a flood of random ids must not grow memory
            entry = self.unknown[key] = Unknown(kind, device_id, source, 0, ts)
        entry.count += 1
        entry.last_seen = max(entry.last_seen, ts)

    def fix(self, fix: PositionFix) -> tuple[str, SubjectKind] | None:
        """The subject of a fix, or None (recorded as unknown)."""
        found = self.subjects.get(fix.subject_id)
        if found is None:
            kind = "tracker" if fix.subject_kind is SubjectKind.VEHICLE else "phone"
            self._unknown(kind, fix.subject_id, fix.source, fix.ts)
        return found

    def sighting(self, s: Sighting) -> tuple[str, str] | str:
        """(person, checkpoint) of a sighting, or the reason it can't be placed."""
        person = self.badges.get(s.badge_id.lower())
        checkpoint = self.checkpoints.get(s.checkpoint_id) or self.checkpoints.get(
            s.checkpoint_id.lower()
        )
        if person is None:
            self._unknown("badge", s.badge_id, s.source, s.ts)
            return "unknown_badge"
        if checkpoint is None:
            self._unknown("checkpoint", s.checkpoint_id, s.source, s.ts)
            return "unknown_checkpoint"
        return person, checkpoint
