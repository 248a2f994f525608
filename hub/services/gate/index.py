"""The plates a gate knows, indexed for matching camera reads: the allow and block lists and
the visitor cars expected around now. Rebuilt when this process changes visits or lists, and
at least every `INDEX_TTL_S` (changes made by another hub worker)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.services.gate.plates import Registry
from hub.settings import GateSettings
from hub.storage.models import PlateListEntry, Visit, Visitor

INDEX_TTL_S = 10.0  # the plate index is rebuilt at least this often


@dataclass(frozen=True, slots=True)
class Index:
    """What the plate index holds at one moment."""

    built: float  # monotonic
    lists: dict[str, str]  # plate -> allow / block
    cars: dict[str, tuple[int, datetime, datetime]]  # plate -> visitor, expected from, until
    registry: Registry
    more: frozenset[str] = frozenset()  # the other plates (parking permits'): ask their owner


class PlateIndex:
    """The current `Index`, rebuilt when stale."""

    def __init__(self, settings: GateSettings) -> None:
        self.settings = settings
        self._index: Index | None = None
        # more plates to match camera reads against (parking permits'), when the hub has them
        self.more: Callable[[Session, datetime], list[str]] | None = None

    def invalidate(self) -> None:
        """Rebuild at the next use (a visit or a list changed)."""
        self._index = None

    def get(self, s: Session, now: datetime) -> Index:
        """The index, rebuilt in this session when stale."""
        idx = self._index
        if idx is not None and time.monotonic() - idx.built < INDEX_TTL_S:
            return idx
        lists = {e.plate: e.kind for e in s.scalars(select(PlateListEntry))}
        early = timedelta(minutes=self.settings.early_min)
        late = timedelta(minutes=self.settings.overstay_grace_min)
        margin = timedelta(seconds=INDEX_TTL_S)
        q = (
            select(Visitor.id, Visitor.plate, Visit.start, Visit.end)
            .join(Visit, Visit.id == Visitor.visit_id)
            .where(
                Visit.status == "approved",
                Visit.start <= now + early + margin,
                Visit.end >= now - late - margin,
                Visitor.plate.is_not(None),
                Visitor.pass_revoked.is_(False),
            )
        )
        cars = {
            str(plate): (vid, start - early, end + late) for vid, plate, start, end in s.execute(q)
        }
        more = self.more(s, now) if self.more is not None else []
        registry = Registry([*lists, *cars, *more])
        idx = self._index = Index(time.monotonic(), lists, cars, registry, frozenset(more))
        return idx
