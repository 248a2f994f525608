"""The counter and after the meal: an order handed over once, at its canteen, on its day
and meal (by its code or found by name); the orders nobody collected become no-shows; old
orders (and the people in them) are forgotten once their statements are long exported."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from hub.errors import Conflict, NotFound
from hub.identity.roles import Principal
from hub.services.canteen.orders import CanteenOrders
from hub.storage.audit import record
from hub.storage.models import MealOrder, MenuItem, OrderLine


class CanteenCounter(CanteenOrders):
    """Orders, and serving them."""

    # -- the counter ------------------------------------------------------------------------
    def serve(
        self, who: Principal, canteen_id: str, *, code: str = "", order_id: int | None = None
    ) -> dict[str, Any]:
        """Hand over an order shown by its code (or found by name): once, at its canteen, on
        its day and meal. 404 for a code nobody has; 409 for one served before (saying when
        and by whom), cancelled, of another canteen, day or meal."""
        canteen = self.canteen(canteen_id)
        now = self.clock()
        code = code.strip().upper().replace("-", "").replace(" ", "")
        with self._db.session() as s:
            q = select(MealOrder)
            q = q.where(MealOrder.code == code) if code else q.where(MealOrder.id == order_id)
            o = s.scalar(q)
            if o is None or not (code or order_id):
                raise NotFound("no order with this code", key="canteen.unknown_code")
            meal = canteen.meal(o.meal)
            if o.canteen != canteen.id or meal is None:
                raise Conflict(
                    f"an order for {o.canteen}", key="canteen.wrong_canteen", canteen_id=o.canteen
                )
            opens, closes = meal.window(o.day, self.tz)
            grace = timedelta(minutes=self.settings.grace_min)
            if not opens - grace <= now <= closes + grace:
                raise Conflict(
                    f"an order for {o.day} {o.meal}",
                    key="canteen.wrong_meal",
                    day=o.day.isoformat(),
                    meal=meal.name,
                )
            if o.status == "served":
                assert o.served_at is not None
                raise Conflict(
                    f"served at {o.served_at.isoformat()} by {o.served_by}",
                    key="canteen.served",
                    served_at=o.served_at.isoformat(),
                    by=o.served_by or "",
                )
            done = s.execute(
                update(MealOrder)
                .where(MealOrder.id == o.id, MealOrder.status.in_(("ordered", "no_show")))
                .values(status="served", served_at=now, served_by=who.name)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                s.refresh(o)
                if o.status == "served":  # a second scan at the same moment lost
                    raise Conflict(
                        "served just now",
                        key="canteen.served",
                        served_at=(o.served_at or now).isoformat(),
                        by=o.served_by or "",
                    )
                raise Conflict(
                    f"the order is {o.status}", key="canteen.order_state", status_word=o.status
                )
            was_no_show = o.status == "no_show"
            lines = list(s.scalars(select(OrderLine).where(OrderLine.order_id == o.id)))
            for ln in lines:
                s.execute(
                    update(MenuItem)
                    .where(MenuItem.id == ln.item_id)
                    .values(
                        served=MenuItem.served + ln.portions,
                        no_show=MenuItem.no_show - (ln.portions if was_no_show else 0),
                    )
                )
            record(
                s,
                who.name,
                "canteen.serve",
                str(o.id),
                canteen=canteen.id,
                by="code" if code else "name",
            )
            s.flush()
            s.refresh(o)
            return self._order_dict(s, o)

    def order_now(self, canteen_id: str, username: str) -> int:
        """The id of the person's order being served now at this canteen (a staff card shown
        at the counter instead of the order's code); NotFound if they have none."""
        canteen = self.canteen(canteen_id)
        now = self.clock()
        grace = timedelta(minutes=self.settings.grace_min)
        today = now.astimezone(self.tz).date()
        with self._db.session() as s:
            q = select(MealOrder).where(
                MealOrder.username == username,
                MealOrder.canteen == canteen.id,
                MealOrder.day == today,
                MealOrder.status.in_(("ordered", "no_show", "served")),
            )
            for o in s.scalars(q):
                meal = canteen.meal(o.meal)
                if meal is not None:
                    opens, closes = meal.window(o.day, self.tz)
                    if opens - grace <= now <= closes + grace:
                        return o.id
        raise NotFound("no order of this person now", key="canteen.no_order_now")

    # -- after the meal ---------------------------------------------------------------------
    def sweep(self) -> int:
        """Orders not collected by the end of their meal (and its grace) become no-shows,
        their portions counted on the items; how many."""
        now = self.clock()
        grace = timedelta(minutes=self.settings.grace_min)
        n = 0
        with self._db.session() as s:
            open_meals = s.execute(
                select(MealOrder.canteen, MealOrder.day, MealOrder.meal)
                .where(MealOrder.status == "ordered", MealOrder.day <= self.today())
                .distinct()
            ).all()
            for canteen_id, day, meal_id in open_meals:
                canteen = self.canteens.get(canteen_id)
                meal = canteen.meal(meal_id) if canteen else None
                if meal is not None and now < meal.window(day, self.tz)[1] + grace:
                    continue
                ids = list(
                    s.scalars(
                        select(MealOrder.id).where(
                            MealOrder.canteen == canteen_id,
                            MealOrder.day == day,
                            MealOrder.meal == meal_id,
                            MealOrder.status == "ordered",
                        )
                    )
                )
                portions = s.execute(
                    select(OrderLine.item_id, func.sum(OrderLine.portions))
                    .where(OrderLine.order_id.in_(ids))
                    .group_by(OrderLine.item_id)
                ).all()
                for item_id, total in portions:
                    s.execute(
                        update(MenuItem)
                        .where(MenuItem.id == item_id)
                        .values(no_show=MenuItem.no_show + int(total))
                    )
                s.execute(
                    update(MealOrder)
                    .where(MealOrder.id.in_(ids))
                    .values(status="no_show", changed_at=now)
                )
                n += len(ids)
        return n

    def forget(self, before: date) -> int:
        """Delete the orders of days before `before` (the people in them: statements are
        exported by then); the items keep their counts."""
        with self._db.session() as s:
            old = list(s.scalars(select(MealOrder.id).where(MealOrder.day < before)))
            for i in range(0, len(old), 500):
                chunk = old[i : i + 500]
                s.execute(delete(OrderLine).where(OrderLine.order_id.in_(chunk)))
                s.execute(delete(MealOrder).where(MealOrder.id.in_(chunk)))
            return len(old)
