"""Domain events: protocol-free, frozen, timezone-aware UTC, SI units (kWh for energy counters).

Constructing an event checks only what makes it a well-formed value (an aware timestamp, a
known enum). Plausibility (NaN, coordinates out of range, clocks far off) is judged by the
pipeline's validator, which counts each rejection with its reason instead of raising.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


class Quality(enum.StrEnum):
    """How far a value can be trusted."""

    GOOD = "good"
    UNCERTAIN = "uncertain"  # e.g. estimated, stale, or the device flags it
    BAD = "bad"  # decoded but known wrong (counter went backwards, sentinel value)


class SubjectKind(enum.StrEnum):
    """What a tracked subject is."""

    GUARD = "guard"
    VEHICLE = "vehicle"  # official car
    VISITOR_VEHICLE = "visitor_vehicle"
    PERSON = "person"
    ASSET = "asset"


def _require_aware(ts: datetime, what: str) -> None:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"{what}.ts must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Reading:
    """A building-automation value of one point."""

    point_id: str
    value: float
    unit: str
    ts: datetime
    quality: Quality = Quality.GOOD
    kind: ClassVar[str] = "reading"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "Reading")


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """Reachability and fault flags of a device; emitted once per change."""

    device_id: str
    online: bool
    ts: datetime
    fault: bool = False
    detail: str = ""
    kind: ClassVar[str] = "status"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "DeviceStatus")


@dataclass(frozen=True, slots=True)
class PositionFix:
    """A location of a guard or vehicle: WGS84 (lat, lon) outdoors or site (x, y, floor) indoors."""

    subject_id: str
    subject_kind: SubjectKind
    ts: datetime
    source: str
    lat: float | None = None
    lon: float | None = None
    x: float | None = None
    y: float | None = None
    floor: str | None = None
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    zone_id: str | None = None
    kind: ClassVar[str] = "position"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "PositionFix")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("PositionFix needs both lat and lon, or neither")
        if self.lat is None and (self.x is None or self.y is None):
            raise ValueError("PositionFix needs lat/lon or x/y")


@dataclass(frozen=True, slots=True)
class Sighting:
    """A badge seen near a checkpoint (patrol evidence)."""

    badge_id: str
    checkpoint_id: str
    ts: datetime
    source: str
    rssi: float | None = None
    distance_m: float | None = None
    subject_id: str | None = None  # the person the badge (or phone) belongs to, once resolved
    zone_id: str | None = None  # the checkpoint's zone, once resolved
    close: bool | None = None  # the gateway's own "close" verdict (ESPresense), when it gives one
    kind: ClassVar[str] = "sighting"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "Sighting")


@dataclass(frozen=True, slots=True)
class CodeScan:
    """A checkpoint's rotating code (a QR label's display, an NFC tag) scanned by a guard's
    phone, its signature and time window already checked by the API that took it; with the
    phone's own fix at that moment when it sent one."""

    subject_id: str  # the person who scanned (the signed-in guard)
    checkpoint_id: str
    ts: datetime
    source: str  # "qr", "nfc", "typed"
    step: int  # the code's time step (unique per checkpoint and guard: a replay is refused)
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    kind: ClassVar[str] = "scan"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "CodeScan")


class GateDirection(enum.StrEnum):
    """Which way a passage goes."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class GateEvent:
    """A decision or passage at a gate."""

    gate_id: str
    direction: GateDirection
    allowed: bool
    ts: datetime
    credential: str  # "qr", "plate", "badge", "manual"
    subject: str = ""  # a display label, never personal data such as an ID number
    reason: str = ""
    kind: ClassVar[str] = "gate"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "GateEvent")


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """A change of an alarm's state, as raised by the rules engine."""

    alarm_id: str
    alarm_type: str
    originator: str
    state: str
    severity: str
    ts: datetime
    message: str = ""
    # what happened: raised, repeated, reminded, escalated, cleared, acknowledged, assigned,
    # shelved
    action: str = ""
    rule: str = ""  # the rule that raised it
    # A repair ticket is asked for (set on the "raised" change of an equipment-fault alarm):
    # the ticket service consumes these from the pipeline.
    ticket: bool = False
    say: dict[str, Any] | None = None  # the message by catalogue key and arguments (hub.i18n)
    kind: ClassVar[str] = "alarm"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "AlarmEvent")


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """A change of a repair ticket (for the live view and for telling the people concerned)."""

    ticket_id: str
    action: str  # opened, occurred, assigned, accepted, started, held, resolved, confirmed,
    # reopened, rated, fault_cleared, overdue, rating_reminder
    status: str
    category: str
    priority: str
    title: str
    ts: datetime
    asset_id: str | None = None
    assignee: str | None = None  # the technician (site person id)
    notify: tuple[str, ...] = ()  # usernames to tell of this change
    kind: ClassVar[str] = "ticket"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "TicketEvent")


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for some people, e-mailed to them (a visitor arrived, overstays). Not shown
    on the shared screens: it may name a visitor."""

    topic: str  # e.g. "visit.arrived", "visit.overstay"
    subject: str
    body: str
    ts: datetime
    notify: tuple[str, ...] = ()  # usernames, or "role:<role>"
    key: str = ""
    link: str = ""  # where on the hub it can be acted on ("/visits.html")
    kind: ClassVar[str] = "notice"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "Notice")


@dataclass(frozen=True, slots=True)
class Command:
    """A request to act on equipment, carried out by the adapter that owns the target."""

    target: str  # point id
    action: str  # "write", "relinquish"
    ts: datetime
    value: float | None = None
    priority: int | None = None
    requested_by: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "command"

    def __post_init__(self) -> None:
        _require_aware(self.ts, "Command")


Event = (
    Reading
    | DeviceStatus
    | PositionFix
    | Sighting
    | CodeScan
    | GateEvent
    | AlarmEvent
    | TicketEvent
    | Notice
    | Command
)


def event_source_key(event: Event) -> str:
    """The entity an event is about: point, device, subject, badge, gate, alarm or target."""
    match event:
        case Reading():
            return event.point_id
        case DeviceStatus():
            return event.device_id
        case PositionFix():
            return event.subject_id
        case Sighting():
            return event.badge_id
        case CodeScan():
            return event.subject_id
        case GateEvent():
            return event.gate_id
        case AlarmEvent():
            return event.alarm_id
        case TicketEvent():
            return f"ticket:{event.ticket_id}"
        case Command():
            return event.target
        case Notice():
            return event.key or event.topic
