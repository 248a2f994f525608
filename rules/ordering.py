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
            newest[key] = e.ts
            kept.append(e)
        return kept

    def forget(self) -> None:
        """Start afresh (a standby's view goes stale)."""
        self._fix.clear()
        self._reading.clear()

    def snapshot(self) -> tuple[dict[str, datetime], dict[str, datetime], int]:
        """What `restore` puts back."""
        return dict(self._fix), dict(self._reading), self.stale

    def restore(self, snap: tuple[dict[str, datetime], dict[str, datetime], int]) -> None:
        """Back to a snapshot."""
        self._fix, self._reading, self.stale = snap
