"""Visits, visitors, the gate's decisions and its plate lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


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
