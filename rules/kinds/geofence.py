"""Geofence: a subject entering or leaving a fence, and staying so for `dwell_s`.

The fence's side of each fix is decided by the context's `inside(fence, lat, lon)` (shapely,
on the server). A subject's condition starts at the first fix on the watched side and raises
once it has lasted `dwell_s` (at a later fix or a tick); a fix back on the other side clears.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hub.domain import Event, PositionFix
from hub.site.rules import GeofenceRule
from rules.actions import Action, Clear, Raise

State = dict[str, Any]  # subject -> {"since": iso | None, "raised": bool}
Inside = Callable[[str, float, float], bool]


def _watched(rule: GeofenceRule, fix: PositionFix, applies: list[str]) -> bool:
    kinds = [k.value for k in rule.subjects] or applies
    return not kinds or fix.subject_kind.value in kinds


def step(
    sub: dict[str, Any] | None, ts: datetime, is_in: bool, rule: GeofenceRule, subject: str
) -> tuple[dict[str, Any] | None, list[Action]]:
    """One subject's side of the fence at `ts`: its new entry (None when nothing is pending
    or raised, so the state holds only subjects in a condition) and what to do."""
    condition = is_in if rule.when == "enter" else not is_in
    if condition:
        since = sub["since"] if sub else ts.isoformat()
        raised = bool(sub and sub["raised"])
        if not raised and (ts - datetime.fromisoformat(since)).total_seconds() >= rule.dwell_s:
            alarm = Raise(
                rule.id,
                subject,
                f"geofence_{rule.when}",
                rule.severity.value,
                _describe(subject, rule.when, rule.fence),
            )
            return {"since": since, "raised": True}, [alarm]
        return {"since": since, "raised": raised}, []
    if sub and sub["raised"]:
        return None, [Clear(rule.id, subject, f"geofence_{rule.when}", f"{subject} back")]
    return None, []


def watches(rule: GeofenceRule, fix: PositionFix, applies: list[str]) -> bool:
    """Whether the rule is about this kind of subject."""
    return _watched(rule, fix, applies)


def update(
    state: State,
    event: Event,
    now: datetime,
    rule: GeofenceRule,
    inside: Inside,
    applies: list[str],
) -> tuple[State, list[Action]]:
    """A fix of a subject the rule watches."""
    if not isinstance(event, PositionFix) or event.lat is None or event.lon is None:
        return state, []
    if not _watched(rule, event, applies):
        return state, []
    is_in = inside(rule.fence, event.lat, event.lon)
    sub, actions = step(state.get(event.subject_id), event.ts, is_in, rule, event.subject_id)
    out = {k: v for k, v in state.items() if k != event.subject_id}
    if sub is not None:
        out[event.subject_id] = sub
    return out, actions


def tick(state: State, now: datetime, rule: GeofenceRule) -> tuple[State, list[Action]]:
    """Raise conditions whose dwell has passed without a new fix."""
    actions: list[Action] = []
    out = dict(state)
    for subject, sub in state.items():
        if (
            sub["since"]
            and not sub["raised"]
            and (now - datetime.fromisoformat(sub["since"])).total_seconds() >= rule.dwell_s
        ):
            out[subject] = {**sub, "raised": True}
            actions.append(
                Raise(
                    rule.id,
                    subject,
                    f"geofence_{rule.when}",
                    rule.severity.value,
                    _describe(subject, rule.when, rule.fence),
                )
            )
    return (out if actions or out != state else state), actions


def _describe(subject: str, when: str, fence: str) -> str:
    verb = "entered" if when == "enter" else "left"
    return f"{subject} {verb} {fence}"
