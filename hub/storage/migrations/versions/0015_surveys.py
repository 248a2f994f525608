"""questionnaires: surveys, participants, responses

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("attach", sa.String(16), nullable=True),
        sa.Column("opens_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_index("ix_surveys_author", "surveys", ["author"])
    op.create_table(
        "survey_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_participants")),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_participants_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("survey_id", "username", name="uq_survey_participants_who"),
    )
    op.create_index("ix_survey_participants_username", "survey_participants", ["username"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted", sa.Boolean(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_responses_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("survey_id", "username", name="uq_survey_responses_who"),
        sa.UniqueConstraint("survey_id", "token_hash", name="uq_survey_responses_token"),
    )
    op.create_index("ix_survey_responses_survey", "survey_responses", ["survey_id", "submitted"])


def downgrade() -> None:
    op.drop_index("ix_survey_responses_survey", table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_index("ix_survey_participants_username", table_name="survey_participants")
    op.drop_table("survey_participants")
    op.drop_index("ix_surveys_author", table_name="surveys")
    op.drop_table("surveys")
