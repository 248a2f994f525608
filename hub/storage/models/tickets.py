"""Repair tickets and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow

# a ticket still being worked on (the statuses tickets.reading.ACTIVE names)
OPEN_TICKET = (
    "alarm_key IS NOT NULL AND status IN ('open', 'assigned', 'accepted', 'in_progress', 'on_hold')"
)


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
