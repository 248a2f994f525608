"""Lone worker: a guard who has not moved more than `radius_m` for `after_s`.

Each guard has an anchor (where he last moved to). A fix farther than `radius_m` from it
moves the anchor (and clears his alarm); otherwise, once `after_s` has passed since the
anchor was set, the alarm is raised, at a fix or at a tick. Phones that report only on
significant movement stay quiet when their guard does not move, so the tick raises without
a new fix; a guard whose last fix is older than twice `after_s` is no longer watched (his
phone is off or he went home: the silence rule's business).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.domain import Event, PositionFix, Say, SubjectKind
from hub.domain.geo import distance_m
from hub.site.rules import LoneWorkerRule
from rules.actions import Action, Clear, Raise
from rules.state import iso


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a guard last moved to, since when he has stayed there, his newest fix, and
    whether his alarm is raised."""

    lat: float
    lon: float
    since: datetime
    last: datetime
    raised: bool = False


State = Mapping[str, Anchor]  # guard -> his anchor


def load(raw: Mapping[str, Any]) -> State:
    """From the stored JSON (`{guard: {"anchor": [lat, lon], "since", "last", "raised"}}`)."""
    return {
        g: Anchor(
            v["anchor"][0],
            v["anchor"][1],
            datetime.fromisoformat(v["since"]),
            datetime.fromisoformat(v["last"]),
            bool(v.get("raised")),
        )
        for g, v in raw.items()
    }


def dump(state: State) -> dict[str, Any]:
    """As stored."""
    return {
        g: {
            "anchor": [a.lat, a.lon],
            "since": iso(a.since),
            "last": iso(a.last),
            "raised": a.raised,
        }
        for g, a in state.items()
    }


def _raise(rule: LoneWorkerRule, guard: str, held_s: float) -> Raise:
    return Raise(
        rule.id,
        guard,
        "lone_worker",
        rule.severity.value,
        f"{guard} has not moved more than {rule.radius_m:g} m for {held_s / 60:.0f} min",
        say=Say(
            "lone_worker.raised",
            {"guard_id": guard, "radius": rule.radius_m, "min": round(held_s / 60)},
        ),
    )


def update(
    state: State, event: Event, now: datetime, rule: LoneWorkerRule
) -> tuple[State, list[Action]]:
    """A fix of a guard."""
    if (
        not isinstance(event, PositionFix)
        or event.subject_kind is not SubjectKind.GUARD
        or event.lat is None
        or event.lon is None
        or (rule.guards and event.subject_id not in rule.guards)
    ):
        return state, []
    guard = event.subject_id
    g = state.get(guard)
    actions: list[Action] = []
    ts = event.ts
    if g is None or distance_m(g.lat, g.lon, event.lat, event.lon) > rule.radius_m:
        if g is not None and g.raised:
            actions.append(Clear(rule.id, guard, "lone_worker", f"{guard} is moving again"))
        g = Anchor(event.lat, event.lon, ts, ts)
    else:
        held = (ts - g.since).total_seconds()
        raised = g.raised or held >= rule.after_s
        if raised and not g.raised:
            actions.append(_raise(rule, guard, held))
        g = Anchor(g.lat, g.lon, g.since, max(g.last, ts), raised)
    return {**state, guard: g}, actions


def tick(state: State, now: datetime, rule: LoneWorkerRule) -> tuple[State, list[Action]]:
    """Raise for guards still where they were `after_s` ago; forget stale ones."""
    out: dict[str, Anchor] = {}
    actions: list[Action] = []
    for guard, g in state.items():
        if (now - g.last).total_seconds() > 2 * rule.after_s:
            if g.raised:
                actions.append(Clear(rule.id, guard, "lone_worker", f"{guard} stopped reporting"))
            continue
        held = (now - g.since).total_seconds()
        if not g.raised and held >= rule.after_s:
            g = Anchor(g.lat, g.lon, g.since, g.last, True)
            actions.append(_raise(rule, guard, held))
        out[guard] = g
    return (out if actions or out != state else state), actions
