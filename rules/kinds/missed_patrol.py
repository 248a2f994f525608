"""Missed patrol: tours of a route on a schedule; each checkpoint is due in its window.

As they happen (not at the end of the tour):
- a checkpoint not visited by its deadline (due + grace) raises `patrol_missed` about
  "<route>/<checkpoint>"; a late visit (within `late_min` after the last deadline) clears it;
- a late visit also records a `patrol_late` alarm (raised and cleared at once: it needs
  acknowledging, it is not a condition that lasts);
- in an ordered route, a checkpoint visited while an earlier one is still open records a
  `patrol_out_of_order` alarm the same way.
At the end of a tour the missed alarms still active clear (the tour is over) and the tour's
compliance goes into the state's history.

Visits are Sightings of a route guard's badge (or phone) at the checkpoint. Schedules are
RRULEs in the site's time zone; a tour starts at each occurrence.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain import Event, Sighting, TourProgress
from hub.site.rules import MissedPatrolRule, Schedule, parse_schedule
from rules.actions import Action, Clear, Raise, occurred

HISTORY = 50  # tours kept in the state


@dataclass(frozen=True)
class Route:
    """What the rule needs of the site's patrol route."""

    id: str
    checkpoints: tuple[str, ...]
    ordered: bool
    guards: frozenset[str]
    timezone: str


@dataclass(frozen=True, slots=True)
class Visit:
    """A checkpoint visited: when, by whom, after its deadline or not."""

    at: datetime
    by: str | None
    late: bool


@dataclass(frozen=True, slots=True)
class Tour:
    """The open tour: its checkpoints' deadlines, until when late visits count, what has been
    visited, missed, late and out of order so far."""

    start: datetime
    deadline: Mapping[str, datetime]
    end: datetime
    visited: Mapping[str, Visit] = field(default_factory=dict)
    missed: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    out_of_order: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TourRecord:
    """A tour that ended, in the rule's history: its compliance, or `unobserved` when it fell
    entirely into a hub outage."""

    start: datetime
    unobserved: bool = False
    visited: int = 0
    on_time: int = 0
    total: int = 0
    compliance: float = 0.0
    missed: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    out_of_order: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class State:
    """The open tour (None between tours), the last tours' records, and until when the
    schedule was looked at (None before the first tick)."""

    tour: Tour | None = None
    history: tuple[TourRecord, ...] = ()
    checked: datetime | None = None


def _t(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def load(raw: Mapping[str, Any]) -> State:
    """From the stored JSON."""
    tour = raw.get("tour")
    return State(
        tour=Tour(
            start=_t(tour["start"]),
            deadline={cp: _t(d) for cp, d in tour["deadline"].items()},
            end=_t(tour["end"]),
            visited={
                cp: Visit(_t(v["at"]), v["by"], bool(v["late"]))
                for cp, v in tour["visited"].items()
            },
            missed=tuple(tour["missed"]),
            late=tuple(tour["late"]),
            out_of_order=tuple(tour["out_of_order"]),
        )
        if tour
        else None,
        history=tuple(
            TourRecord(
                start=_t(h["start"]),
                unobserved=bool(h.get("unobserved")),
                visited=h.get("visited", 0),
                on_time=h.get("on_time", 0),
                total=h.get("total", 0),
                compliance=h.get("compliance", 0.0),
                missed=tuple(h.get("missed", ())),
                late=tuple(h.get("late", ())),
                out_of_order=tuple(h.get("out_of_order", ())),
            )
            for h in raw.get("history", ())
        ),
        checked=_t(raw["checked"]) if raw.get("checked") else None,
    )


def _record(h: TourRecord) -> dict[str, Any]:
    if h.unobserved:
        return {"start": h.start.isoformat(), "unobserved": True}
    return {
        "start": h.start.isoformat(),
        "visited": h.visited,
        "on_time": h.on_time,
        "total": h.total,
        "compliance": h.compliance,
        "missed": list(h.missed),
        "late": list(h.late),
        "out_of_order": list(h.out_of_order),
    }


def dump(state: State) -> dict[str, Any]:
    """As stored (and as `/api/rules` shows it)."""
    if state.checked is None and state.tour is None and not state.history:
        return {}
    tour = state.tour
    return {
        "tour": {
            "start": tour.start.isoformat(),
            "deadline": {cp: d.isoformat() for cp, d in tour.deadline.items()},
            "end": tour.end.isoformat(),
            "visited": {
                cp: {"at": v.at.isoformat(), "by": v.by, "late": v.late}
                for cp, v in tour.visited.items()
            },
            "missed": list(tour.missed),
            "late": list(tour.late),
            "out_of_order": list(tour.out_of_order),
        }
        if tour
        else None,
        "history": [_record(h) for h in state.history],
        "checked": state.checked.isoformat() if state.checked else None,
    }


@functools.lru_cache(maxsize=256)
def _schedule(schedule: str, tz: str) -> Schedule:
    return parse_schedule(schedule, tz)


def prewarm(rule: MissedPatrolRule, timezone: str, now: datetime) -> None:
    """Bring the rule's schedule up to `now` (its first walk from the schedule's start is
    long: do it at load, off the event loop, not at the first tick)."""
    _schedule(rule.schedule, timezone).between(now - timedelta(days=1), now)


def _local(t: datetime, route: Route) -> str:
    return t.astimezone(ZoneInfo(route.timezone)).strftime("%H:%M")


def _originator(route: Route, cp: str) -> str:
    return f"{route.id}/{cp}"


def _new_tour(start: datetime, rule: MissedPatrolRule, route: Route) -> Tour:
    start = start.astimezone(UTC)
    deadlines: dict[str, datetime] = {}
    for i, cp in enumerate(route.checkpoints):
        window = rule.windows.get(cp)
        due = start + timedelta(minutes=window.at_min if window else rule.step_min * i)
        grace = window.grace_min if window and window.grace_min is not None else rule.grace_min
        deadlines[cp] = due + timedelta(minutes=grace)
    last = max(deadlines.values())
    return Tour(start, deadlines, last + timedelta(minutes=rule.late_min))


def _close(tour: Tour, rule: MissedPatrolRule, route: Route) -> tuple[TourRecord, list[Action]]:
    actions: list[Action] = [
        Clear(rule.id, _originator(route, cp), "patrol_missed", "tour over")
        for cp in tour.missed
        if cp not in tour.visited
    ]
    total = len(route.checkpoints)
    on_time = sum(1 for v in tour.visited.values() if not v.late)
    record = TourRecord(
        start=tour.start,
        visited=len(tour.visited),
        on_time=on_time,
        total=total,
        compliance=round(on_time / total, 3),
        missed=tuple(cp for cp in route.checkpoints if cp not in tour.visited),
        late=tour.late,
        out_of_order=tour.out_of_order,
    )
    return record, actions


def update(
    state: State, event: Event, now: datetime, rule: MissedPatrolRule, route: Route
) -> tuple[State, list[Action]]:
    """A sighting: a visit to a checkpoint of the open tour."""
    if not isinstance(event, Sighting) or event.checkpoint_id not in route.checkpoints:
        return state, []
    tour = state.tour
    if tour is None or (route.guards and event.subject_id not in route.guards):
        return state, []
    cp = event.checkpoint_id
    if cp in tour.visited or event.ts < tour.start or event.ts > tour.end:
        return state, []
    late = event.ts > tour.deadline[cp]
    tour = replace(tour, visited={**tour.visited, cp: Visit(event.ts, event.subject_id, late)})
    origin = _originator(route, cp)
    who = event.subject_id or event.badge_id
    actions: list[Action] = []
    if late:
        tour = replace(tour, late=(*tour.late, cp))
        minutes = (event.ts - tour.deadline[cp]).total_seconds() / 60
        text = f"{cp} visited by {who} {minutes:.0f} min after its deadline"
        if cp in tour.missed:
            actions.append(Clear(rule.id, origin, "patrol_missed", text))
        actions += occurred(rule.id, origin, "patrol_late", "warning", text)
    if route.ordered:
        i = route.checkpoints.index(cp)
        skipped = [
            c for c in route.checkpoints[:i] if c not in tour.visited and c not in tour.missed
        ]
        if skipped:
            tour = replace(tour, out_of_order=(*tour.out_of_order, cp))
            text = f"{cp} visited by {who} before {', '.join(skipped)}"
            actions += occurred(rule.id, origin, "patrol_out_of_order", "minor", text)
    return replace(state, tour=tour), actions


def _overdue(
    tour: Tour, now: datetime, rule: MissedPatrolRule, route: Route
) -> tuple[Tour, list[Action]]:
    """Raise the checkpoints whose deadline has passed unvisited."""
    missed = list(tour.missed)
    actions: list[Action] = []
    for cp, deadline in tour.deadline.items():
        if cp not in tour.visited and cp not in missed and now > deadline:
            missed.append(cp)
            actions.append(
                Raise(
                    rule.id,
                    _originator(route, cp),
                    "patrol_missed",
                    rule.severity.value,
                    f"{cp} of {route.id} not visited by {_local(deadline, route)}",
                )
            )
    return replace(tour, missed=tuple(missed)), actions


def tick(
    state: State, now: datetime, rule: MissedPatrolRule, route: Route
) -> tuple[State, list[Action]]:
    """Raise missed checkpoints, close finished tours, start tours on schedule."""
    schedule = _schedule(rule.schedule, route.timezone)
    if state.checked is not None:
        checked = state.checked
        starts = [s for s in schedule.between(checked, now) if s > checked]
    else:  # first run: take up a tour already under way
        span = _new_tour(now, rule, route).end - now
        starts = schedule.between(now - span, now)[-1:]
    history = list(state.history)
    actions: list[Action] = []
    tour = state.tour
    if tour is not None:
        tour, raised = _overdue(tour, now, rule, route)
        actions += raised
        if starts or now >= tour.end:
            record, closing = _close(tour, rule, route)
            history.append(record)
            actions += closing
            tour = None
    # Tours that started and ended while the hub was down: nobody watched them.
    history += [TourRecord(s.astimezone(UTC), unobserved=True) for s in starts[:-1]]
    if starts:
        tour, raised = _overdue(_new_tour(starts[-1], rule, route), now, rule, route)
        actions += raised
    return State(tour, tuple(history[-HISTORY:]), now), actions


def progress(state: State, route: Route) -> TourProgress:
    """The open tour of the route as others may read it (the wall's patrol progress)."""
    tour = state.tour
    if tour is None:
        return TourProgress(route.id, open=False)
    return TourProgress(
        route.id,
        open=True,
        visited=tuple(cp for cp in route.checkpoints if cp in tour.visited),
        missed=tour.missed,
        late=tour.late,
        deadlines=dict(tour.deadline),
    )
