"""Equipment fault: a device reporting a fault raises one alarm, however often it flaps; the
alarm clears only once the fault has stayed clear for `clear_after_s`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.domain import DeviceStatus, Event, Say
from hub.site.rules import EquipmentFaultRule
from rules.actions import Action, Clear, Raise
from rules.state import Condition, dump_conditions, load_conditions

# device -> its fault: raised, and since when it has been clear (None while faulted)
State = Mapping[str, Condition]


def load(raw: Mapping[str, Any]) -> State:
    """From the stored JSON (`{device: {"raised", "clear_since"}}`)."""
    return load_conditions(raw, since="clear_since")


def dump(state: State) -> dict[str, Any]:
    """As stored."""
    return dump_conditions(state, since="clear_since")


def update(
    state: State, event: Event, now: datetime, rule: EquipmentFaultRule
) -> tuple[State, list[Action]]:
    """A status change of a device the rule watches."""
    if not isinstance(event, DeviceStatus):
        return state, []
    if rule.devices and event.device_id not in rule.devices:
        return state, []
    dev = state.get(event.device_id, Condition())
    actions: list[Action] = []
    if event.fault:
        # Raised again while open (flapping) is the same alarm, one more occurrence: the
        # alarm service keeps one open alarm per originator + type.
        dev = Condition(None, raised=True)
        actions.append(
            Raise(
                rule.id,
                event.device_id,
                "equipment_fault",
                rule.severity.value,
                event.detail or "fault",
                ticket=rule.ticket,
                say=Say("fault.raised", {"device_id": event.device_id, "detail": event.detail}),
            )
        )
    elif dev.raised and dev.since is None:
        dev = Condition(event.ts, raised=True)
    return {**state, event.device_id: dev}, actions


def tick(state: State, now: datetime, rule: EquipmentFaultRule) -> tuple[State, list[Action]]:
    """Clear the alarms whose fault has stayed clear for the hold time."""
    actions: list[Action] = []
    out = dict(state)
    for device, dev in state.items():
        if dev.raised and dev.since is not None and dev.held_s(now) >= rule.clear_after_s:
            out[device] = Condition()
            said = Say("fault.cleared", {"device_id": device})
            actions.append(Clear(rule.id, device, "equipment_fault", "fault cleared", said))
    return (out if actions else state), actions
