"""Who approves a request: a unit's approvers in order, never the person who asked.

Rooms, cars and visits share these two rules. A requester who is one of their unit's
approvers is left out of the chain; when that empties it, the request waits for the
fall-back named by the service (an administrator, or security for visits) instead of
approving itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.errors import Forbidden
from hub.identity.roles import Principal


def chain(approvers: Sequence[str], requester: str) -> list[str]:
    """The approvers a request walks, in order, without its requester."""
    return [a for a in approvers if a != requester]


def needs_fallback(approvers: Sequence[str], requester: str) -> bool:
    """Whether the requester is their unit's only approver (someone else must decide)."""
    return requester in approvers and not chain(approvers, requester)


def not_own(requester: str, who: Principal) -> None:
    """Refuse `who` deciding their own request (administrators included)."""
    if requester == who.name:
        raise Forbidden("nobody approves their own request")
