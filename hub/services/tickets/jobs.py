"""The ticket service inside the hub: alarm changes from the pipeline in, the SLA watch and
rating reminders on a timer (a pipeline consumer and a component)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hub.domain import AlarmEvent
from hub.pipeline import Envelope
from hub.services.tickets.service import TicketService
from hub.tasks import Periodic


class TicketJobs(Periodic):
    """Opens and updates tickets from equipment-fault alarms; sweeps the SLA targets."""

    def __init__(self, service: TicketService, every_s: float = 30.0) -> None:
        super().__init__("tickets", every_s, service.sweep)
        self.service = service
        self.alarms_seen = 0

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        """Pipeline handler (lossless: a fault's ticket must not be lost)."""
        for env in batch:
            if isinstance(env.event, AlarmEvent):
                self.alarms_seen += 1
                await asyncio.to_thread(self.service.on_alarm, env.event)

    def health(self) -> dict[str, object]:
        """Counts."""
        return {
            "status": "ok" if not self.failures else "degraded",
            "alarms_seen": self.alarms_seen,
            "sla_changes": self.changed,
            "sweep_failures": self.failures,
        }
