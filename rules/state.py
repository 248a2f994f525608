"""Typed rule state: what most rules remember about each originator, and how it is stored.

In memory a rule's state is typed (times are `datetime`s); in the `rule_state` table it is
JSON (times ISO 8601), the same JSON the hub has always stored, so a database of an earlier
release loads. Each rule kind has `load(raw) -> State` and `dump(state) -> raw`; the engine
calls them when it loads and saves, and the API shows what `dump` gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def iso(t: datetime | None) -> str | None:
    """A time as stored."""
    return t.isoformat() if t is not None else None


def when(raw: Any) -> datetime | None:
    """A stored time back."""
    return datetime.fromisoformat(raw) if raw else None


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition about one originator: since when it has held (None: it does not now, or
    it is waiting to clear) and whether its alarm is raised."""

    since: datetime | None = None
    raised: bool = False

    def held_s(self, now: datetime) -> float:
        """How long the condition has held at `now` (0 when it does not)."""
        return (now - self.since).total_seconds() if self.since is not None else 0.0


def load_conditions(raw: Mapping[str, Any], since: str = "since") -> dict[str, Condition]:
    """Conditions by originator from their JSON (`since` names the time's key)."""
    return {k: Condition(when(v.get(since)), bool(v.get("raised"))) for k, v in raw.items()}


def dump_conditions(state: Mapping[str, Condition], since: str = "since") -> dict[str, Any]:
    """Conditions by originator as JSON."""
    return {k: {since: iso(c.since), "raised": c.raised} for k, c in state.items()}
