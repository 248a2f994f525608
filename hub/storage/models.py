"""Relational tables of the core: users, their roles, API keys, the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hub.storage.types import UTCDateTime

# Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# a ticket still being worked on (the statuses tickets.reading.ACTIVE names)
OPEN_TICKET = (
    "alarm_key IS NOT NULL AND status IN ('open', 'assigned', 'accepted', 'in_progress', 'on_hold')"
)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class User(Base):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    work_unit: Mapped[str | None] = mapped_column(String(64), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)  # alarm e-mails
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to revoke every token issued before (password change, deactivation).
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> frozenset[str]:
        """The user's roles as strings."""
        return frozenset(r.role for r in self.roles)


class UserRole(Base):
    """One role of a user."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles")


class ApiKey(Base):
    """A machine credential (gate terminal, tracker, display, monitoring) with one role."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    work_unit: Mapped[str | None] = mapped_column(String(64), default=None)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # the trackers (device ids as they report) a device key may speak for; None: none
    trackers: Mapped[list[Any] | None] = mapped_column(JSON, default=None)


class SignInThrottle(Base):
    """Failed sign-ins of one account, client address or credential kind, in a sliding
    window: the growing delay and the temporary lock live here so they hold across hub
    workers and restarts."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "account:li", "addr:…"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    last_failure: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(default=None)
    locks: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Who did what to what, when: kept for every change made through the hub."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(Text, default="")


class Alarm(Base):
    """One alarm: raised by a rule about an originator, acknowledged and cleared by people and
    rules. At most one *active* alarm per originator + type (a repeat raise counts)."""

    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    originator: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    ticket_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    first_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    acked_at: Mapped[datetime | None] = mapped_column(default=None)
    acked_by: Mapped[str | None] = mapped_column(String(120), default=None)
    ack_comment: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str | None] = mapped_column(String(64), default=None)
    shelved_until: Mapped[datetime | None] = mapped_column(default=None)

    # one active alarm per originator + type, whichever hub worker raises it
    __table_args__ = (
        Index(
            "uq_alarms_active_originator_type",
            "originator",
            "type",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    escalations: Mapped[int] = mapped_column(Integer, default=0)


class AlarmLogEntry(Base):
    """The history of an alarm: raised, repeated, acknowledged, assigned, shelved, cleared."""

    __tablename__ = "alarm_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RuleStateRow(Base):
    """A rule's persisted state, so a restart neither forgets nor repeats a condition."""

    __tablename__ = "rule_state"

    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JournalEntry(Base):
    """An event the telemetry store does not keep (device statuses, badge sightings),
    journaled so rules can be dry-run over a recorded stretch."""

    __tablename__ = "event_journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Ticket(Base):
    """A repair ticket: reported by a person, an asset's QR label or an equipment-fault alarm;
    dispatched to a technician; resolved, confirmed and rated."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # alarm, staff, qr
    status: Mapped[str] = mapped_column(String(16), index=True)
    asset_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    building: Mapped[str | None] = mapped_column(String(64), default=None)
    photo: Mapped[str | None] = mapped_column(String(200), default=None)  # file in the data dir
    reporter: Mapped[str] = mapped_column(String(120))  # username, or "rules"
    reporter_unit: Mapped[str | None] = mapped_column(String(64), default=None)
    skill: Mapped[str] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64), default=None, index=True)  # person
    alarm_key: Mapped[str | None] = mapped_column(String(280), default=None, index=True)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    fault_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    hold_since: Mapped[datetime | None] = mapped_column(default=None)
    held_minutes: Mapped[float] = mapped_column(default=0.0)  # business minutes on hold
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    response_target_min: Mapped[int] = mapped_column(Integer)
    resolution_target_min: Mapped[int] = mapped_column(Integer)
    response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_notes: Mapped[str] = mapped_column(Text, default="")
    parts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rating: Mapped[int | None] = mapped_column(Integer, default=None)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime | None] = mapped_column(default=None)
    rated_by: Mapped[str | None] = mapped_column(String(120), default=None)
    rating_reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    reopened: Mapped[int] = mapped_column(Integer, default=0)

    # one open ticket per fault (alarm key), whichever hub worker opens it
    __table_args__ = (
        Index(
            "uq_tickets_open_alarm_key",
            "alarm_key",
            unique=True,
            sqlite_where=text(OPEN_TICKET),
            postgresql_where=text(OPEN_TICKET),
        ),
    )


class TicketLogEntry(Base):
    """The history of a ticket: every change, occurrence and note, with who and when."""

    __tablename__ = "ticket_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# -- booking: meeting rooms ----------------------------------------------------------------
# Statuses that hold a room (or a car and a driver): the no-overlap rule applies to these.
ROOM_HOLDING = ("pending", "confirmed", "checked_in")
VEHICLE_HOLDING = ("dispatched", "departed")


class BookingSeries(Base):
    """A recurring meeting: an RFC 5545 RRULE from its first start, with exception dates.
    Its occurrences are rows of `bookings` (materialised up to the booking horizon)."""

    __tablename__ = "booking_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(64), index=True)
    organiser: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    title: Mapped[str] = mapped_column(String(200))
    rrule: Mapped[str] = mapped_column(Text)
    first_start: Mapped[datetime] = mapped_column()
    duration_min: Mapped[int] = mapped_column(Integer)
    exdates: Mapped[list[Any]] = mapped_column(JSON, default=list)  # ISO starts left out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Booking(Base):
    """A room held from `start` to `busy_until` (the meeting's end plus the room's buffer).

    PostgreSQL enforces the no-overlap rule with an exclusion constraint (migration 0004);
    SQLite serialises the check and the insert with BEGIN IMMEDIATE."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_series.id", ondelete="SET NULL"), default=None, index=True
    )
    room_id: Mapped[str] = mapped_column(String(64), index=True)
    organiser: Mapped[str] = mapped_column(String(120), index=True)
    unit: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    title: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime] = mapped_column()
    busy_until: Mapped[datetime] = mapped_column()
    # pending (awaits the owner's approval), confirmed, checked_in, released (no-show),
    # cancelled, rejected
    status: Mapped[str] = mapped_column(String(16), index=True)
    attendees: Mapped[int] = mapped_column(Integer, default=0)  # expected
    approved_by: Mapped[str | None] = mapped_column(String(120), default=None)
    checked_in_at: Mapped[datetime | None] = mapped_column(default=None)
    checked_in_by: Mapped[str | None] = mapped_column(String(120), default=None)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    hvac: Mapped[str] = mapped_column(String(16), default="")  # "", comfort, setback, failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(Base):
    """Someone signed in to a meeting (scanning the door's QR code)."""

    __tablename__ = "booking_attendance"
    __table_args__ = (UniqueConstraint("booking_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class WaitlistEntry(Base):
    """Someone waiting for a room and time that was taken; booked for them if it frees up."""

    __tablename__ = "booking_waitlist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(64), index=True)
    start: Mapped[datetime] = mapped_column()
    end: Mapped[datetime] = mapped_column()
    username: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    booking_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- booking: official vehicles --------------------------------------------------------------
class VehicleRequest(Base):
    """A request for an official car: approved, dispatched (car and driver), driven,
    returned and settled. PostgreSQL keeps a car and a driver from two overlapping
    dispatches with exclusion constraints; SQLite serialises the check."""

    __tablename__ = "vehicle_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester: Mapped[str] = mapped_column(String(120), index=True)
    unit: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    destination: Mapped[str] = mapped_column(String(200))
    passengers: Mapped[int] = mapped_column(Integer, default=1)
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime] = mapped_column()
    # pending, approved, rejected, dispatched, departed, returned, settled, cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    approvals: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{step, by, at}]
    vehicle_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    driver_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    busy_from: Mapped[datetime | None] = mapped_column(default=None)
    busy_until: Mapped[datetime | None] = mapped_column(default=None)
    dispatched_by: Mapped[str | None] = mapped_column(String(120), default=None)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    departed_at: Mapped[datetime | None] = mapped_column(default=None)
    odometer_out: Mapped[float | None] = mapped_column(default=None)
    returned_at: Mapped[datetime | None] = mapped_column(default=None)
    odometer_in: Mapped[float | None] = mapped_column(default=None)
    gps_km: Mapped[float | None] = mapped_column(default=None)
    trip: Mapped[dict[str, Any]] = mapped_column(default=dict)  # stops, fixes used, dropped
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)  # tolls, parking, fuel, other
    cost: Mapped[float | None] = mapped_column(default=None)
    settled_month: Mapped[str | None] = mapped_column(String(7), default=None, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- visitors and the gate ---------------------------------------------------------------------
class Visit(Base):
    """A host's invitation: one or more visitors for a time window (a day, several, a group).
    Whoever registers is responsible (谁预约谁负责)."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(String(120), index=True)
    host_unit: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime] = mapped_column(index=True)
    gates: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty: every gate
    # invited (waits for approval), approved, cancelled, done (window over)
    status: Mapped[str] = mapped_column(String(16), index=True)
    approved_by: Mapped[str | None] = mapped_column(String(120), default=None)
    overstay_alarmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Visitor(Base):
    """One visitor of a visit. Personal data: the ID number is kept only as a keyed hash and
    its last 4 characters; name, phone and ID data are purged after the retention period."""

    __tablename__ = "visitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    id_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    id_last4: Mapped[str | None] = mapped_column(String(4), default=None)
    plate: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    pass_id: Mapped[str] = mapped_column(String(40), unique=True)
    pass_revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    entries_allowed: Mapped[int] = mapped_column(Integer, default=1)
    entries_used: Mapped[int] = mapped_column(Integer, default=0)
    car_entries_used: Mapped[int] = mapped_column(Integer, default=0)  # by plate reads
    inside: Mapped[bool] = mapped_column(Boolean, default=False)  # anti-passback
    car_inside: Mapped[bool] = mapped_column(Boolean, default=False)
    # invited, arrived, left, no_show, overstay
    status: Mapped[str] = mapped_column(String(16), default="invited", index=True)
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    left_at: Mapped[datetime | None] = mapped_column(default=None)
    purged_at: Mapped[datetime | None] = mapped_column(default=None)


class GateDecision(Base):
    """Every decision at a gate: what was presented, what it matched, the evidence, and the
    outcome (allow, deny, or review by a guard)."""

    __tablename__ = "gate_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    gate_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))
    credential: Mapped[str] = mapped_column(String(16))  # qr, plate, manual
    presented: Mapped[str] = mapped_column(String(200))  # the plate read, or the pass id
    terminal: Mapped[str] = mapped_column(String(120))
    terminal_ts: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(8), index=True)  # allow, deny, review
    reason: Mapped[str] = mapped_column(String(200))
    visitor_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    subject: Mapped[str] = mapped_column(String(120), default="")  # display label
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reviewed_by: Mapped[str | None] = mapped_column(String(120), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)


class PlateListEntry(Base):
    """A plate on the staff allow list or the block list."""

    __tablename__ = "plate_list"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # allow, block
    owner: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
