"""Geofence: a subject entering or leaving a fence, and staying so for `dwell_s`.

The fence's side of each fix is decided by the context's `inside(fence, lat, lon)` (shapely,
on the server). A subject's condition starts at the first fix on the watched side and raises
once it has lasted `dwell_s` (at a later fix or a tick); a fix back on the other side clears.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from hub.domain import Event, PositionFix, Say
from hub.site.hours import in_hours
from hub.site.rules import GeofenceRule
from rules.actions import Action, Clear, Raise
from rules.state import Condition, dump_conditions, load_conditions

# subject -> since when its condition has held and whether raised (only subjects in one)
State = dict[str, Condition]


def load(raw: Mapping[str, Any]) -> State:
    """From the stored JSON (`{subject: {"since", "raised"}}`)."""
    return load_conditions(raw)


def dump(state: State) -> dict[str, Any]:
    """As stored."""
    return dump_conditions(state)


Inside = Callable[[str, float, float], bool]


def watches(rule: GeofenceRule, kind: str, applies: Sequence[str]) -> bool:
    """Whether the rule is about this kind of subject (its `subjects`, else the fences')."""
    kinds = [k.value for k in rule.subjects] or applies
    return not kinds or kind in kinds


def step(
    sub: Condition | None,
    ts: datetime,
    is_in: bool,
    rule: GeofenceRule,
    subject: str,
    active: bool = True,
) -> tuple[Condition | None, list[Action]]:
    """One subject's side of the fence (group) at `ts`, inside the rule's hours or not: its
    new entry (None when nothing is pending or raised, so the state holds only subjects in a
    condition) and what to do."""
    condition = active and (is_in if rule.when == "enter" else not is_in)
    if condition:
        since = sub.since if sub and sub.since else ts
        raised = bool(sub and sub.raised)
        if not raised and (ts - since).total_seconds() >= rule.dwell_s:
            alarm = Raise(
                rule.id,
                subject,
                f"geofence_{rule.when}",
                rule.severity.value,
                _describe(subject, rule.when, rule),
                say=_said(subject, rule),
            )
            return Condition(since, True), [alarm]
        return Condition(since, raised), []
    if sub and sub.raised:
        return None, [Clear(rule.id, subject, f"geofence_{rule.when}", f"{subject} back")]
    return None, []


def update(
    state: State,
    event: Event,
    now: datetime,
    rule: GeofenceRule,
    inside: Inside,
    applies: list[str],
    tz: str = "Asia/Shanghai",
) -> tuple[State, list[Action]]:
    """A fix of a subject the rule watches."""
    if not isinstance(event, PositionFix) or event.lat is None or event.lon is None:
        return state, []
    if not watches(rule, event.subject_kind.value, applies):
        return state, []
    is_in = any(inside(f, event.lat, event.lon) for f in rule.group)
    active = in_hours(rule.active_hours, event.ts, tz)
    sub, actions = step(
        state.get(event.subject_id), event.ts, is_in, rule, event.subject_id, active
    )
    out = {k: v for k, v in state.items() if k != event.subject_id}
    if sub is not None:
        out[event.subject_id] = sub
    return out, actions


def tick(
    state: State, now: datetime, rule: GeofenceRule, tz: str = "Asia/Shanghai"
) -> tuple[State, list[Action]]:
    """Raise conditions whose dwell has passed without a new fix; outside the rule's hours
    every raised alarm clears and nothing is pending."""
    if not in_hours(rule.active_hours, now, tz):
        return {}, [
            Clear(rule.id, subject, f"geofence_{rule.when}", "outside the rule's hours")
            for subject, sub in state.items()
            if sub.raised
        ]
    actions: list[Action] = []
    out = dict(state)
    for subject, sub in state.items():
        if sub.since and not sub.raised and sub.held_s(now) >= rule.dwell_s:
            out[subject] = Condition(sub.since, True)
            actions.append(
                Raise(
                    rule.id,
                    subject,
                    f"geofence_{rule.when}",
                    rule.severity.value,
                    _describe(subject, rule.when, rule),
                    say=_said(subject, rule),
                )
            )
    return (out if actions or out != state else state), actions


def _said(subject: str, rule: GeofenceRule) -> Say:
    return Say(f"geofence.{rule.when}", {"subject_id": subject, "fences_id": "/".join(rule.group)})


def _describe(subject: str, when: str, rule: GeofenceRule) -> str:
    verb = "entered" if when == "enter" else "left"
    return f"{subject} {verb} {' / '.join(rule.group)}"
