"""Energy reports: meters, consumption, the report, its files and its schedule; assembled
for the hub by `assemble` (the command line builds its report with `energy_service`, the
same service the page uses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from hub.services.assembly import Part, Shared
from hub.services.energy.scheduled import ScheduledReports
from hub.services.energy.service import EnergyService
from hub.services.reports import StoredReports
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database
from hub.tasks import Periodic
from hub.telemetry import TelemetryStore

__all__ = ["Energy", "EnergyService", "StoredReports", "assemble", "energy_service"]


@dataclass(frozen=True)
class Energy:
    """The reports on demand and the stored, scheduled ones."""

    service: EnergyService
    stored: StoredReports


def energy_service(
    settings: Settings, site: Site, telemetry: TelemetryStore, db: Database | None
) -> EnergyService:
    """The energy service as the settings configure it (the hub's and the CLI's)."""
    e = settings.energy
    return EnergyService(
        site,
        telemetry,
        db=db,
        gap=timedelta(minutes=e.gap_min),
        offline_after=timedelta(minutes=e.offline_min),
        lookback=timedelta(days=e.lookback_days),
    )


def assemble(shared: Shared) -> Part[Energy]:
    """The energy service and the job building the scheduled reports when they are due."""
    e = shared.settings.energy
    energy = energy_service(shared.settings, shared.site, shared.telemetry, shared.db)
    stored = StoredReports(shared.settings.files_dir / "reports")
    reports = ScheduledReports(
        energy,
        stored,
        kinds=e.schedule,
        settle=timedelta(minutes=e.settle_min),
        notify=e.notify,
        announce=shared.announce,
        link=lambda name: f"{shared.public_url}/energy.html#stored={name}",
        lang=e.lang,
    )
    job = Periodic("energy_reports", e.sweep_s, reports)
    return Part(Energy(energy, stored), singletons=[job])
