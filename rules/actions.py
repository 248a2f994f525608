"""What rules decide: raise or clear an alarm about an originator (the domain's values), and
the one composite the rule kinds share."""

from __future__ import annotations

from hub.domain.actions import Action, Clear, Raise, Say

__all__ = ["Action", "Clear", "Raise", "occurred"]


def occurred(
    rule: str, originator: str, type: str, severity: str, message: str, say: Say | None = None
) -> list[Action]:
    """Something that happened and is already over (a late visit, a fence passed through):
    an alarm raised and cleared at once, so it waits for acknowledgement but is not active."""
    return [
        Raise(rule, originator, type, severity, message, say=say),
        Clear(rule, originator, type, message, say),
    ]
