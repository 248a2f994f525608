"""Read-only views one part of the hub gives another (so neither reads the other's state)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TourProgress:
    """Where a patrol route's open tour stands (the missed-patrol rule's view of its state)."""

    route: str
    open: bool  # a tour is under way
    visited: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    deadlines: Mapping[str, datetime] = field(default_factory=dict)
    start: datetime | None = None
    # checkpoint -> (when, by whom, how it was proven)
    visits: Mapping[str, tuple[datetime, str, tuple[str, ...]]] = field(default_factory=dict)
    upcoming: datetime | None = None  # when the next tour starts
