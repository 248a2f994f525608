"""one approval chain's history for rooms, cars and visits: approval_steps, filled from the
cars' own approval lists and the audit trail's room and visit decisions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _utc(ts: Any) -> datetime:
    """A timestamp as SQLite (naive text, UTC) or PostgreSQL (aware) gives it back."""
    t = ts if isinstance(ts, datetime) else datetime.fromisoformat(str(ts))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def upgrade() -> None:
    steps = op.create_table(
        "approval_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(120), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_steps")),
    )
    op.create_index("ix_approval_steps_kind_subject", "approval_steps", ["kind", "subject"])
    conn = op.get_bind()
    rows: list[dict[str, Any]] = []
    cars = conn.execute(sa.text("SELECT id, unit, approvals FROM vehicle_requests"))
    for rid, unit, approvals in cars:
        for a in _json(approvals) or []:
            if not isinstance(a, dict):
                continue  # not a decision this release wrote
            rows.append(
                {
                    "kind": "vehicle",
                    "subject": str(rid),
                    "unit": unit,
                    "step": int(a.get("step", 1)),
                    "approver": a.get("by", ""),
                    "approved": bool(a.get("approved")),
                    "note": a.get("note", ""),
                    "at": _utc(a["at"]) if a.get("at") else datetime.now(UTC),
                }
            )
    decisions = conn.execute(
        sa.text(
            "SELECT ts, actor, action, target, detail FROM audit_log WHERE action IN "
            "('booking.approve', 'booking.reject', 'visit.approve', 'visit.refuse') ORDER BY id"
        )
    )
    units: dict[int, str | None] = {
        int(i): u for i, u in conn.execute(sa.text("SELECT id, host_unit FROM visits"))
    }
    for ts, actor, action, target, detail in decisions:
        approved = action.endswith(".approve")
        if action.startswith("visit."):
            subjects, kind = [target], "visit"
            unit = units.get(int(target)) if str(target).isdigit() else None
        else:
            booked = (_json(detail) or {}).get("bookings", [])
            subjects, kind, unit = [str(b) for b in booked], "room", None
        for subject in subjects:
            rows.append(
                {
                    "kind": kind,
                    "subject": subject,
                    "unit": unit,
                    "step": 1,
                    "approver": actor,
                    "approved": approved,
                    "note": "",
                    "at": _utc(ts),
                }
            )
    if rows:
        op.bulk_insert(steps, rows)


def downgrade() -> None:
    op.drop_index("ix_approval_steps_kind_subject", table_name="approval_steps")
    op.drop_table("approval_steps")
