"""Which hub process leads: the one that runs what only one process may run (the rules engine,
the pollers of Modbus and BACnet devices, reminders, SLA sweeps, booking and gate sweeps,
scheduled reports, retention) when several hub workers share one PostgreSQL database.

Leadership is a PostgreSQL session advisory lock held on a connection of its own: the server
releases it when that connection ends (the process died, the network went), and another
worker takes it at its next try. Nothing home-made: no heartbeats, no lease table. With SQLite
there is one process, and it leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from hub.domain import Command, CommandHandler, CommandResult, Component
from hub.storage import Database
from hub.tasks import cancel

log = logging.getLogger(__name__)

LOCK_KEY = 0x6479_6875_6221  # "dyhub!": the advisory lock's key, the same in every worker


class Leadership:
    """A hub component; `is_leader()` says whether this process runs the singleton jobs."""

    name = "leadership"

    def __init__(self, db: Database, *, every_s: float = 5.0, key: int = LOCK_KEY) -> None:
        self.db = db
        self.every_s = every_s
        self.key = key
        self._leader = db.dialect != "postgresql"
        self._conn: Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self.since: datetime | None = datetime.now(UTC) if self._leader else None
        self.changes = 0
        self.last_error = ""

    def is_leader(self) -> bool:
        """Whether this process leads now."""
        return self._leader

    async def start(self) -> None:
        """Try to lead now, then keep trying (or keep checking the lock's connection)."""
        if self.db.dialect != "postgresql":
            return
        await asyncio.to_thread(self._check)
        self._task = asyncio.create_task(self._loop(), name="leadership")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await asyncio.to_thread(self._check)

    def _check(self) -> None:
        """Take the lock if free; if held, make sure its connection still is."""
        try:
            if self._conn is None:
                self._conn = self.db.engine.connect()
            if self._leader:
                self._conn.execute(text("SELECT 1")).scalar()
            else:
                got = self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
                ).scalar()
                self._conn.commit()
                if got:
                    self._set(True)
            self.last_error = ""
        except Exception as err:  # the database went away: whatever we held is gone with it
            self.last_error = str(err).splitlines()[0] if str(err) else type(err).__name__
            self._drop_connection()
            self._set(False)

    def _set(self, leader: bool) -> None:
        if leader != self._leader:
            self._leader = leader
            self.since = datetime.now(UTC) if leader else None
            self.changes += 1
            log.warning("this hub %s the leader", "is now" if leader else "is no longer")

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None

    async def stop(self) -> None:
        """Give the lead up (closing the connection releases the lock)."""
        if self._task is not None:
            await cancel([self._task])
        if self.db.dialect == "postgresql":
            await asyncio.to_thread(self._drop_connection)
            self._set(False)

    def health(self) -> dict[str, Any]:
        """Leader or standby (both healthy); the last error reaching the database."""
        return {
            "status": "degraded" if self.last_error else "ok",
            "leader": self._leader,
            "since": self.since.isoformat() if self.since else None,
            "changes": self.changes,
            **({"error": self.last_error} if self.last_error else {}),
        }


class WhileLeading:
    """Runs a component only while this worker leads: the pollers (Modbus, BACnet), which
    two workers must not both run (each reading twice, each device asked twice). Checks the
    lead as often as the leadership does; the component is built afresh for each term
    (`make`), so nothing of a stopped one is reused."""

    def __init__(self, name: str, make: Callable[[], Component], leadership: Leadership) -> None:
        self.name = name
        self.make = make
        self.leadership = leadership
        self.current: Component | None = None
        self._next: Component | None = make()  # built now: it says which points it owns
        self._owner: Component = self._next
        self.terms = 0
        self._task: asyncio.Task[None] | None = None
        # how a standby has a command carried out by the worker that leads (the cluster relay)
        self.forward: Callable[[Command], Awaitable[CommandResult]] | None = None

    async def start(self) -> None:
        """Start the component now if this worker leads; then follow the lead."""
        await self._follow()
        self._task = asyncio.create_task(self._loop(), name=f"while-leading:{self.name}")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.leadership.every_s)  # as often as the lead can change
            try:
                await self._follow()
            except Exception:  # the loop boundary: try again at the next check
                log.exception("starting or stopping %s failed", self.name)

    async def _follow(self) -> None:
        leads = self.leadership.is_leader()
        if leads and self.current is None:
            component, self._next = self._next or self.make(), None
            self._owner = component
            await component.start()
            self.current = component
            self.terms += 1
            log.info("%s started: this worker leads", self.name)
        elif not leads and self.current is not None:
            component, self.current = self.current, None
            await component.stop()
            log.info("%s stopped: another worker leads", self.name)

    async def stop(self) -> None:
        """Stop following the lead, and the component."""
        if self._task is not None:
            await cancel([self._task])
        if self.current is not None:
            component, self.current = self.current, None
            await component.stop()

    def owns(self, point_id: str) -> bool:
        """Whether the component's equipment has the point (a CommandHandler)."""
        c = self._owner
        return isinstance(c, CommandHandler) and c.owns(point_id)

    async def execute(self, command: Command) -> CommandResult:
        """Carry a command out while leading; a standby forwards it to the worker that leads
        (or, without a way to, says that one does)."""
        c = self.current
        if isinstance(c, CommandHandler):
            return await c.execute(command)
        if self.forward is not None:
            return await self.forward(command)
        return CommandResult(
            False, detail="another hub worker drives this equipment now", error="unreachable"
        )

    def health(self) -> dict[str, object]:
        """The running component's health, or standby."""
        if self.current is None:
            return {"status": "ok", "standby": True}
        return {**self.current.health(), "standby": False}
