"""What rules decide: raise or clear an alarm about an originator (pure values)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Raise:
    """Raise (or keep raised) the alarm `type` about `originator`."""

    rule: str
    originator: str  # a device, point or subject id
    type: str  # e.g. "equipment_fault", "geofence_exit"
    severity: str
    message: str
    ticket: bool = False  # ask for a repair ticket


@dataclass(frozen=True, slots=True)
class Clear:
    """The condition behind the alarm `type` about `originator` is over."""

    rule: str
    originator: str
    type: str
    message: str = ""


Action = Raise | Clear


def occurred(rule: str, originator: str, type: str, severity: str, message: str) -> list[Action]:
    """Something that happened and is already over (a late visit, a fence passed through):
    an alarm raised and cleared at once, so it waits for acknowledgement but is not active."""
    return [
        Raise(rule, originator, type, severity, message),
        Clear(rule, originator, type, message),
    ]
