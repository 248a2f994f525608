"""Suggestions and complaints (建议投诉): the item a staff member wrote — under their name or
anonymously, when only a keyed hash of its follow-up code is kept and nothing names the writer
— its targets on the business calendar, and every change made to it (its log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


class FeedbackItem(Base):
    """A suggestion or a complaint and where it stands."""

    __tablename__ = "feedback_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # suggestion, complaint
    category: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    building: Mapped[str | None] = mapped_column(String(64), default=None)
    room: Mapped[str | None] = mapped_column(String(64), default=None)
    asset: Mapped[str | None] = mapped_column(String(64), default=None)
    address: Mapped[str | None] = mapped_column(String(200), default=None)  # Open311's
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)  # files in the data dir
    # who wrote it: a username, or nothing (anonymous: only the code's hash answers for it)
    writer: Mapped[str | None] = mapped_column(String(64), default=None)
    writer_unit: Mapped[str | None] = mapped_column(String(64), default=None)
    code_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    source: Mapped[str] = mapped_column(String(16), default="web")  # web, open311
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(default=None)  # first answer
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)  # closed or declined
    answer_due: Mapped[datetime]
    close_due: Mapped[datetime]
    answer_warn_at: Mapped[datetime | None] = mapped_column(default=None)  # remind then
    close_warn_at: Mapped[datetime | None] = mapped_column(default=None)
    answer_late: Mapped[bool] = mapped_column(default=False)
    close_late: Mapped[bool] = mapped_column(default=False)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    handler: Mapped[str | None] = mapped_column(String(64), default=None)  # who took it
    reply: Mapped[str | None] = mapped_column(Text, default=None)  # the answer given
    reason: Mapped[str | None] = mapped_column(Text, default=None)  # why it was declined
    rating: Mapped[int | None] = mapped_column(Integer, default=None)  # 1-5, by the writer
    rating_note: Mapped[str | None] = mapped_column(String(500), default=None)
    rated_at: Mapped[datetime | None] = mapped_column(default=None)
    public: Mapped[bool] = mapped_column(default=False)  # on the board
    forgotten_at: Mapped[datetime | None] = mapped_column(default=None)  # personal data gone

    __table_args__ = (
        Index("ix_feedback_items_status", "status"),
        Index("ix_feedback_items_category_created", "category", "created_at"),
        Index("ix_feedback_items_writer", "writer"),
    )


class FeedbackEntry(Base):
    """One change to an item: who (a username; `writer` for an anonymous writer, `hub` for the
    hub's own), what, the note; whether the writer sees it (a handlers' internal note not)."""

    __tablename__ = "feedback_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    shown: Mapped[bool] = mapped_column(default=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_feedback_log_item", "item_id"),)
