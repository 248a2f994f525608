"""notices: announcements and their receipts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("publish_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("must_ack", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_index("ix_announcements_author", "announcements", ["author"])
    op.create_index("ix_announcements_publish_at", "announcements", ["publish_at"])
    op.create_table(
        "announcement_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("acked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_receipts")),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_receipts_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("announcement_id", "username", name="uq_announcement_receipts_who"),
    )
    op.create_index("ix_announcement_receipts_username", "announcement_receipts", ["username"])


def downgrade() -> None:
    op.drop_index("ix_announcement_receipts_username", table_name="announcement_receipts")
    op.drop_table("announcement_receipts")
    op.drop_index("ix_announcements_publish_at", table_name="announcements")
    op.drop_index("ix_announcements_author", table_name="announcements")
    op.drop_table("announcements")
