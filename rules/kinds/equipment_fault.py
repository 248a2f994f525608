"""Equipment fault: a device reporting a fault raises one alarm, however often it flaps; the
alarm clears only once the fault has stayed clear for `clear_after_s`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.domain import DeviceStatus, Event
from hub.site.rules import EquipmentFaultRule
from rules.actions import Action, Clear, Raise

State = dict[str, Any]  # device -> {"raised": bool, "clear_since": iso | None}


def update(
    state: State, event: Event, now: datetime, rule: EquipmentFaultRule
) -> tuple[State, list[Action]]:
    """A status change of a device the rule watches."""
    if not isinstance(event, DeviceStatus):
        return state, []
    if rule.devices and event.device_id not in rule.devices:
        return state, []
    dev = dict(state.get(event.device_id, {"raised": False, "clear_since": None}))
    actions: list[Action] = []
    if event.fault:
        # Raised again while open (flapping) is the same alarm, one more occurrence: the
        # alarm service keeps one open alarm per originator + type.
        dev = {"raised": True, "clear_since": None}
        actions.append(
            Raise(
                rule.id,
                event.device_id,
                "equipment_fault",
                rule.severity.value,
                event.detail or "fault",
                ticket=rule.ticket,
            )
        )
    elif dev["raised"] and dev["clear_since"] is None:
        dev["clear_since"] = event.ts.isoformat()
    return {**state, event.device_id: dev}, actions


def tick(state: State, now: datetime, rule: EquipmentFaultRule) -> tuple[State, list[Action]]:
    """Clear the alarms whose fault has stayed clear for the hold time."""
    actions: list[Action] = []
    out = dict(state)
    for device, dev in state.items():
        since = dev.get("clear_since")
        if (
            dev.get("raised")
            and since
            and (now - datetime.fromisoformat(since)).total_seconds() >= rule.clear_after_s
        ):
            out[device] = {"raised": False, "clear_since": None}
            actions.append(Clear(rule.id, device, "equipment_fault", "fault cleared"))
    return (out if actions or out != state else state), actions
