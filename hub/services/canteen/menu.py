"""The canteen's menu: items published per day and meal (name, category, price, portions,
allergens, a photo), changed, sold out or withdrawn — those who ordered it are told, and a
withdrawn item leaves their orders — and a week copied from another."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update

from hub.domain import Notice
from hub.errors import Conflict, Invalid, NotFound
from hub.identity.roles import Principal
from hub.services.canteen.base import CanteenBase, item_dict
from hub.services.images import NotAnImage, clean_photo
from hub.storage.audit import record
from hub.storage.models import MealOrder, MenuItem, OrderLine

CATEGORIES = ("staple", "dish", "soup", "noodles", "pastry", "fruit", "drink", "takeaway", "other")
MAX_PHOTO = 8 * 1024 * 1024


@dataclass(frozen=True)
class ItemIn:
    """A dish as the canteen publishes it."""

    day: date
    meal: str
    name: str
    category: str = "dish"
    price_cents: int = 0
    portions: int | None = None
    allergens: list[str] = field(default_factory=list)
    name_en: str | None = None


class CanteenMenu(CanteenBase):
    """Publishing and changing the menu."""

    photos: Path = Path("canteen")

    def publish(self, who: Principal, canteen_id: str, items: list[ItemIn]) -> list[dict[str, Any]]:
        """Put dishes on the menu (every one or none: a bad one refuses them all)."""
        canteen = self.canteen(canteen_id)
        today = self.today()
        for n, it in enumerate(items):
            self.meal(canteen, it.meal)
            if it.day < today:
                raise Invalid(
                    f"{it.day} is over",
                    field=f"items[{n}].day",
                    key="canteen.day_over",
                    day=str(it.day),
                )
            if it.price_cents < 0:
                raise Invalid(
                    "a price is 0 or more", field=f"items[{n}].price", key="canteen.price"
                )
            if it.category not in CATEGORIES:
                raise Invalid(
                    f"category is one of {', '.join(CATEGORIES)}",
                    field=f"items[{n}].category",
                    key="canteen.category",
                )
            if it.portions is not None and it.portions < 1:
                raise Invalid(
                    "portions are 1 or more (none: no limit)",
                    field=f"items[{n}].portions",
                    key="canteen.limit",
                )
        with self._db.session() as s:
            rows = [
                MenuItem(
                    canteen=canteen.id,
                    day=it.day,
                    meal=it.meal,
                    name=it.name.strip(),
                    name_en=it.name_en,
                    category=it.category,
                    price_cents=it.price_cents,
                    portions=it.portions,
                    allergens=sorted(set(it.allergens)),
                    status="on",
                    created_by=who.name,
                    ordered=0,
                    served=0,
                    no_show=0,
                )
                for it in items
            ]
            s.add_all(rows)
            s.flush()
            record(s, who.name, "canteen.publish", canteen.id, items=[r.id for r in rows])
            return [item_dict(r) for r in rows]

    def week(self, canteen_id: str, monday: date) -> list[dict[str, Any]]:
        """The menu of the week from `monday`, by day and meal (withdrawn items left out)."""
        canteen = self.canteen(canteen_id)
        order = {m.id: n for n, m in enumerate(canteen.meals)}
        with self._db.session() as s:
            rows = s.scalars(
                select(MenuItem).where(
                    MenuItem.canteen == canteen.id,
                    MenuItem.day >= monday,
                    MenuItem.day < monday + timedelta(days=7),
                    MenuItem.status != "withdrawn",
                )
            )
            items = [item_dict(r) for r in rows]
        return sorted(items, key=lambda i: (i["day"], order.get(i["meal"], 99), i["id"]))

    def change(
        self,
        who: Principal,
        item_id: int,
        *,
        name: str | None = None,
        price_cents: int | None = None,
        portions: int | None = None,
        unlimited: bool = False,
        made: int | None = None,
    ) -> dict[str, Any]:
        """Rename, reprice (for orders from now on) or resize an item (never below what is
        ordered already); record how many portions were cooked."""
        with self._db.session() as s:
            i = s.get(MenuItem, item_id)
            if i is None:
                raise NotFound(f"no item {item_id}", key="not_found", what=f"#{item_id}")
            if price_cents is not None and price_cents < 0:
                raise Invalid("a price is 0 or more", field="price", key="canteen.price")
            if portions is not None and portions < i.ordered:
                raise Conflict(
                    f"{i.ordered} portions are ordered already",
                    key="canteen.below_ordered",
                    n=i.ordered,
                )
            if name:
                i.name = name.strip()
            if price_cents is not None:
                i.price_cents = price_cents
            if portions is not None or unlimited:
                i.portions = None if unlimited else portions
            if made is not None:  # what the kitchen cooked: the waste is what was not eaten
                i.made = made
            record(
                s,
                who.name,
                "canteen.item",
                str(i.id),
                name=name,
                price_cents=price_cents,
                portions=portions,
                made=made,
            )
            s.flush()
            return item_dict(i)

    def set_status(
        self, who: Principal, item_id: int, status: str, note: str = ""
    ) -> dict[str, Any]:
        """Sell out (no more orders: those ordered keep theirs) or withdraw an item (its
        portions leave every order); either way those who ordered it are told."""
        if status not in ("on", "sold_out", "withdrawn"):
            raise Invalid("status is on, sold_out or withdrawn", field="status")
        now = self.clock()
        with self.write("the item") as s:
            i = s.get(MenuItem, item_id)
            if i is None:
                raise NotFound(f"no item {item_id}", key="not_found", what=f"#{item_id}")
            if i.status == "withdrawn":
                raise Conflict(
                    "the item is withdrawn",
                    key="canteen.item_off",
                    name=i.name,
                    status_word="withdrawn",
                )
            holders = s.execute(
                select(MealOrder.username, OrderLine.id)
                .join(OrderLine, OrderLine.order_id == MealOrder.id)
                .where(OrderLine.item_id == i.id, MealOrder.status == "ordered")
            ).all()
            i.status = status
            if status == "withdrawn":
                s.execute(delete(OrderLine).where(OrderLine.id.in_([line for _, line in holders])))
                kept = s.scalar(  # served and no-show orders keep their portions
                    select(func.coalesce(func.sum(OrderLine.portions), 0)).where(
                        OrderLine.item_id == i.id
                    )
                )
                i.ordered = int(kept or 0)
                self._empty_orders(s)
            record(
                s,
                who.name,
                f"canteen.{status}",
                str(i.id),
                note=note,
                told=len({u for u, _ in holders}),
            )
            out = item_dict(i)
            people = tuple(sorted({u for u, _ in holders}))
            day, name = i.day, i.name
        if people and status != "on":
            what = (
                "已撤下，您的预订已取消"
                if status == "withdrawn"
                else "已售罄：您已预订的份数照常保留"
            )
            self.announce(
                Notice(
                    topic=f"canteen.{status}",
                    subject=f"【食堂】{day:%m-%d}「{name}」{what}",
                    body=note,
                    ts=now,
                    notify=people,
                    key=f"canteen:{item_id}:{status}",
                    link="/canteen.html",
                )
            )
        return out

    @staticmethod
    def _empty_orders(s: Any) -> None:
        """Orders left without a line are cancelled."""
        empty = select(MealOrder.id).where(
            MealOrder.status == "ordered",
            ~select(OrderLine.id).where(OrderLine.order_id == MealOrder.id).exists(),
        )
        s.execute(update(MealOrder).where(MealOrder.id.in_(empty)).values(status="cancelled"))

    def copy_week(
        self, who: Principal, canteen_id: str, source: date, target: date
    ) -> list[dict[str, Any]]:
        """The week from `source` (a Monday) again from `target`: the same dishes on the same
        weekdays, counts at zero; days already past are left out. 409 if the target week
        has a menu already."""
        canteen = self.canteen(canteen_id)
        today = self.today()
        with self._db.session() as s:
            existing = s.scalar(
                select(MenuItem.id)
                .where(
                    MenuItem.canteen == canteen.id,
                    MenuItem.day >= target,
                    MenuItem.day < target + timedelta(days=7),
                    MenuItem.status != "withdrawn",
                )
                .limit(1)
            )
            if existing is not None:
                raise Conflict("that week has a menu already", key="canteen.week_taken")
            src = list(
                s.scalars(
                    select(MenuItem).where(
                        MenuItem.canteen == canteen.id,
                        MenuItem.day >= source,
                        MenuItem.day < source + timedelta(days=7),
                        MenuItem.status != "withdrawn",
                    )
                )
            )
        shift = target - source
        items = [
            ItemIn(
                day=i.day + shift,
                meal=i.meal,
                name=i.name,
                category=i.category,
                price_cents=i.price_cents,
                portions=i.portions,
                allergens=list(i.allergens),
                name_en=i.name_en,
            )
            for i in src
            if i.day + shift >= today
        ]
        if not items:
            raise Invalid("nothing to copy", key="canteen.nothing_to_copy")
        return self.publish(who, canteen_id, items)

    # -- photos -------------------------------------------------------------------------------
    def save_photo(self, who: Principal, item_id: int, data: bytes) -> dict[str, Any]:
        """A dish's photo (re-encoded: an image and only that)."""
        if len(data) > MAX_PHOTO:
            raise Invalid("the photo is too large", field="photo", key="ticket.photo_size", mb=8)
        try:
            clean = clean_photo(data)
        except NotAnImage as err:
            raise Invalid(f"photo: {err}", field="photo") from None
        with self._db.session() as s:
            i = s.get(MenuItem, item_id)
            if i is None:
                raise NotFound(f"no item {item_id}", key="not_found", what=f"#{item_id}")
            self.photos.mkdir(parents=True, exist_ok=True)
            name = f"{i.id}.jpg"
            (self.photos / name).write_bytes(clean)
            i.photo = name
            record(s, who.name, "canteen.photo", str(i.id))
            return item_dict(i)

    def photo(self, item_id: int) -> Path:
        """The file of an item's photo."""
        with self._db.session() as s:
            i = s.get(MenuItem, item_id)
            if i is None or not i.photo:
                raise NotFound("no photo", key="not_found", what=f"#{item_id}")
            return self.photos / i.photo
