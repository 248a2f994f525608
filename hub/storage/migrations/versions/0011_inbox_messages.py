"""the inbox: messages for people, read or not

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(300), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_messages")),
        sa.UniqueConstraint("username", "key", name="uq_inbox_messages_username_key"),
    )
    op.create_index("ix_inbox_messages_created_at", "inbox_messages", ["created_at"])
    op.create_index(
        "ix_inbox_messages_username_read_at_id", "inbox_messages", ["username", "read_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_messages_username_read_at_id", table_name="inbox_messages")
    op.drop_index("ix_inbox_messages_created_at", table_name="inbox_messages")
    op.drop_table("inbox_messages")
