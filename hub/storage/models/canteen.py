"""The canteen: the menu's items (a dish on a day's meal, with its portions and counts) and
the staff's orders for a meal (one per person and meal, its lines, the pickup code)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


class MenuItem(Base):
    """A dish on a canteen's menu for one day's meal. `ordered` counts the portions held by
    orders; the database refuses more than `portions` (None: no limit), so two people can
    never both get the last one."""

    __tablename__ = "canteen_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canteen: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120), default=None)
    category: Mapped[str] = mapped_column(String(32))
    price_cents: Mapped[int] = mapped_column(Integer)
    portions: Mapped[int | None] = mapped_column(Integer, default=None)
    ordered: Mapped[int] = mapped_column(Integer, default=0)
    served: Mapped[int] = mapped_column(Integer, default=0)
    no_show: Mapped[int] = mapped_column(Integer, default=0)  # portions not collected
    made: Mapped[int | None] = mapped_column(Integer, default=None)  # cooked, as the kitchen says
    allergens: Mapped[list[str]] = mapped_column(JSON, default=list)
    photo: Mapped[str | None] = mapped_column(String(80), default=None)
    status: Mapped[str] = mapped_column(String(16), default="on")  # on, sold_out, withdrawn
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price"),
        CheckConstraint("ordered >= 0 AND served >= 0 AND no_show >= 0", name="counts"),
        CheckConstraint("portions IS NULL OR ordered <= portions", name="not_oversold"),
        Index("ix_canteen_items_canteen_day_meal", "canteen", "day", "meal"),
    )


class MealOrder(Base):
    """A person's order for one meal of one day at one canteen: open until served, a no-show
    after the meal, or cancelled. Shown at the counter by its code."""

    __tablename__ = "canteen_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canteen: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date, index=True)
    meal: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(120), index=True)
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # ordered, cancelled, served, no_show
    status: Mapped[str] = mapped_column(String(16), default="ordered", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    served_at: Mapped[datetime | None] = mapped_column(default=None)
    served_by: Mapped[str | None] = mapped_column(String(120), default=None)

    __table_args__ = (
        UniqueConstraint("canteen", "day", "meal", "username", name="uq_canteen_orders_person"),
    )


class OrderLine(Base):
    """So many portions of one item in an order, at the price it had when ordered."""

    __tablename__ = "canteen_order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("canteen_orders.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("canteen_items.id"), index=True)
    portions: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("order_id", "item_id", name="uq_canteen_order_lines_order_item"),
        CheckConstraint("portions >= 1", name="portions"),
    )
