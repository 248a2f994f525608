"""Guard patrols beyond the rule that watches them: checkpoint codes and the scans of them,
what a guard's phone shows, and the patrol report with its schedule; assembled by
`assemble` (the rules engine's tour progress is handed in: services do not import rules)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from hub.domain import TourProgress
from hub.services.assembly import Part, Shared
from hub.services.patrol.codes import CheckpointCodes
from hub.services.patrol.scans import Scans, Verdict
from hub.services.patrol.scheduled import ScheduledPatrolReports
from hub.services.patrol.service import PatrolService
from hub.services.reports import StoredReports
from hub.tasks import Periodic

__all__ = ["CheckpointCodes", "Patrol", "PatrolService", "Verdict", "assemble"]


@dataclass(frozen=True)
class Patrol:
    """The service and its stored reports."""

    service: PatrolService
    stored: StoredReports


def assemble(shared: Shared, progress: Callable[[], Sequence[TourProgress]]) -> Part[Patrol]:
    """The patrol service and the job building its scheduled reports."""
    p = shared.settings.patrol
    codes = CheckpointCodes(shared.site, shared.secret)
    service = PatrolService(shared.site, shared.db, Scans(shared.db, codes), progress)
    stored = StoredReports(shared.settings.files_dir / "reports", prefix="patrol")
    job = ScheduledPatrolReports(
        service,
        stored,
        kinds=p.schedule,
        settle=timedelta(minutes=p.settle_min),
        keep=timedelta(days=p.keep_days),
        notify=p.notify,
        announce=shared.announce,
        link=lambda name: f"{shared.public_url}/patrol.html#stored={name}",
        lang=p.lang,
    )
    return Part(Patrol(service, stored), singletons=[Periodic("patrol_reports", p.sweep_s, job)])
