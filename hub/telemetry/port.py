"""The telemetry store port: what the hub needs of a time-series store, whatever the backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hub.domain import Event, PositionFix, Quality
from hub.telemetry.aggregate import AggFn, AggRow
from hub.telemetry.counters import CounterWindow


@dataclass(frozen=True, slots=True)
class Sample:
    """One stored value of a point."""

    ts: datetime
    value: float
    quality: Quality


@dataclass(frozen=True, slots=True)
class Latest:
    """The newest stored value of a point."""

    point_id: str
    ts: datetime
    value: float
    unit: str
    quality: Quality


class TelemetryError(Exception):
    """The store could not do what was asked (unreachable, refused)."""


class TelemetryStore(Protocol):
    """Readings, device status, positions and sightings over time."""

    name: str

    async def start(self) -> None:
        """Begin background work (e.g. shipping what a previous run spooled)."""
        ...

    async def write(self, events: Sequence[Event]) -> int:
        """Store a batch; returns how many events were stored (others aren't telemetry)."""
        ...

    async def latest(self, point_ids: Sequence[str] | None = None) -> dict[str, Latest]:
        """The newest value of each point (all points when None)."""
        ...

    async def history(
        self, point_id: str, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[Sample]:
        """A point's values in [start, end), oldest first."""
        ...

    async def histories(
        self, ranges: Sequence[tuple[str, datetime, datetime]], *, limit: int = 10_000
    ) -> list[list[Sample]]:
        """Several points' values, each (point, start, end) like `history`, in as few round
        trips as the store allows (the energy report's exact hours: one per meter at worst)."""
        ...

    async def track(
        self, subject_id: str, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[PositionFix]:
        """A subject's positions in [start, end), oldest first."""
        ...

    async def aggregate(
        self,
        fn: AggFn,
        point_ids: Sequence[str],
        start: datetime,
        end: datetime,
        every: timedelta,
        *,
        group_by: str = "point",
        offset: timedelta = timedelta(0),
    ) -> list[AggRow]:
        """Windowed aggregates, computed by the store (see hub.telemetry.aggregate)."""
        ...

    async def counter_windows(
        self,
        point_ids: Sequence[str],
        start: datetime,
        end: datetime,
        every: timedelta,
        offset: timedelta = timedelta(0),
    ) -> list[CounterWindow]:
        """Count, last, lowest and highest good reading per point and right-closed window of
        (start, end] (hub.telemetry.counters)."""
        ...

    async def prune(self, before: datetime) -> int:
        """Delete what is older than `before`; returns how many rows went."""
        ...

    def health(self) -> dict[str, Any]:
        """Backend state for /api/health."""
        ...

    async def close(self) -> None:
        """Flush and release resources."""
        ...
