"""Threshold: a point beyond a limit for `for_s`; cleared once back past limit ∓ hysteresis."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.domain import Event, Quality, Reading, Say
from hub.site.rules import ThresholdRule
from rules.actions import Action, Clear, Raise
from rules.state import Condition, iso, when

State = Condition  # since when the point has been beyond the limit, and whether raised


def load(raw: Mapping[str, Any]) -> State:
    """From the stored JSON (`{"since", "raised"}`, or nothing yet)."""
    return Condition(when(raw.get("since")), bool(raw.get("raised")))


def dump(state: State) -> dict[str, Any]:
    """As stored."""
    return {"since": iso(state.since), "raised": state.raised}


def _beyond(rule: ThresholdRule, v: float) -> bool:
    return v > rule.above if rule.above is not None else v < rule.below  # type: ignore[operator]


def _back(rule: ThresholdRule, v: float) -> bool:
    if rule.above is not None:
        return v <= rule.above - rule.hysteresis
    return v >= rule.below + rule.hysteresis  # type: ignore[operator]


def _said(rule: ThresholdRule, v: float) -> Say:
    key = "threshold.above" if rule.above is not None else "threshold.below"
    limit = rule.above if rule.above is not None else rule.below
    return Say(key, {"point_id": rule.point, "value": f"{v:g}", "limit": f"{limit:g}"})


def _message(rule: ThresholdRule, v: float) -> str:
    limit = f"> {rule.above}" if rule.above is not None else f"< {rule.below}"
    return f"{rule.point} = {v:g} ({limit})"


def update(
    state: State, event: Event, now: datetime, rule: ThresholdRule
) -> tuple[State, list[Action]]:
    """A reading of the point."""
    if (
        not isinstance(event, Reading)
        or event.point_id != rule.point
        or event.quality is Quality.BAD
    ):
        return state, []
    v = float(event.value)
    actions: list[Action] = []
    if _beyond(rule, v):
        since = state.since or event.ts
        raised = state.raised
        if not raised and (event.ts - since).total_seconds() >= rule.for_s:
            raised = True
            actions.append(
                Raise(
                    rule.id,
                    rule.point,
                    "threshold",
                    rule.severity.value,
                    _message(rule, v),
                    say=_said(rule, v),
                )
            )
        return Condition(since, raised), actions
    if _back(rule, v):
        if state.raised:
            actions.append(Clear(rule.id, rule.point, "threshold", _message(rule, v)))
        return Condition(), actions
    # inside the hysteresis band: nothing changes, but a pending condition restarts
    return (state if state.raised else Condition()), actions


def tick(state: State, now: datetime, rule: ThresholdRule) -> tuple[State, list[Action]]:
    """Nothing matures without a reading (a stale point is the silence rule's business)."""
    return state, []
