"""sign-in throttling per account and address, device keys bound to trackers, visitor cars'
entries counted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("last_failure", UTCDateTime(), nullable=False),
        sa.Column("blocked_until", UTCDateTime(), nullable=True),
        sa.Column("locks", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("trackers", sa.JSON(), nullable=True))
    with op.batch_alter_table("visitors") as batch:
        batch.add_column(
            sa.Column("car_entries_used", sa.Integer(), nullable=False, server_default="0")
        )
    # A visitor car already inside has used one entry.
    op.execute(sa.text("UPDATE visitors SET car_entries_used = 1 WHERE car_inside"))


def downgrade() -> None:
    with op.batch_alter_table("visitors") as batch:
        batch.drop_column("car_entries_used")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("trackers")
    op.drop_table("sign_in_throttle")
