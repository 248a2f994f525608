"""Cards and permits (卡证): each application and the card or permit it becomes, its history,
and what the phone credential leaves behind at the gates (each code used once; who is inside)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


class Permit(Base):
    """An application for a card or permit, and the card or permit once issued."""

    __tablename__ = "permits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    holder: Mapped[str] = mapped_column(String(64))  # username
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    # applied, returned, refused, approved, issued, collected, suspended, lost, revoked, expired
    status: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer, default=0)  # approval steps taken
    plate: Mapped[str | None] = mapped_column(String(16), default=None)
    doors: Mapped[list[str]] = mapped_column(JSON, default=list)  # buildings and rooms
    documents: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # document -> file
    note: Mapped[str] = mapped_column(Text, default="")
    number: Mapped[str | None] = mapped_column(String(32), default=None)  # given at issue
    renews: Mapped[int | None] = mapped_column(Integer, default=None)  # the permit it replaces
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    issued_at: Mapped[datetime | None] = mapped_column(default=None)
    collected_at: Mapped[datetime | None] = mapped_column(default=None)
    valid_from: Mapped[datetime | None] = mapped_column(default=None)
    valid_until: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)  # refused, revoked, lost...
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    purged_at: Mapped[datetime | None] = mapped_column(default=None)  # documents deleted
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_permits_holder", "holder"),
        Index("ix_permits_plate_status", "plate", "status"),
        Index("ix_permits_kind_applied", "kind", "applied_at"),
    )


class PermitEntry(Base):
    """One change to a permit: who, what, a note."""

    __tablename__ = "permit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("permits.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_permit_log_permit", "permit_id"),)


class CredentialUse(Base):
    """A staff credential's code presented at a gate or the canteen: each code once."""

    __tablename__ = "credential_uses"

    jti: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    place: Mapped[str] = mapped_column(String(64))  # gate:<id>, canteen:<id>
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class StaffPresence(Base):
    """Whether a person is inside the compound by their phone credential (anti-passback)."""

    __tablename__ = "staff_presence"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    inside: Mapped[bool] = mapped_column(default=False)
    gate: Mapped[str | None] = mapped_column(String(64), default=None)
    ts: Mapped[datetime | None] = mapped_column(default=None)
