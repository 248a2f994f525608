"""What rules decide about alarms: raise or clear one about an originator (pure values).

They live in the domain because two sides speak them: the rules engine decides them and the
alarm book (a service) applies them, and neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.domain.patrol import TourRecord


@dataclass(frozen=True, slots=True)
class Say:
    """A message by its catalogue key and arguments, rendered in each reader's language and
    the site's time zone (arguments ending in `_at` are ISO times)."""

    key: str
    args: Mapping[str, str | float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Raise:
    """Raise (or keep raised) the alarm `type` about `originator`."""

    rule: str
    originator: str  # a device, point or subject id
    type: str  # e.g. "equipment_fault", "geofence_exit"
    severity: str
    message: str
    ticket: bool = False  # ask for a repair ticket
    say: Say | None = None  # the message in the site's languages


@dataclass(frozen=True, slots=True)
class Clear:
    """The condition behind the alarm `type` about `originator` is over."""

    rule: str
    originator: str
    type: str
    message: str = ""
    say: Say | None = None


@dataclass(frozen=True, slots=True)
class TourEnded:
    """A patrol tour is over: keep its record (in the transaction of the rule's state)."""

    rule: str
    record: TourRecord


Action = Raise | Clear | TourEnded


class RetryLater(Exception):
    """A pipeline handler could not apply a batch because a store or server it needs is away
    (the database restarting): nothing of the batch was applied, and the pipeline delivers
    the same batch again after a pause instead of dropping it."""
