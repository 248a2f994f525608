"""Meeting-room bookings and official-car requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow

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
