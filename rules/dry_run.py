"""A dry run: rules replayed over a recorded stretch of events on a virtual clock, against
an alarm book in memory; nothing is stored, nothing is notified. For trying a rule file
before it goes live ("how often would this have fired last week?")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from hub.domain import Event
from hub.site import Site
from hub.site.base import Item
from rules.engine import RuleEngine
from rules.memory import MemoryAlarmBook
from rules.ports import TripBook


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def dry_run(
    site: Site,
    rules: Sequence[Item],
    events: Sequence[Event],
    start: datetime,
    end: datetime,
    *,
    tick: timedelta = timedelta(seconds=10),
    trips: TripBook | None = None,
) -> dict[str, Any]:
    """Replay `events` (any order) through `rules` from `start` to `end`, ticking every
    `tick` of event time; the alarms they would have raised and cleared."""
    clock = _Clock(start)
    book = MemoryAlarmBook()
    engine = RuleEngine(
        site.model_copy(update={"rules": list(rules)}),
        book.store,
        book,
        clock=clock,
        trips=trips,
    )
    engine.load()
    next_tick = start + tick
    for event in sorted(events, key=lambda e: e.ts):
        if not start <= event.ts < end:
            continue
        while next_tick <= event.ts:
            clock.now = next_tick
            engine.apply(engine.tick_actions(next_tick), next_tick)
            next_tick += tick
        clock.now = event.ts
        engine.apply(engine.evaluate([event], event.ts), event.ts)
    while next_tick <= end:
        clock.now = next_tick
        engine.apply(engine.tick_actions(next_tick), next_tick)
        next_tick += tick
    raised = Counter((e["rule"], e["type"]) for e in book.timeline if e["action"] == "raised")
    return {
        "events": sum(1 for e in events if start <= e.ts < end),
        "raised": [
            {"rule": rule, "type": type_, "count": n} for (rule, type_), n in sorted(raised.items())
        ],
        "still_active": len(book.active),
        "disabled": engine.health()["disabled"],
        "timeline": book.timeline,
    }
