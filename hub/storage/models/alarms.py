"""The alarm book, the rules' state and the event journal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
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
    # the message by catalogue key and arguments ({"key", "args"}), rendered per language
    say: Mapped[dict[str, Any] | None] = mapped_column(default=None)
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
