"""cards and permits, staff credentials at the gates

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "permits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(16), nullable=True),
        sa.Column("doors", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("number", sa.String(32), nullable=True),
        sa.Column("renews", sa.Integer(), nullable=True),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("collected_at", UTCDateTime(), nullable=True),
        sa.Column("valid_from", UTCDateTime(), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("purged_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permits")),
    )
    op.create_index("ix_permits_holder", "permits", ["holder"])
    op.create_index("ix_permits_plate_status", "permits", ["plate", "status"])
    op.create_index("ix_permits_kind_applied", "permits", ["kind", "applied_at"])
    op.create_table(
        "permit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("permit_id", sa.Integer(), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_log")),
        sa.ForeignKeyConstraint(
            ["permit_id"],
            ["permits.id"],
            name=op.f("fk_permit_log_permit_id_permits"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_permit_log_permit", "permit_log", ["permit_id"])
    op.create_table(
        "credential_uses",
        sa.Column("jti", sa.String(40), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("place", sa.String(64), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_credential_uses")),
    )
    op.create_index("ix_credential_uses_ts", "credential_uses", ["ts"])
    op.create_table(
        "staff_presence",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("inside", sa.Boolean(), nullable=False),
        sa.Column("gate", sa.String(64), nullable=True),
        sa.Column("ts", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_staff_presence")),
    )


def downgrade() -> None:
    op.drop_table("staff_presence")
    op.drop_index("ix_credential_uses_ts", table_name="credential_uses")
    op.drop_table("credential_uses")
    op.drop_index("ix_permit_log_permit", table_name="permit_log")
    op.drop_table("permit_log")
    op.drop_index("ix_permits_kind_applied", table_name="permits")
    op.drop_index("ix_permits_plate_status", table_name="permits")
    op.drop_index("ix_permits_holder", table_name="permits")
    op.drop_table("permits")
