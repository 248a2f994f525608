"""Notices (通知公告): what the back office publishes to everyone or some work units and roles,
and each recipient's receipt (read, acknowledged)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


class Announcement(Base):
    """A notice: its (sanitised) text, who it is for, when it shows, and whether its readers
    must acknowledge it. The recipients are fixed when it is published (their receipts)."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # HTML, sanitised on the way in
    author: Mapped[str] = mapped_column(String(64), index=True)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"all", "units", "roles"}
    publish_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    pinned: Mapped[bool] = mapped_column(default=False)
    must_ack: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16))  # scheduled, published, withdrawn
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # [{"id", "name", "type", "size", "file"}]: files in the data dir
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    display: Mapped[bool] = mapped_column(default=False, server_default=false())  # wall, doors


class AnnouncementReceipt(Base):
    """One recipient of a notice: when they read it and acknowledged it."""

    __tablename__ = "announcement_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    acked_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("announcement_id", "username", name="uq_announcement_receipts_who"),
        Index("ix_announcement_receipts_username", "username"),
    )
