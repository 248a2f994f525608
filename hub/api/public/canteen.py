"""The canteen's response shapes."""

from __future__ import annotations

from hub.api.public.base import Out


class MealPublic(Out):
    """A meal a canteen serves, and until when it is ordered."""

    id: str
    name: str
    name_en: str | None
    serve: str
    order_by: str
    day_before: bool
    per_person: int | None


class CanteenPublic(Out):
    """A canteen and its meals."""

    id: str
    name: str
    name_en: str | None
    building: str | None
    meals: list[MealPublic]


class MenuItemPublic(Out):
    """A dish on a day's meal: its portions (None: no limit), how many are ordered, served,
    not collected, and left."""

    id: int
    canteen: str
    day: str
    meal: str
    name: str
    name_en: str | None
    category: str
    price: float
    portions: int | None
    ordered: int
    served: int
    no_show: int
    made: int | None  # portions cooked, as the kitchen recorded (None: not said)
    left: int | None
    allergens: list[str]
    photo: bool
    status: str


class OrderLinePublic(Out):
    """So many portions of a dish."""

    item_id: int
    name: str
    name_en: str | None
    portions: int
    price: float


class OrderPublic(Out):
    """A person's order for a meal: its code (while it is open) and whether it can still
    change."""

    id: int
    canteen: str
    day: str
    meal: str
    username: str
    unit: str | None
    status: str
    code: str | None
    cutoff: str | None
    changeable: bool
    served_at: str | None
    served_by: str | None
    lines: list[OrderLinePublic]
    total: float
    qr: str | None = None


class ProductionItem(Out):
    """One dish to make."""

    id: int
    name: str
    category: str
    ordered: int
    portions: int | None
    make: int


class ProductionMeal(Out):
    """One meal of the production sheet."""

    meal: str
    name: str
    name_en: str | None
    cutoff: str
    closed: bool
    orders: int
    items: list[ProductionItem]


class ProductionSheet(Out):
    """What the kitchen makes on a day."""

    canteen: str
    name: str
    day: str
    meals: list[ProductionMeal]


class PopularityRow(Out):
    """A dish over some weeks."""

    name: str
    category: str
    offered: int
    made: int
    ordered: int
    served: int
    no_show: int
    per_day: float
    no_show_rate: float | None
    waste_rate: float | None


class StatementRow(Out):
    """A person's (or unit's) meals in a month."""

    person: str | None = None
    unit: str | None = None
    orders: int
    portions: int
    served: float
    no_show: float
    total: float
