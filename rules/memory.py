"""An alarm book and a state store in memory: for dry runs, benchmarks and tests of rules
that need no database. The book keeps the one-active-alarm-per-originator-and-type rule and
a timeline of what it was asked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hub.domain import Action, Raise, StoredRule, TourEnded
from hub.domain.patrol import TourRecord


class MemoryStateStore:
    """Rule states in a dict (nothing survives the process)."""

    def __init__(self) -> None:
        self.rules: dict[str, StoredRule] = {}

    def load(self) -> dict[str, StoredRule]:
        """What was saved."""
        return dict(self.rules)

    def save(self, rules: dict[str, StoredRule]) -> None:
        """Keep these states."""
        self.rules.update(rules)


class MemoryAlarmBook:
    """Active alarms by (originator, type), every change on a timeline, and the states the
    engine committed with them (in `store`)."""

    def __init__(self, store: MemoryStateStore | None = None) -> None:
        self.active: set[tuple[str, str]] = set()
        self.timeline: list[dict[str, Any]] = []
        self.tours: list[TourRecord] = []  # the patrol tours that ended
        self.store = store if store is not None else MemoryStateStore()

    def commit(
        self, actions: Sequence[Action], states: Mapping[str, StoredRule], now: datetime
    ) -> None:
        """Apply the raises and clears and keep the states."""
        for a in actions:
            if isinstance(a, TourEnded):
                self.tours.append(a.record)
                continue
            key = (a.originator, a.type)
            entry = {
                "ts": now.isoformat(),
                "rule": a.rule,
                "originator": a.originator,
                "type": a.type,
                "message": a.message,
            }
            if isinstance(a, Raise):
                action = "repeated" if key in self.active else "raised"
                self.active.add(key)
                self.timeline.append({**entry, "action": action, "severity": a.severity})
            elif key in self.active:
                self.active.discard(key)
                self.timeline.append({**entry, "action": "cleared"})
        self.store.save(dict(states))
