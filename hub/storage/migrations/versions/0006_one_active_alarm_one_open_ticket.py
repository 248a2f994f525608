"""one active alarm per originator and type, one open ticket per alarm key (unique indexes
that hold across hub workers)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN_TICKET = (
    "alarm_key IS NOT NULL AND status IN ('open', 'assigned', 'accepted', 'in_progress', 'on_hold')"
)


def upgrade() -> None:
    # A single process kept these unique with a lock; should two workers ever have raced
    # before this revision, the newest active alarm of a key stays active.
    op.execute(
        sa.text(
            "UPDATE alarms SET active = :no WHERE active AND id NOT IN "
            "(SELECT MAX(id) FROM alarms WHERE active GROUP BY originator, type)"
        ).bindparams(no=False)
    )
    op.create_index(
        "uq_alarms_active_originator_type",
        "alarms",
        ["originator", "type"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_index(
        "uq_tickets_open_alarm_key",
        "tickets",
        ["alarm_key"],
        unique=True,
        sqlite_where=sa.text(OPEN_TICKET),
        postgresql_where=sa.text(OPEN_TICKET),
    )


def downgrade() -> None:
    op.drop_index("uq_tickets_open_alarm_key", table_name="tickets")
    op.drop_index("uq_alarms_active_originator_type", table_name="alarms")
