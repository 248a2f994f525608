"""Response bodies of the resources the pages read: what each route gives, as the OpenAPI
document describes it. Unknown fields are errors here too: a service that starts sending a
field the schema does not describe fails its tests instead of drifting from the document.

Times are the ISO 8601 strings the services write (with their UTC offset), kept as given.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from hub.services.energy.report import EnergyReport

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Out(BaseModel):
    """Base of response bodies: exactly the fields described."""

    model_config = ConfigDict(extra="forbid")


class HistoryEntry(BaseModel):
    """One change in an alarm's or a ticket's history; the fields after `action` depend on
    the action (a comment's text, an assignment's `to`, a hold's reason...)."""

    model_config = ConfigDict(extra="allow")

    ts: Timestamp
    actor: str
    action: str


# -- alarms -----------------------------------------------------------------------------------
class AlarmPublic(Out):
    """An alarm."""

    id: int
    rule: str
    originator: str
    type: str
    severity: str
    state: str
    message: str
    occurrences: int
    ticket_requested: bool
    first_at: Timestamp
    last_at: Timestamp
    cleared_at: Timestamp | None
    acked_at: Timestamp | None
    acked_by: str | None
    ack_comment: str
    assignee: str | None
    shelved_until: Timestamp | None


class AlarmDetail(AlarmPublic):
    """An alarm with its history."""

    history: list[HistoryEntry]


class RulePublic(Out):
    """A running rule: its configuration (as in the site file) and its state."""

    id: str
    kind: str
    name: str
    severity: str
    disabled: bool
    error: str
    state: dict[str, Any]
    config: dict[str, Any]


class DryRunTimelineEntry(BaseModel):
    """What the alarm book would have been asked."""

    model_config = ConfigDict(extra="allow")

    ts: Timestamp
    action: str
    rule: str
    originator: str
    type: str
    message: str


class DryRunCount(Out):
    """How often a rule would have raised an alarm type."""

    rule: str
    type: str
    count: int


class DryRunPublic(Out):
    """A dry run's outcome."""

    events: int
    raised: list[DryRunCount]
    still_active: int
    disabled: list[str]
    timeline: list[DryRunTimelineEntry]


# -- tickets ----------------------------------------------------------------------------------
class PartUsed(BaseModel):
    """A part a repair used."""

    model_config = ConfigDict(extra="allow")

    name: str


class TicketPublic(Out):
    """A repair ticket, with when its targets fall due (None once met or while on hold)."""

    id: int
    source: str
    status: str
    asset_id: str | None
    category: str
    priority: str
    title: str
    description: str
    location: str
    building: str | None
    photo: str | None
    reporter: str
    reporter_unit: str | None
    skill: str
    assignee: str | None
    occurrences: int
    fault_active: bool
    created_at: Timestamp
    assigned_at: Timestamp | None
    accepted_at: Timestamp | None
    started_at: Timestamp | None
    hold_since: Timestamp | None
    resolved_at: Timestamp | None
    closed_at: Timestamp | None
    response_target_min: float
    resolution_target_min: float
    response_breached: bool
    resolution_breached: bool
    resolution_notes: str
    parts: list[PartUsed]
    rating: int | None
    rating_comment: str
    rated_at: Timestamp | None
    reopened: int
    response_due: Timestamp | None
    resolution_due: Timestamp | None


class TicketDetail(TicketPublic):
    """A ticket with its history."""

    history: list[HistoryEntry]


class TicketReported(TicketPublic):
    """A reported repair; `merged` when it was the same report again within a minute."""

    merged: bool


# -- rooms ------------------------------------------------------------------------------------
class BookingPublic(Out):
    """A meeting-room booking."""

    id: int
    series_id: int | None
    room_id: str
    room: str | None
    organiser: str
    unit: str | None
    title: str
    start: Timestamp
    end: Timestamp
    status: str
    attendees: int
    approved_by: str | None
    checked_in_at: Timestamp | None
    checked_in_by: str | None
    released_at: Timestamp | None
    cancelled_at: Timestamp | None
    hvac: str | None


# -- official cars ----------------------------------------------------------------------------
class VehicleRequestPublic(Out):
    """A request for an official car, from asking to settling."""

    id: int
    requester: str
    unit: str | None
    purpose: str
    destination: str
    passengers: int
    start: Timestamp
    end: Timestamp
    status: str
    approvals: list[dict[str, Any]]
    vehicle_id: str | None
    driver_id: str | None
    dispatched_by: str | None
    dispatched_at: Timestamp | None
    departed_at: Timestamp | None
    odometer_out: float | None
    returned_at: Timestamp | None
    odometer_in: float | None
    gps_km: float | None
    trip: dict[str, Any] | None
    extras: dict[str, Any] | None
    cost: float | None
    settled_month: str | None
    note: str


# -- visitors and the gate ----------------------------------------------------------------------
class VisitorPublic(Out):
    """A visitor: the personal fields only for those who may see them (the host, the unit's
    approvers, security), and never after the data was purged."""

    id: int
    visit_id: int
    label: str
    status: str
    inside: bool
    car_inside: bool
    entries_allowed: int
    entries_used: int
    car_entries_used: int
    pass_revoked: bool
    arrived_at: Timestamp | None
    left_at: Timestamp | None
    purged: bool
    name: str | None = None
    phone: str | None = None
    company: str | None = None
    id_last4: str | None = None
    plate: str | None = None


class VisitPublic(Out):
    """A visit and its visitors."""

    id: int
    host: str
    host_unit: str | None
    purpose: str
    start: Timestamp
    end: Timestamp
    gates: list[str]
    status: str
    approved_by: str | None
    visitors: list[VisitorPublic]


class GateDecisionPublic(Out):
    """A gate decision as the screens show it (`decision` repeats `outcome` for terminals)."""

    id: int
    ts: Timestamp
    gate_id: str
    direction: str
    credential: str
    presented: str
    terminal: str | None
    outcome: str
    decision: str
    reason: str
    subject: str | None
    visitor_id: int | None
    evidence: dict[str, Any]
    reviewed_by: str | None


class SeriesBooked(Out):
    """A recurring booking: the series and every meeting in it."""

    series_id: int
    status: str
    bookings: list[BookingPublic]


class RoomDay(Out):
    """A room, when it may be booked, and one day's meetings in it."""

    id: str
    name: str
    building: str | None
    floor: str | None
    capacity: int
    equipment: list[str]
    owner: str | None
    needs_approval: bool
    hours: str | None
    buffer_min: int
    bookings: list[BookingPublic]


class WaitlistPublic(Out):
    """A place on a room's waitlist."""

    id: int
    room_id: str
    status: str


class CalendarToken(Out):
    """A calendar feed token and the feed addresses it opens."""

    token: str
    mine: str
    room: str


# -- repairs: the report form's lists ---------------------------------------------------------
class CategoryPublic(Out):
    """A repair category: the skill it needs, its targets per priority (response and
    resolution, minutes)."""

    id: str
    name: str
    name_en: str
    skill: str
    targets: dict[str, list[float]]


class TechnicianPublic(Out):
    """A technician: skills, duty hours, whether on duty now, open work."""

    id: str
    name: str
    username: str | None
    skills: list[str]
    on_duty_hours: str | None
    on_duty: bool
    open_tickets: int


class AssetPublic(Out):
    """An asset: a device of the site or an asset without telemetry."""

    id: str
    name: str
    category: str
    building: str | None
    floor: str | None
    zone: str | None
    device: bool


# -- cars ---------------------------------------------------------------------------------------
class FreeVehicle(Out):
    """A car free for the request's time."""

    id: str
    plate: str
    name: str
    seats: int
    kind: str


class FreeDriver(Out):
    """A driver free for the request's time."""

    id: str
    name: str


class VehicleOptions(Out):
    """What a dispatcher may choose from."""

    request: VehicleRequestPublic
    vehicles: list[FreeVehicle]
    drivers: list[FreeDriver]


class SettlementTrip(BaseModel):
    """A returned trip with its costs (the extras' columns are the site's)."""

    model_config = ConfigDict(extra="allow")

    request: int
    unit: str
    requester: str
    vehicle: str | None
    driver: str
    odometer_km: float
    gps_km: float | None
    flagged: bool
    cost: float | None
    status: str


class SettlementUnit(Out):
    """A unit's trips, kilometres and costs in the month."""

    unit: str
    unit_name: str
    trips: int
    km: float
    cost: float


class SettlementPublic(Out):
    """A month's trips and the totals per unit."""

    month: str
    trips: list[SettlementTrip]
    units: list[SettlementUnit]


# -- visitors and the gate ----------------------------------------------------------------------
class RosterEntry(VisitorPublic):
    """A visitor inside now, with the host and until when the visit runs."""

    host: str
    until: Timestamp


class VisitorPass(Out):
    """A visitor's signed pass: the token, a link to its page and its QR code."""

    token: str
    label: str
    valid_from: Timestamp
    valid_until: Timestamp
    link: str
    qr: str


class GateCounts(BaseModel):
    """Passages on a day: `people_in`, `cars_out`... and `<gate>:<direction>` for each gate."""

    model_config = ConfigDict(extra="allow")

    day: str
    denied: int


# -- energy -------------------------------------------------------------------------------------
class StoredReportPublic(Out):
    """A stored (scheduled) report: its PDF and JSON files."""

    name: str
    kind: str
    label: str
    json_file: str = Field(alias="json")
    bytes: int
    created_at: Timestamp

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EnergyReportPublic(EnergyReport):
    """The energy report of a period (`hub/services/energy/report.py`)."""

    charts: dict[str, str] | None = None  # with `charts=true`: PNG data URLs by chart


# -- the site -----------------------------------------------------------------------------------
class SitePublic(Out):
    """The compound as the map and the pages draw it: a summary, the map layers as GeoJSON,
    floor plans, the tracked subjects and the base map."""

    id: str
    name: str
    name_en: str
    timezone: str
    center: dict[str, float]
    zoom: int
    summary: dict[str, int]
    layers: dict[str, Any]  # a GeoJSON FeatureCollection
    plans: list[dict[str, Any]]
    subjects: list[dict[str, Any]]
    map: dict[str, Any]


class SignedIn(Out):
    """Someone who signed in at a meeting's door."""

    username: str
    unit: str | None
    at: Timestamp


class AttendancePublic(BookingPublic):
    """A meeting and who signed in at its door."""

    signed_in: list[SignedIn]


class CheckedIn(BookingPublic):
    """The meeting one signed in to, and how many have signed in."""

    signed_in: int


class DoorRoom(Out):
    """The room a door display stands at."""

    id: str
    name: str
    capacity: int


class DoorPublic(Out):
    """What a room's door display shows: the meeting now and next, and the check-in code
    (with its QR code as an SVG data URL) while it lasts."""

    room: DoorRoom
    code: str
    expires_in_s: int
    checkin_url: str
    now: BookingPublic | None
    next: list[BookingPublic]  # up to three
    qr: str
