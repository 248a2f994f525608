"""Silence: no data from a device (or a subject) for `after_s`; the next data clears it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.domain import DeviceStatus, Event, PositionFix, Reading
from hub.site.rules import SilenceRule
from rules.actions import Action, Clear, Raise

State = dict[str, Any]  # source -> {"last": iso, "raised": bool}


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
    if state.get(src, {}).get("raised"):
        actions.append(Clear(rule.id, src, "silence", f"{src} reports again"))
    return {**state, src: {"last": now.isoformat(), "raised": False}}, actions


def tick(state: State, now: datetime, rule: SilenceRule) -> tuple[State, list[Action]]:
    """Raise for sources silent longer than `after_s` (watched ones never heard count from
    the first tick)."""
    out = dict(state)
    actions: list[Action] = []
    for src in [*rule.devices, *rule.subjects]:
        entry = out.setdefault(src, {"last": now.isoformat(), "raised": False})
        silent = (now - datetime.fromisoformat(entry["last"])).total_seconds()
        if not entry["raised"] and silent >= rule.after_s:
            out[src] = {**entry, "raised": True}
            actions.append(
                Raise(
                    rule.id,
                    src,
                    "silence",
                    rule.severity.value,
                    f"no data from {src} for {int(silent)} s",
                )
            )
    return (out if actions or out != state else state), actions
