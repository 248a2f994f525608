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
    condition = is_in if rule.when == "enter" else not is_in
    sub = dict(state.get(event.subject_id, {"since": None, "raised": False}))
    actions: list[Action] = []
    if condition:
        if sub["since"] is None:
            sub["since"] = event.ts.isoformat()
        if (
            not sub["raised"]
            and (event.ts - datetime.fromisoformat(sub["since"])).total_seconds() >= rule.dwell_s
        ):
            sub["raised"] = True
            actions.append(
                Raise(
                    rule.id,
                    event.subject_id,
                    f"geofence_{rule.when}",
                    rule.severity.value,
                    _describe(event.subject_id, rule.when, rule.fence),
                )
            )
    else:
        if sub["raised"]:
            actions.append(
                Clear(
                    rule.id, event.subject_id, f"geofence_{rule.when}", f"{event.subject_id} back"
                )
            )
        sub = {"since": None, "raised": False}
    return {**state, event.subject_id: sub}, actions


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
    return out, actions


def _describe(subject: str, when: str, fence: str) -> str:
    verb = "entered" if when == "enter" else "left"
    return f"{subject} {verb} {fence}"
