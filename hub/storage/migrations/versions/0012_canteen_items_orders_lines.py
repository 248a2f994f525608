"""the canteen: menu items, orders and their lines

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canteen_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canteen", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("meal", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("portions", sa.Integer(), nullable=True),
        sa.Column("ordered", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("no_show", sa.Integer(), nullable=False),
        sa.Column("made", sa.Integer(), nullable=True),
        sa.Column("allergens", sa.JSON(), nullable=False),
        sa.Column("photo", sa.String(80), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canteen_items")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_canteen_items_price")),
        sa.CheckConstraint(
            "ordered >= 0 AND served >= 0 AND no_show >= 0", name=op.f("ck_canteen_items_counts")
        ),
        sa.CheckConstraint(
            "portions IS NULL OR ordered <= portions", name=op.f("ck_canteen_items_not_oversold")
        ),
    )
    op.create_index(
        "ix_canteen_items_canteen_day_meal", "canteen_items", ["canteen", "day", "meal"]
    )
    op.create_table(
        "canteen_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canteen", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("meal", sa.String(64), nullable=False),
        sa.Column("username", sa.String(120), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("served_at", UTCDateTime(), nullable=True),
        sa.Column("served_by", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canteen_orders")),
        sa.UniqueConstraint("code", name=op.f("uq_canteen_orders_code")),
        sa.UniqueConstraint("canteen", "day", "meal", "username", name="uq_canteen_orders_person"),
    )
    op.create_index("ix_canteen_orders_day", "canteen_orders", ["day"])
    op.create_index("ix_canteen_orders_username", "canteen_orders", ["username"])
    op.create_index("ix_canteen_orders_status", "canteen_orders", ["status"])
    op.create_table(
        "canteen_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("portions", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canteen_order_lines")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["canteen_orders.id"],
            name=op.f("fk_canteen_order_lines_order_id_canteen_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["canteen_items.id"],
            name=op.f("fk_canteen_order_lines_item_id_canteen_items"),
        ),
        sa.UniqueConstraint("order_id", "item_id", name="uq_canteen_order_lines_order_item"),
        sa.CheckConstraint("portions >= 1", name=op.f("ck_canteen_order_lines_portions")),
    )
    op.create_index("ix_canteen_order_lines_item_id", "canteen_order_lines", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_canteen_order_lines_item_id", table_name="canteen_order_lines")
    op.drop_table("canteen_order_lines")
    for name in ("status", "username", "day"):
        op.drop_index(f"ix_canteen_orders_{name}", table_name="canteen_orders")
    op.drop_table("canteen_orders")
    op.drop_index("ix_canteen_items_canteen_day_meal", table_name="canteen_items")
    op.drop_table("canteen_items")
