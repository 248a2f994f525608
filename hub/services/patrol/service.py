"""The patrol service: what a guard's phone shows (the tour now, the next checkpoint and its
deadline, what is done), the codes scanned at checkpoints, and the patrol report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from hub.domain import TourProgress
from hub.errors import NotFound
from hub.services.patrol.report import PatrolReport, build
from hub.services.patrol.scans import Scans, Verdict
from hub.services.periods import Period
from hub.site import Site
from hub.site.model import Person, PersonRole
from hub.storage import Database
from hub.storage.models import PatrolTour
from hub.storage.patrol import tours_between


def utcnow() -> datetime:
    """Now, UTC."""
    return datetime.now(UTC)


class PatrolService:
    """Guards' tours as the rules engine sees them, their scans, and the report."""

    def __init__(
        self,
        site: Site,
        db: Database,
        scans: Scans,
        progress: Callable[[], Sequence[TourProgress]],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.site, self.db, self.scans = site, db, scans
        self.codes = scans.codes
        self._progress = progress
        self.clock = clock
        self.tz = ZoneInfo(site.site.timezone)
        self._people = {p.username: p for p in site.people if p.username}
        self._routes = {r.id: r for r in site.patrol_routes}
        self._checkpoints = {c.id: c for c in site.checkpoints}

    def guard(self, username: str) -> Person | None:
        """The guard a user account belongs to (the site file's `people[].username`)."""
        person = self._people.get(username)
        return person if person is not None and person.role is PersonRole.GUARD else None

    def _checkpoint(self, cp: str, tour: TourProgress) -> dict[str, Any]:
        c = self._checkpoints.get(cp)
        visit = tour.visits.get(cp)
        due = tour.deadlines.get(cp)
        return {
            "id": cp,
            "name": c.name if c else cp,
            "name_en": (c.name_en or c.name) if c else cp,
            "deadline": due.isoformat() if due else None,
            "visited_at": visit[0].isoformat() if visit else None,
            "by": visit[1] if visit else None,
            "proof": list(visit[2]) if visit else [],
            "missed": cp in tour.missed and visit is None,
            "late": cp in tour.late,
        }

    def my_tours(self, username: str) -> dict[str, Any]:
        """The guard's routes: the open tour's checkpoints (done, missed, due when), the next
        one to walk to and its deadline."""
        person = self.guard(username)
        if person is None:  # the security room's desk, an administrator: no tours of their own
            return {"guard": None, "routes": []}
        routes = []
        for tour in self._progress():
            route = self._routes.get(tour.route)
            if route is None or (route.guards and person.id not in route.guards):
                continue
            checkpoints = [self._checkpoint(cp, tour) for cp in route.checkpoints]
            ahead = [c for c in checkpoints if not c["visited_at"] and not c["missed"]]
            routes.append(
                {
                    "route": route.id,
                    "name": route.name,
                    "name_en": route.name_en or route.name,
                    "open": tour.open,
                    "start": tour.start.isoformat() if tour.start else None,
                    "upcoming": tour.upcoming.isoformat() if tour.upcoming else None,
                    "checkpoints": checkpoints if tour.open else [],
                    "done": sum(1 for c in checkpoints if c["visited_at"]) if tour.open else 0,
                    "total": len(checkpoints),
                    "next": ahead[0] if tour.open and ahead else None,
                }
            )
        return {"guard": {"id": person.id, "name": person.name}, "routes": routes}

    def scan(
        self,
        username: str,
        payload: str,
        source: str,
        fix: tuple[float, float, float | None] | None = None,
    ) -> Verdict:
        """A guard's scan of a checkpoint's code, judged and kept."""
        person = self.guard(username)
        if person is None:
            raise NotFound("no guard has this account (people[].username in the site file)")
        return self.scans.judge(person.id, payload, source, self.clock(), fix)

    def report(self, period: Period, lang: str) -> PatrolReport:
        """The patrol report of `period`."""
        with self.db.session() as s:
            tours = tours_between(s, period.start, period.end)
        refused = self.scans.refused_between(period.start, period.end)
        return build(self.site, period, tours, refused, lang=lang, now=self.clock())

    def prune(self, keep: timedelta) -> int:
        """Delete tours and scans older than `keep`."""
        before = self.clock() - keep
        with self.db.session() as s:
            result = s.execute(delete(PatrolTour).where(PatrolTour.start < before))
            n = int(result.rowcount or 0)  # type: ignore[attr-defined]
        return n + self.scans.prune(before)
