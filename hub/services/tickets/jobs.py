"""The ticket service inside the hub: alarm changes from the pipeline in, the SLA watch and
rating reminders on a timer (a pipeline consumer and a component)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from hub.domain import AlarmEvent
from hub.pipeline import Envelope
from hub.services.tickets.service import TicketService
from hub.tasks import cancel

log = logging.getLogger(__name__)


class TicketJobs:
    """Opens and updates tickets from equipment-fault alarms; sweeps the SLA targets."""

    name = "tickets"

    def __init__(self, service: TicketService, every_s: float = 30.0) -> None:
        self.service = service
        self._every = every_s
        self._task: asyncio.Task[None] | None = None
        self.alarms_seen = 0
        self.swept = 0
        self.failures = 0

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        """Pipeline handler (lossless: a fault's ticket must not be lost)."""
        for env in batch:
            if isinstance(env.event, AlarmEvent):
                self.alarms_seen += 1
                await asyncio.to_thread(self.service.on_alarm, env.event)

    async def start(self) -> None:
        """Start the SLA watch."""
        self._task = asyncio.create_task(self._loop(), name="ticket-sweeper")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                self.swept += await asyncio.to_thread(self.service.sweep)
            except Exception:  # the database away: next time
                self.failures += 1
                log.exception("ticket SLA sweep failed")

    async def stop(self) -> None:
        """Stop the SLA watch."""
        if self._task is not None:
            await cancel([self._task])

    def health(self) -> dict[str, object]:
        """Counts."""
        return {
            "status": "ok" if not self.failures else "degraded",
            "alarms_seen": self.alarms_seen,
            "sla_changes": self.swept,
            "sweep_failures": self.failures,
        }
