"""Missed patrol: tours of a route on a schedule; each checkpoint is due in its window.

As they happen (not at the end of the tour):
- a checkpoint not visited by its deadline (due + grace) raises `patrol_missed` about
  "<route>/<checkpoint>"; a late visit (within `late_min` after the last deadline) clears it;
- a late visit also records a `patrol_late` alarm (raised and cleared at once: it needs
  acknowledging, it is not a condition that lasts);
- in an ordered route, a checkpoint visited while an earlier one is still open records a
  `patrol_out_of_order` alarm the same way;
- a visit refused because the guard could not have walked there in time records a
  `patrol_implausible` alarm (a cloned badge, a code sent to someone elsewhere).
At the end of a tour the missed alarms still active clear (the tour is over), the tour's
record goes to the alarm book (`TourEnded`: the patrol report reads it) and its summary into
the state's history.

A visit is what the checkpoint's proof accepts (rules/kinds/patrol_proof.py): close badge
sightings, the phone's fix, the checkpoint's code scanned, or two of them. Schedules are RRULEs
in the site's time zone; a tour starts at each occurrence.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.domain import (
    CodeScan,
    Event,
    PositionFix,
    Say,
    Sighting,
    SubjectKind,
    TourEnded,
    TourProgress,
)
from hub.domain.patrol import Refusal, RefusedBecause, TourRecord, Visit
from hub.site.hours import in_hours
from hub.site.rules import MissedPatrolRule, Schedule, parse_schedule
from rules.actions import Action, Clear, Raise, occurred
from rules.kinds import patrol_proof as proof
from rules.kinds.patrol_proof import Judge, Pending, Place
from rules.kinds.patrol_state import HISTORY, State, Summary, Tour, dump, load

__all__ = ["Place", "Route", "State", "dump", "load", "prewarm", "progress", "tick", "update"]

MAX_REFUSALS = 100  # kept per tour (a badge left at a checkpoint all night is one refusal)


@dataclass(frozen=True)
class Route:
    """What the rule needs of the site's patrol route: its checkpoints in order, who walks it
    (with their hours on duty), where each checkpoint is and how a visit there is proven."""

    id: str
    checkpoints: tuple[str, ...]
    ordered: bool
    guards: frozenset[str]
    timezone: str
    name: str = ""
    name_en: str = ""
    places: Mapping[str, Place] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)  # guard id -> name
    duty: Mapping[str, str | None] = field(default_factory=dict)  # guard id -> hours
    max_speed_mps: float = 3.0
    slack_m: float = 20.0

    @functools.cached_property
    def judge(self) -> Judge:
        """What judges a proven visit."""
        return Judge(self.guards, self.duty, self.timezone, self.max_speed_mps, self.slack_m)

    def names(self, cp: str) -> dict[str, str | float]:
        """A checkpoint's and the route's names, as a message's arguments."""
        place = self.places.get(cp)
        return {
            "checkpoint": place.name if place else cp,
            "checkpoint_en": place.name_en if place else cp,
            "route": self.name or self.id,
            "route_en": self.name_en or self.name or self.id,
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


def _guard(route: Route, guard: str) -> str:
    return route.people.get(guard, guard)


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


def _answerable(route: Route, at: datetime) -> tuple[str, ...]:
    """Who answers for a tour nobody walked: the route's guards on duty when it started."""
    on_duty = [g for g in sorted(route.guards) if in_hours(route.duty.get(g), at, route.timezone)]
    return tuple(on_duty or sorted(route.guards))


def _close(tour: Tour, rule: MissedPatrolRule, route: Route) -> tuple[TourRecord, list[Action]]:
    actions: list[Action] = [
        Clear(
            rule.id,
            _originator(route, cp),
            "patrol_missed",
            "tour over",
            Say("patrol.tour_over", route.names(cp)),
        )
        for cp in tour.missed
        if cp not in tour.visited
    ]
    visits = tuple(sorted(tour.visited.values(), key=lambda v: v.at))
    walked = tuple(sorted({v.by for v in visits}))
    record = TourRecord(
        rule=rule.id,
        route=route.id,
        start=tour.start,
        end=tour.end,
        checkpoints=route.checkpoints,
        guards=walked or _answerable(route, tour.start),
        visits=visits,
        out_of_order=tour.out_of_order,
        refused=tour.refused,
    )
    return record, [*actions, TourEnded(rule.id, record)]


def _last_visit(tour: Tour, guard: str) -> Visit | None:
    mine = [v for v in tour.visited.values() if v.by == guard]
    return max(mine, key=lambda v: v.at) if mine else None


def _refused(
    state: State, tour: Tour, refusal: Refusal, rule: MissedPatrolRule, route: Route
) -> tuple[State, list[Action]]:
    """A proven visit that does not count: kept once per checkpoint, guard and reason."""
    seen = any(
        (r.checkpoint, r.by, r.reason) == (refusal.checkpoint, refusal.by, refusal.reason)
        for r in tour.refused
    )
    if seen or len(tour.refused) >= MAX_REFUSALS:
        return replace(state, tour=tour), []
    tour = replace(tour, refused=(*tour.refused, refusal))
    actions: list[Action] = []
    if refusal.reason is RefusedBecause.TOO_FAST:
        args = {
            **route.names(refusal.checkpoint),
            "guard": _guard(route, refusal.by),
            "detail": refusal.detail,
        }
        actions = occurred(
            rule.id,
            _originator(route, refusal.checkpoint),
            "patrol_implausible",
            "major",
            f"{refusal.checkpoint}: visit by {refusal.by} refused, {refusal.detail}",
            Say("patrol.too_fast", args),
        )
    return replace(state, tour=tour), actions


def _visited(
    state: State, tour: Tour, visit: Visit, rule: MissedPatrolRule, route: Route
) -> tuple[State, list[Action]]:
    """A visit that counts: late or out of order tells so."""
    cp = visit.checkpoint
    tour = replace(tour, visited={**tour.visited, cp: visit})
    origin = _originator(route, cp)
    who = visit.by
    actions: list[Action] = []
    if visit.late:
        tour = replace(tour, late=(*tour.late, cp))
        minutes = round((visit.at - tour.deadline[cp]).total_seconds() / 60)
        text = f"{cp} visited by {who} {minutes} min after its deadline"
        say = Say("patrol.late", {**route.names(cp), "guard": _guard(route, who), "min": minutes})
        if cp in tour.missed:
            actions.append(Clear(rule.id, origin, "patrol_missed", text, say))
        actions += occurred(rule.id, origin, "patrol_late", "warning", text, say)
    if route.ordered:
        i = route.checkpoints.index(cp)
        skipped = [
            c for c in route.checkpoints[:i] if c not in tour.visited and c not in tour.missed
        ]
        if skipped:
            tour = replace(tour, out_of_order=(*tour.out_of_order, cp))
            text = f"{cp} visited by {who} before {', '.join(skipped)}"
            names = [route.names(c) for c in skipped]
            say = Say(
                "patrol.out_of_order",
                {
                    **route.names(cp),
                    "guard": _guard(route, who),
                    "skipped": "、".join(str(n["checkpoint"]) for n in names),
                    "skipped_en": ", ".join(str(n["checkpoint_en"]) for n in names),
                },
            )
            actions += occurred(rule.id, origin, "patrol_out_of_order", "minor", text, say)
    return replace(state, tour=tour), actions


def _evidence(
    state: State,
    tour: Tour,
    key: tuple[str, str],
    pending: Pending,
    at: datetime,
    rule: MissedPatrolRule,
    route: Route,
) -> tuple[State, list[Action]]:
    """New evidence for `key` (checkpoint, guard): a visit once the proof holds."""
    cp, guard = key
    evidence = proof.holds(pending, at, route.places[cp])
    if evidence is None:
        return replace(state, tour=replace(tour, pending={**tour.pending, key: pending})), []
    rest = {k: p for k, p in tour.pending.items() if k != key}
    tour = replace(tour, pending=rest)
    refusal = proof.judge(guard, cp, at, _last_visit(tour, guard), route.places, route.judge)
    if refusal is not None:
        return _refused(state, tour, refusal, rule, route)
    late = at > tour.deadline[cp]
    return _visited(state, tour, Visit(cp, at, guard, late, evidence), rule, route)


def _open(tour: Tour | None, cp: str, at: datetime) -> bool:
    return tour is not None and cp not in tour.visited and tour.start <= at <= tour.end


def update(
    state: State, event: Event, now: datetime, rule: MissedPatrolRule, route: Route
) -> tuple[State, list[Action]]:
    """Evidence of a visit: a badge sighting or a code scanned at a checkpoint, a guard's fix."""
    tour = state.tour
    if tour is None:
        return state, []
    if isinstance(event, PositionFix):
        return _fix(state, event, rule, route)
    if not isinstance(event, Sighting | CodeScan) or not event.subject_id:
        return state, []
    cp = event.checkpoint_id
    place = route.places.get(cp)
    if place is None or not _open(tour, cp, event.ts):
        return state, []
    key = (cp, event.subject_id)
    before = tour.pending.get(key, Pending())
    after = proof.gather(before, event, place)
    if after is before:
        return state, []
    return _evidence(state, tour, key, after, event.ts, rule, route)


def _fix(
    state: State, fix: PositionFix, rule: MissedPatrolRule, route: Route
) -> tuple[State, list[Action]]:
    """A guard's fix: evidence for each open checkpoint whose proof takes a phone's fix."""
    if fix.subject_kind is not SubjectKind.GUARD:
        return state, []  # a car parked at a checkpoint visits nothing
    actions: list[Action] = []
    for cp, place in route.places.items():
        tour = state.tour
        if not _open(tour, cp, fix.ts):
            continue
        assert tour is not None
        key = (cp, fix.subject_id)
        before = tour.pending.get(key, Pending())
        after = proof.gather_fix(before, fix, place)
        if after is not before:
            state, more = _evidence(state, tour, key, after, fix.ts, rule, route)
            actions += more
    return state, actions


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
                    say=Say(
                        "patrol.missed", {**route.names(cp), "deadline_at": deadline.isoformat()}
                    ),
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
            history.append(Summary.of(record))
            actions += closing
            tour = None
    # Tours that started and ended while the hub was down: nobody watched them.
    for s in starts[:-1]:
        lost = _new_tour(s, rule, route)
        record = TourRecord(
            rule=rule.id,
            route=route.id,
            start=lost.start,
            end=lost.end,
            checkpoints=route.checkpoints,
            guards=_answerable(route, lost.start),
            unobserved=True,
        )
        history.append(Summary.of(record))
        actions.append(TourEnded(rule.id, record))
    if starts:
        tour, raised = _overdue(_new_tour(starts[-1], rule, route), now, rule, route)
        actions += raised
    return State(tour, tuple(history[-HISTORY:]), now), actions


def upcoming(rule: MissedPatrolRule, route: Route, now: datetime) -> datetime | None:
    """When the route's next tour starts (within a week), or None."""
    later = _schedule(rule.schedule, route.timezone).between(now, now + timedelta(days=7))
    return next((s.astimezone(UTC) for s in later if s > now), None)


def progress(
    state: State, route: Route, rule: MissedPatrolRule | None = None, now: datetime | None = None
) -> TourProgress:
    """The open tour of the route as others may read it (the wall's patrol progress, the
    guard's phone), with when the next one starts (given the rule and the time)."""
    tour = state.tour
    nxt = upcoming(rule, route, now) if rule is not None and now is not None else None
    if tour is None:
        return TourProgress(route.id, open=False, upcoming=nxt)
    return TourProgress(
        route.id,
        open=True,
        visited=tuple(cp for cp in route.checkpoints if cp in tour.visited),
        missed=tour.missed,
        late=tour.late,
        deadlines=dict(tour.deadline),
        start=tour.start,
        visits={
            cp: (v.at, v.by, tuple(e.method.value for e in v.evidence))
            for cp, v in tour.visited.items()
        },
        upcoming=nxt,
    )
