"""Patrol tours as they ended (the patrol rule's records) and the checkpoint codes scanned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


class PatrolTour(Base):
    """A tour that ended: its checkpoints, who answers for it, the visits with how each was
    proven, what was out of order and refused; written with the rule's state that closed it."""

    __tablename__ = "patrol_tours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(64), index=True)
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime] = mapped_column()
    unobserved: Mapped[bool] = mapped_column(Boolean, default=False)
    checkpoints: Mapped[list[str]] = mapped_column(JSON, default=list)
    guards: Mapped[list[str]] = mapped_column(JSON, default=list)
    visits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    out_of_order: Mapped[list[str]] = mapped_column(JSON, default=list)
    refused: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("rule", "start", name="uq_patrol_tours_rule_start"),)


class PatrolScan(Base):
    """A checkpoint's code scanned by a guard's phone, accepted or refused (and why). An
    accepted code's time step is unique per guard and checkpoint, an NFC tag's tap counter
    per checkpoint: a replay is refused."""

    __tablename__ = "patrol_scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(64))
    checkpoint: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(16))
    step: Mapped[int | None] = mapped_column(Integer, default=None)
    verdict: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        Index(
            "uq_patrol_scans_person_checkpoint_step", "person", "checkpoint", "step", unique=True
        ),
        # an NFC tag's tap counts once, whoever sends it (two phones sending a copy at once)
        Index(
            "uq_patrol_scans_nfc_tap",
            "checkpoint",
            "step",
            unique=True,
            sqlite_where=text("source = 'nfc' AND verdict = 'accepted'"),
            postgresql_where=text("source = 'nfc' AND verdict = 'accepted'"),
        ),
    )
