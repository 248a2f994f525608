"""The outbox: what a transaction owes another part of the hub, written in that transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


class OutboxRow(Base):
    """One message for one consumer (e.g. an alarm change the ticket service must apply),
    written in the transaction of the change it reports and marked done in the transaction
    of its consumer's effect: neither lost nor applied twice."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (Index("ix_outbox_consumer_done_id", "consumer", "done_at", "id"),)
