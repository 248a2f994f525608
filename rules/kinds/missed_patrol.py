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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain import Event, Sighting, TourProgress
from hub.site.rules import MissedPatrolRule, Schedule, parse_schedule
from rules.actions import Action, Clear, Raise, occurred

State = dict[str, Any]
HISTORY = 50  # tours kept in the state


@dataclass(frozen=True)
class Route:
    """What the rule needs of the site's patrol route."""

    id: str
    checkpoints: tuple[str, ...]
    ordered: bool
    guards: frozenset[str]
    timezone: str


def _iso(t: datetime) -> str:
    return t.isoformat()


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


@functools.lru_cache(maxsize=256)
def _schedule(schedule: str, tz: str) -> Schedule:
    return parse_schedule(schedule, tz)


def prewarm(rule: MissedPatrolRule, timezone: str, now: datetime) -> None:
    """Bring the rule's schedule up to `now` (its first walk from the schedule's start is
    long: do it at load, off the event loop, not at the first tick)."""
    _schedule(rule.schedule, timezone).between(now - timedelta(days=1), now)


def _local(iso: str, route: Route) -> str:
    return _t(iso).astimezone(ZoneInfo(route.timezone)).strftime("%H:%M")


def _originator(route: Route, cp: str) -> str:
    return f"{route.id}/{cp}"


def _new_tour(start: datetime, rule: MissedPatrolRule, route: Route) -> dict[str, Any]:
    start = start.astimezone(UTC)
    deadlines: dict[str, str] = {}
    for i, cp in enumerate(route.checkpoints):
        window = rule.windows.get(cp)
        due = start + timedelta(minutes=window.at_min if window else rule.step_min * i)
        grace = window.grace_min if window and window.grace_min is not None else rule.grace_min
        deadlines[cp] = _iso(due + timedelta(minutes=grace))
    last = max(_t(d) for d in deadlines.values())
    return {
        "start": _iso(start),
        "deadline": deadlines,
        "end": _iso(last + timedelta(minutes=rule.late_min)),
        "visited": {},
        "missed": [],
        "late": [],
        "out_of_order": [],
    }


def _close(
    tour: dict[str, Any], rule: MissedPatrolRule, route: Route
) -> tuple[dict[str, Any], list[Action]]:
    actions: list[Action] = [
        Clear(rule.id, _originator(route, cp), "patrol_missed", "tour over")
        for cp in tour["missed"]
        if cp not in tour["visited"]
    ]
    total = len(route.checkpoints)
    on_time = sum(1 for cp, v in tour["visited"].items() if not v["late"])
    record = {
        "start": tour["start"],
        "visited": len(tour["visited"]),
        "on_time": on_time,
        "total": total,
        "compliance": round(on_time / total, 3),
        "missed": [cp for cp in route.checkpoints if cp not in tour["visited"]],
        "late": tour["late"],
        "out_of_order": tour["out_of_order"],
    }
    return record, actions


def update(
    state: State, event: Event, now: datetime, rule: MissedPatrolRule, route: Route
) -> tuple[State, list[Action]]:
    """A sighting: a visit to a checkpoint of the open tour."""
    if not isinstance(event, Sighting) or event.checkpoint_id not in route.checkpoints:
        return state, []
    tour = state.get("tour")
    if tour is None or (route.guards and event.subject_id not in route.guards):
        return state, []
    cp = event.checkpoint_id
    if cp in tour["visited"] or event.ts < _t(tour["start"]) or event.ts > _t(tour["end"]):
        return state, []
    tour = {**tour, "visited": dict(tour["visited"])}
    late = event.ts > _t(tour["deadline"][cp])
    tour["visited"][cp] = {"at": _iso(event.ts), "by": event.subject_id, "late": late}
    origin = _originator(route, cp)
    who = event.subject_id or event.badge_id
    actions: list[Action] = []
    if late:
        tour["late"] = [*tour["late"], cp]
        minutes = (event.ts - _t(tour["deadline"][cp])).total_seconds() / 60
        text = f"{cp} visited by {who} {minutes:.0f} min after its deadline"
        if cp in tour["missed"]:
            actions.append(Clear(rule.id, origin, "patrol_missed", text))
        actions += occurred(rule.id, origin, "patrol_late", "warning", text)
    if route.ordered:
        i = route.checkpoints.index(cp)
        skipped = [
            c for c in route.checkpoints[:i] if c not in tour["visited"] and c not in tour["missed"]
        ]
        if skipped:
            tour["out_of_order"] = [*tour["out_of_order"], cp]
            text = f"{cp} visited by {who} before {', '.join(skipped)}"
            actions += occurred(rule.id, origin, "patrol_out_of_order", "minor", text)
    return {**state, "tour": tour}, actions


def _overdue(
    tour: dict[str, Any], now: datetime, rule: MissedPatrolRule, route: Route
) -> tuple[dict[str, Any], list[Action]]:
    """Raise the checkpoints whose deadline has passed unvisited."""
    missed = list(tour["missed"])
    actions: list[Action] = []
    for cp, deadline in tour["deadline"].items():
        if cp not in tour["visited"] and cp not in missed and now > _t(deadline):
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
    return {**tour, "missed": missed}, actions


def tick(
    state: State, now: datetime, rule: MissedPatrolRule, route: Route
) -> tuple[State, list[Action]]:
    """Raise missed checkpoints, close finished tours, start tours on schedule."""
    schedule = _schedule(rule.schedule, route.timezone)
    if "checked" in state:
        checked = _t(state["checked"])
        starts = [s for s in schedule.between(checked, now) if s > checked]
    else:  # first run: take up a tour already under way
        span = _t(_new_tour(now, rule, route)["end"]) - now
        starts = schedule.between(now - span, now)[-1:]
    history: list[dict[str, Any]] = list(state.get("history", []))
    actions: list[Action] = []
    tour = state.get("tour")
    if tour is not None:
        tour, raised = _overdue(tour, now, rule, route)
        actions += raised
        if starts or now >= _t(tour["end"]):
            record, closing = _close(tour, rule, route)
            history.append(record)
            actions += closing
            tour = None
    # Tours that started and ended while the hub was down: nobody watched them.
    history += [{"start": _iso(s.astimezone(UTC)), "unobserved": True} for s in starts[:-1]]
    if starts:
        tour, raised = _overdue(_new_tour(starts[-1], rule, route), now, rule, route)
        actions += raised
    out = {**state, "tour": tour, "history": history[-HISTORY:], "checked": _iso(now)}
    return out, actions


def progress(state: State, route: Route) -> TourProgress:
    """The open tour of the route as others may read it (the wall's patrol progress)."""
    tour = state.get("tour")
    if tour is None:
        return TourProgress(route.id, open=False)
    return TourProgress(
        route.id,
        open=True,
        visited=tuple(cp for cp in route.checkpoints if cp in tour["visited"]),
        missed=tuple(tour["missed"]),
        late=tuple(tour["late"]),
        deadlines={cp: _t(at) for cp, at in tour["deadline"].items()},
    )
