"""Cards and permits as the hub runs them (docs/permits.md): the service and the staff's phone
credentials, plugged into the gate (a parking permit's plate, a phone's code), and the jobs:
cards expired and holders reminded (every 10 minutes), documents' photos purged after the
retention period, used codes forgotten after a day."""

from __future__ import annotations

from datetime import timedelta

from hub.services.assembly import Part, Shared
from hub.services.gate import Gate
from hub.services.permits.credential import StaffCredentials
from hub.services.permits.service import Permits
from hub.tasks import Periodic

__all__ = ["Permits", "StaffCredentials", "assemble"]


def assemble(shared: Shared, gate: Gate) -> Part[Permits]:
    """The service; the gate asks it about plates and takes the staff's codes with it."""
    permits = Permits(shared.db, shared.site, shared.settings.files_dir / "permits")
    permits.announce = shared.announce
    names = {p.username: p.name for p in shared.site.people if p.username}
    credentials = StaffCredentials(shared.db, gate.visits.key, names)
    permits.credentials = credentials
    gate.gate.permit_for_plate = Permits.for_plate
    gate.gate.index.more = Permits.plates
    permits.plates_changed = gate.gate.index.invalidate
    gate.gate.staff = credentials
    keep = timedelta(days=shared.settings.gate.retention_days)

    def purge() -> int:
        now = permits.clock()
        return permits.purge(now - keep) + credentials.forget(now - timedelta(days=1))

    return Part(
        permits,
        singletons=[
            Periodic("permits", 600, permits.sweep),
            Periodic("permits_retention", 3600, purge),
        ],
    )
