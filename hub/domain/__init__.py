"""Domain types: the frozen events every adapter produces and everything downstream consumes.

This package imports nothing of the project (import-linter keeps it so).
"""

from hub.domain.actions import Action, Clear, Raise, RetryLater, Say, TourEnded
from hub.domain.events import (
    AlarmEvent,
    CodeScan,
    Command,
    DeviceStatus,
    Event,
    GateDirection,
    GateEvent,
    Notice,
    PositionFix,
    Quality,
    Reading,
    Sighting,
    SubjectKind,
    TicketEvent,
    event_source_key,
)
from hub.domain.ports import (
    ACCEPTED,
    CommandHandler,
    CommandResult,
    Component,
    Delivered,
    EventSink,
    StoredRule,
    Verdict,
)
from hub.domain.views import TourProgress

__all__ = [
    "ACCEPTED",
    "Action",
    "AlarmEvent",
    "Clear",
    "CodeScan",
    "Command",
    "CommandHandler",
    "CommandResult",
    "Component",
    "Delivered",
    "DeviceStatus",
    "Event",
    "EventSink",
    "GateDirection",
    "GateEvent",
    "Notice",
    "PositionFix",
    "Quality",
    "Raise",
    "Reading",
    "RetryLater",
    "Say",
    "Sighting",
    "StoredRule",
    "SubjectKind",
    "TicketEvent",
    "TourEnded",
    "TourProgress",
    "Verdict",
    "event_source_key",
]
