"""patrol tours (the patrol rule's records), checkpoint codes scanned, alarm messages by
catalogue key

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_tours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("route", sa.String(64), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("unobserved", sa.Boolean(), nullable=False),
        sa.Column("checkpoints", sa.JSON(), nullable=False),
        sa.Column("guards", sa.JSON(), nullable=False),
        sa.Column("visits", sa.JSON(), nullable=False),
        sa.Column("out_of_order", sa.JSON(), nullable=False),
        sa.Column("refused", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_tours")),
        sa.UniqueConstraint("rule", "start", name="uq_patrol_tours_rule_start"),
    )
    op.create_index("ix_patrol_tours_route", "patrol_tours", ["route"])
    op.create_index("ix_patrol_tours_start", "patrol_tours", ["start"])
    op.create_table(
        "patrol_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("checkpoint", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_scans")),
    )
    op.create_index("ix_patrol_scans_at", "patrol_scans", ["at"])
    op.create_index(
        "uq_patrol_scans_person_checkpoint_step",
        "patrol_scans",
        ["person", "checkpoint", "step"],
        unique=True,
    )
    only_nfc_taps = sa.text("source = 'nfc' AND verdict = 'accepted'")
    op.create_index(
        "uq_patrol_scans_nfc_tap",
        "patrol_scans",
        ["checkpoint", "step"],
        unique=True,
        sqlite_where=only_nfc_taps,
        postgresql_where=only_nfc_taps,
    )
    with op.batch_alter_table("alarms") as batch:
        batch.add_column(sa.Column("say", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alarms") as batch:
        batch.drop_column("say")
    op.drop_index("uq_patrol_scans_nfc_tap", table_name="patrol_scans")
    op.drop_index("uq_patrol_scans_person_checkpoint_step", table_name="patrol_scans")
    op.drop_index("ix_patrol_scans_at", table_name="patrol_scans")
    op.drop_table("patrol_scans")
    op.drop_index("ix_patrol_tours_start", table_name="patrol_tours")
    op.drop_index("ix_patrol_tours_route", table_name="patrol_tours")
    op.drop_table("patrol_tours")
