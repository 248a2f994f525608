"""Events that crossed on the way: with several hub workers a subject's fixes reach the leader
by two roads (taken in there, or relayed from another worker) and may arrive out of order; a
stale fix would flip a geofence back. (One hub needs no such check: the pipeline keeps each
source's order and the location stage drops a subject's late fixes.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.domain import Event, PositionFix, Reading


class NewestFirst:
    """Keeps, per subject and per point, the newest fix or reading judged so far, and lets
    through only what is not older."""

    def __init__(self) -> None:
        self._fix: dict[str, datetime] = {}
        self._reading: dict[str, datetime] = {}
        self.stale = 0
        self._undo: list[tuple[dict[str, datetime], str, datetime | None]] | None = None
        self._stale_before = 0

    def keep(self, events: Sequence[Event]) -> list[Event]:
        """The events without fixes and readings older than their subject's or point's newest
        one already judged. Dropped ones are stored all the same; sightings are all kept:
        patrol evidence counts whenever it arrives."""
        kept: list[Event] = []
        for e in events:
            if isinstance(e, PositionFix):
                newest, key = self._fix, e.subject_id
            elif isinstance(e, Reading):
                newest, key = self._reading, e.point_id
            else:
                kept.append(e)
                continue
            last = newest.get(key)
            if last is not None and e.ts < last:
                self.stale += 1
                continue
            if self._undo is not None:
                self._undo.append((newest, key, last))
            newest[key] = e.ts
            kept.append(e)
        return kept

    def forget(self) -> None:
        """Start afresh (a standby's view goes stale)."""
        self._fix.clear()
        self._reading.clear()

    def begin(self) -> None:
        """Start noting what is changed (see `rollback`)."""
        self._undo = []
        self._stale_before = self.stale

    def done(self) -> None:
        """Forget the notes."""
        self._undo = None

    def rollback(self) -> None:
        """Undo the changes since `begin`."""
        for d, key, old in reversed(self._undo or []):
            if old is None:
                d.pop(key, None)
            else:
                d[key] = old
        self.stale = self._stale_before
        self._undo = None
