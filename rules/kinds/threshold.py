"""Threshold: a point beyond a limit for `for_s`; cleared once back past limit ∓ hysteresis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.domain import Event, Quality, Reading
from hub.site.rules import ThresholdRule
from rules.actions import Action, Clear, Raise

State = dict[str, Any]  # {"since": iso | None, "raised": bool}


def _beyond(rule: ThresholdRule, v: float) -> bool:
    return v > rule.above if rule.above is not None else v < rule.below  # type: ignore[operator]


def _back(rule: ThresholdRule, v: float) -> bool:
    if rule.above is not None:
        return v <= rule.above - rule.hysteresis
    return v >= rule.below + rule.hysteresis  # type: ignore[operator]


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
    s = dict(state) or {"since": None, "raised": False}
    v = float(event.value)
    actions: list[Action] = []
    if _beyond(rule, v):
        s["since"] = s["since"] or event.ts.isoformat()
        if (
            not s["raised"]
            and (event.ts - datetime.fromisoformat(s["since"])).total_seconds() >= rule.for_s
        ):
            s["raised"] = True
            actions.append(
                Raise(rule.id, rule.point, "threshold", rule.severity.value, _message(rule, v))
            )
    elif _back(rule, v):
        if s["raised"]:
            actions.append(Clear(rule.id, rule.point, "threshold", _message(rule, v)))
        s = {"since": None, "raised": False}
    else:  # inside the hysteresis band: nothing changes, but a pending condition restarts
        if not s["raised"]:
            s["since"] = None
    return s, actions


def tick(state: State, now: datetime, rule: ThresholdRule) -> tuple[State, list[Action]]:
    """Nothing matures without a reading (a stale point is the silence rule's business)."""
    return state, []
