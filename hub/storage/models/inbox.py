"""The inbox: what happened to a person's things, one row per person and message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


class InboxMessage(Base):
    """A message for one person (by username), read or not. `key` names the change it tells
    of (a ticket's acceptance, a visitor's arrival): one message per person and key, so an
    event delivered twice is told once."""

    __tablename__ = "inbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("username", "key", name="uq_inbox_messages_username_key"),
        Index("ix_inbox_messages_username_read_at_id", "username", "read_at", "id"),
    )
