"""Silence: no data from a device (or a subject) for `after_s`; the next data clears it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.domain import DeviceStatus, Event, PositionFix, Reading, Say
from hub.site.rules import SilenceRule
from rules.actions import Action, Clear, Raise
from rules.state import Condition, dump_conditions, load_conditions

# source -> since when it has been silent (its last data) and whether raised
State = Mapping[str, Condition]


def load(raw: Mapping[str, Any]) -> State:
    """From the stored JSON (`{source: {"last", "raised"}}`)."""
    return load_conditions(raw, since="last")


def dump(state: State) -> dict[str, Any]:
    """As stored."""
    return dump_conditions(state, since="last")


def _source(event: Event, rule: SilenceRule) -> str | None:
    if isinstance(event, Reading):
        device = event.point_id.split(".", 1)[0]
        return device if device in rule.devices else None
    if isinstance(event, DeviceStatus):
        return event.device_id if event.device_id in rule.devices and event.online else None
    if isinstance(event, PositionFix):
        return event.subject_id if event.subject_id in rule.subjects else None
    return None


def update(
    state: State, event: Event, now: datetime, rule: SilenceRule
) -> tuple[State, list[Action]]:
    """Data from a watched source resets its silence (and clears its alarm)."""
    src = _source(event, rule)
    if src is None:
        return state, []
    actions: list[Action] = []
    if src in state and state[src].raised:
        actions.append(Clear(rule.id, src, "silence", f"{src} reports again"))
    return {**state, src: Condition(now, raised=False)}, actions


def tick(state: State, now: datetime, rule: SilenceRule) -> tuple[State, list[Action]]:
    """Raise for sources silent longer than `after_s` (watched ones never heard count from
    the first tick)."""
    out = dict(state)
    actions: list[Action] = []
    for src in [*rule.devices, *rule.subjects]:
        entry = out.setdefault(src, Condition(now, raised=False))
        silent = entry.held_s(now)
        if not entry.raised and silent >= rule.after_s:
            out[src] = Condition(entry.since, raised=True)
            actions.append(
                Raise(
                    rule.id,
                    src,
                    "silence",
                    rule.severity.value,
                    f"no data from {src} for {int(silent)} s",
                    say=Say("silence.raised", {"source_id": src, "min": round(silent / 60)}),
                )
            )
    return (out if actions or out != state else state), actions
