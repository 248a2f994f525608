"""The ticket service inside the hub: the alarm changes owed to it (the outbox) applied as
soon as they are committed, the SLA watch and rating reminders on a timer (a component)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hub.services.tickets.service import TicketService
from hub.tasks import Periodic, cancel

log = logging.getLogger(__name__)


class TicketJobs(Periodic):
    """Opens and updates tickets from equipment-fault alarms; sweeps the SLA targets.

    The alarm book wakes it (`poke`, from any thread) after committing a change it owes the
    ticket service; it also looks every `drain_s` (what a stopped hub, a failed attempt or
    another worker left).
    """

    def __init__(self, service: TicketService, every_s: float = 30.0, drain_s: float = 2.0):
        super().__init__("tickets", every_s, service.sweep)
        self.service = service
        self.drain_s = drain_s
        self.alarms_applied = 0
        self.drain_failures = 0
        self.drain_error = ""
        self.outbox = {"pending": 0, "set_aside": 0}  # as the last drain left it
        self._wake = asyncio.Event()
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._drainer: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """Something waits in the outbox: drain now (thread-safe)."""
        loop = self._event_loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        """Start the SLA timer and the outbox reader."""
        self._event_loop = asyncio.get_running_loop()
        await super().start()
        self._drainer = asyncio.create_task(self._drain_loop(), name="tickets:outbox")

    async def stop(self) -> None:
        """Stop both."""
        if self._drainer is not None:
            await cancel([self._drainer])
            self._drainer = None
        await super().stop()

    async def drain(self) -> int:
        """Apply what the outbox holds now (the leader only); how many changes."""
        if not self.leads():
            return 0
        n = await asyncio.to_thread(self.service.take_alarms)
        self.alarms_applied += n
        self.outbox = await asyncio.to_thread(self.service.pending_alarms)
        return n

    async def _drain_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.drain_s)
            self._wake.clear()
            try:
                await self.drain()
                self.drain_error = ""
            except Exception as err:  # the loop boundary: the database away, a bad message
                self.drain_failures += 1
                self.drain_error = str(err) or type(err).__name__
                log.exception("applying the alarms owed to the ticket service failed")

    def health(self) -> dict[str, object]:
        """Counts."""
        bad = self.failures or self.drain_error or self.outbox["set_aside"]
        return {
            "status": "degraded" if bad else "ok",
            "alarms_applied": self.alarms_applied,
            # alarm changes waiting, and any set aside after failing 20 times (see the log)
            "outbox": self.outbox,
            "drain_failures": self.drain_failures,
            "drain_error": self.drain_error,
            "sla_changes": self.changed,
            "sweep_failures": self.failures,
        }
