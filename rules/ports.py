"""What the rules engine needs from the hub: somewhere to keep rule state and an alarm book.

Both are synchronous (the hub's implementations are SQL); the engine calls them off the
event loop. The hub implements them in `hub.services`; tests may use in-memory ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hub.domain import StoredRule

__all__ = ["AlarmBook", "NoTrips", "RuleStateStore", "StoredRule", "TripBook"]


class RuleStateStore(Protocol):
    """Keeps each rule's state across restarts."""

    def load(self) -> dict[str, StoredRule]:
        """Every stored rule by id."""
        ...

    def save(self, rules: dict[str, StoredRule]) -> None:
        """Store these rules' states (one transaction)."""
        ...


class AlarmBook(Protocol):
    """Raises and clears alarms; one active alarm per originator + type."""

    def raise_alarm(
        self,
        *,
        rule: str,
        originator: str,
        type: str,
        severity: str,
        message: str,
        ticket: bool,
        now: datetime,
    ) -> None:
        """Raise (or count one more occurrence of) the alarm."""
        ...

    def clear_alarm(
        self, *, rule: str, originator: str, type: str, message: str, now: datetime
    ) -> None:
        """Clear the active alarm, if any."""
        ...


class TripBook(Protocol):
    """Approved trips of official vehicles (the booking service implements it). Called on
    the engine's loop for every fix of a watched car: answer from memory, not a query."""

    def covering(self, vehicle: str, at: datetime) -> bool:
        """Whether an approved trip of the vehicle covers the instant `at`."""
        ...


class NoTrips:
    """A hub without the booking service: no vehicle has an approved trip."""

    def covering(self, vehicle: str, at: datetime) -> bool:
        """Never."""
        return False
