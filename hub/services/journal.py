"""The event journal: device statuses and badge sightings, which the telemetry store does
not keep, recorded (a lossless pipeline consumer) so a rule file can be dry-run over them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from hub.domain import CodeScan, DeviceStatus, Event, Sighting, event_source_key
from hub.pipeline import Envelope
from hub.services.assembly import Consumer, Part, Shared
from hub.storage import Database
from hub.storage.models import JournalEntry

KINDS = ("status", "sighting", "scan")  # what the telemetry store does not keep


def _data(event: Event) -> dict[str, Any]:
    return {
        f.name: getattr(event, f.name)
        for f in dataclasses.fields(event)
        if f.name != "ts"  # the row's own column
    }


def _event(row: JournalEntry) -> Event:
    if row.kind == "status":
        return DeviceStatus(ts=row.ts, **row.data)
    if row.kind == "scan":
        return CodeScan(ts=row.ts, **row.data)
    return Sighting(ts=row.ts, **row.data)


class EventJournal:
    """Statuses, sightings and checkpoint scans in the relational database, pruned with the
    telemetry."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.written = 0

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        """Pipeline handler."""
        events = [e.event for e in batch if isinstance(e.event, DeviceStatus | Sighting)]
        if events:
            await asyncio.to_thread(self._write, events)

    def _write(self, events: Sequence[Event]) -> None:
        with self._db.session() as s:
            s.add_all(
                JournalEntry(ts=e.ts, kind=e.kind, key=event_source_key(e)[:200], data=_data(e))
                for e in events
            )
        self.written += len(events)

    def events(self, start: datetime, end: datetime, *, limit: int = 200_000) -> list[Event]:
        """Journaled events in [start, end), oldest first."""
        q = (
            select(JournalEntry)
            .where(JournalEntry.ts >= start, JournalEntry.ts < end)
            .order_by(JournalEntry.ts, JournalEntry.id)
            .limit(limit)
        )
        with self._db.session() as s:
            return [_event(r) for r in s.scalars(q)]

    def prune(self, before: datetime) -> int:
        """Forget entries older than `before`; how many."""
        with self._db.session() as s:
            result = s.execute(delete(JournalEntry).where(JournalEntry.ts < before))
            return int(getattr(result, "rowcount", 0) or 0)


def assemble(shared: Shared) -> Part[EventJournal]:
    """The journal, taking statuses and sightings from the pipeline (lossless)."""
    journal = EventJournal(shared.db)
    return Part(journal, consumers=[Consumer("journal", journal, kinds=KINDS)])
