"""What the rules engine needs from the hub: somewhere to keep rule state and an alarm book.

Both are synchronous (the hub's implementations are SQL); the engine calls them off the event
loop. The alarm book stores the states of the rules that decided something together with their
alarms, so a rule's state never says "raised" for an alarm that was not stored. The hub
implements them in `hub.services`; tests may use in-memory ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from hub.domain import Action, StoredRule

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
    """Applies what the rules decided; one active alarm per originator + type."""

    def commit(
        self, actions: Sequence[Action], states: Mapping[str, StoredRule], now: datetime
    ) -> None:
        """Apply the raises and clears, in order, and store the given rules' states, in one
        transaction: all of it or (raising) none of it. Raises `RetryLater` when the store is
        away."""
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
