"""suggestions and complaints: items and their log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("building", sa.String(64), nullable=True),
        sa.Column("room", sa.String(64), nullable=True),
        sa.Column("asset", sa.String(64), nullable=True),
        sa.Column("address", sa.String(200), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("writer", sa.String(64), nullable=True),
        sa.Column("writer_unit", sa.String(64), nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("responded_at", UTCDateTime(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("answer_due", UTCDateTime(), nullable=False),
        sa.Column("close_due", UTCDateTime(), nullable=False),
        sa.Column("answer_warn_at", UTCDateTime(), nullable=True),
        sa.Column("close_warn_at", UTCDateTime(), nullable=True),
        sa.Column("answer_late", sa.Boolean(), nullable=False),
        sa.Column("close_late", sa.Boolean(), nullable=False),
        sa.Column("escalated_at", UTCDateTime(), nullable=True),
        sa.Column("handler", sa.String(64), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_note", sa.String(500), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("forgotten_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_feedback_items_code_hash")),
    )
    op.create_index("ix_feedback_items_status", "feedback_items", ["status"])
    op.create_index(
        "ix_feedback_items_category_created", "feedback_items", ["category", "created_at"]
    )
    op.create_index("ix_feedback_items_writer", "feedback_items", ["writer"])
    op.create_table(
        "feedback_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_log")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_log_item_id_feedback_items"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_feedback_log_item", "feedback_log", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_log_item", table_name="feedback_log")
    op.drop_table("feedback_log")
    op.drop_index("ix_feedback_items_writer", table_name="feedback_items")
    op.drop_index("ix_feedback_items_category_created", table_name="feedback_items")
    op.drop_index("ix_feedback_items_status", table_name="feedback_items")
    op.drop_table("feedback_items")
