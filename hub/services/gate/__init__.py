"""Visitors and the gate: visits and passes, plates, gate decisions, guards' reviews;
assembled for the hub by `assemble`."""

from __future__ import annotations

from dataclasses import dataclass

from hub.services.alarms import AlarmService
from hub.services.assembly import Part, Shared
from hub.services.gate import passes
from hub.services.gate.service import GateService
from hub.services.gate.visits import VisitService
from hub.tasks import Periodic

__all__ = ["Gate", "GateService", "VisitService", "assemble"]


@dataclass(frozen=True)
class Gate:
    """Visits (and their passes) and the gate's decisions."""

    visits: VisitService
    gate: GateService


def assemble(shared: Shared, alarms: AlarmService) -> Part[Gate]:
    """Visits and the gate, with the pass-signing key (made on first start); the job that
    expires passes and watches overstaying visitors."""
    settings = shared.settings
    key_file = settings.gate.pass_key_file or settings.files_dir / "pass_ed25519.pem"
    visits = VisitService(
        shared.db,
        shared.site,
        settings.gate,
        secret=shared.secret,
        key=passes.load_or_create_key(key_file),
    )
    gate = GateService(visits, alarms=alarms, announce=shared.announce)
    jobs = Periodic("gate_jobs", settings.gate.sweep_s, gate.sweep)
    return Part(Gate(visits, gate), singletons=[jobs])
