"""Staff's orders for a meal: set what one eats (the basket, changed or cancelled until the
meal's cut-off), portions held atomically so a limit is never oversold — the item's counter
moves in one UPDATE that the database refuses past the limit (a CHECK constraint besides),
on SQLite and PostgreSQL alike — and quotas per person; pickup at the counter by the order's
code or the person's name, once; no-shows after the meal."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from hub.errors import Conflict, HubError, Invalid, NotFound
from hub.identity.roles import Principal
from hub.services.canteen.base import CanteenBase, item_dict, yuan
from hub.services.groupcommit import GroupCommit
from hub.site.canteen import Canteen, Meal
from hub.storage.audit import record
from hub.storage.models import MealOrder, MenuItem, OrderLine

CODE_CHARS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud at the counter


# The rush's statements, built once (building one costs as much as running it on SQLite)
_TAKE = (
    update(MenuItem)
    .where(
        MenuItem.id == bindparam("take_id"),
        MenuItem.status == "on",
        (MenuItem.portions.is_(None))
        | (MenuItem.ordered + bindparam("take_n") <= MenuItem.portions),
    )
    .values(ordered=MenuItem.ordered + bindparam("take_n"))
    .execution_options(synchronize_session=False)
)
_GIVE_BACK = (
    update(MenuItem)
    .where(MenuItem.id == bindparam("back_id"))
    .values(ordered=MenuItem.ordered + bindparam("back_n"))
    .execution_options(synchronize_session=False)
)
_ITEMS = select(MenuItem).where(MenuItem.id.in_(bindparam("ids", expanding=True)))
_ORDER = select(MealOrder).where(
    MealOrder.canteen == bindparam("canteen"),
    MealOrder.day == bindparam("day"),
    MealOrder.meal == bindparam("meal"),
    MealOrder.username == bindparam("username"),
)
_LINES = select(OrderLine).where(OrderLine.order_id == bindparam("order_id"))


def new_code() -> str:
    """A pickup code: 10 characters, about 49 bits."""
    return "".join(secrets.choice(CODE_CHARS) for _ in range(10))


@dataclass(frozen=True, slots=True)
class Basket:
    """What one person orders for one meal: item id -> portions (none: cancel the order)."""

    who: Principal
    canteen_id: str
    day: date
    meal_id: str
    lines: Mapping[int, int]


class CanteenOrders(CanteenBase):
    """Orders: set, cancel, list; serve at the counter; no-shows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the lunchtime rush: baskets arriving together are ordered in one transaction
        self.queue: GroupCommit[Basket, dict[str, Any]] = GroupCommit(
            self.order_many, name="canteen"
        )

    # -- ordering ---------------------------------------------------------------------------
    def order(
        self,
        who: Principal,
        canteen_id: str,
        day: date,
        meal_id: str,
        lines: Mapping[int, int],
    ) -> dict[str, Any]:
        """Make the person's order for this meal exactly `lines` (item id -> portions; none:
        cancel it). 409 after the cut-off, for an item gone or sold out, past a limit; 422
        over the meal's quota or for an item of another meal."""
        (result,) = self.order_many([Basket(who, canteen_id, day, meal_id, lines)])
        if isinstance(result, Exception):
            raise result
        return result

    def order_many(self, baskets: list[Basket]) -> list[dict[str, Any] | Exception]:
        """Baskets in one transaction (group commit: `queue`), each in a savepoint of its
        own, in order, each seeing the ones before: a refused one (sold out, closed, over
        quota) is undone alone and answered with its error. Should the transaction fail,
        each is tried on its own, so one cannot sink the rest."""
        now = self.clock()
        results: list[dict[str, Any] | Exception] = []
        ready: list[tuple[int, tuple[Canteen, Meal, dict[int, int]]]] = []
        for i, basket in enumerate(baskets):
            try:
                ready.append((i, self._checked(basket, now)))
                results.append(NotFound("not ordered"))  # replaced below
            except HubError as err:
                results.append(err)
        if not ready:
            return results
        try:
            with self.write("the portions") as s:
                for i, (canteen, meal, wanted) in ready:
                    try:
                        with s.begin_nested():
                            results[i] = self._order_in(s, baskets[i], canteen, meal, wanted, now)
                    except HubError as err:
                        results[i] = err
        except Exception as err:
            if len(ready) == 1:
                results[ready[0][0]] = err
                return results
            for i, _ in ready:  # one by one: a failure stays with its own basket
                results[i] = self.order_many([baskets[i]])[0]
        return results

    def _checked(self, b: Basket, now: datetime) -> tuple[Canteen, Meal, dict[int, int]]:
        """The canteen, meal and portions wanted, once what needs no database is checked."""
        canteen = self.canteen(b.canteen_id)
        meal = self.meal(canteen, b.meal_id)
        day, lines = b.day, b.lines
        wanted = {int(i): int(n) for i, n in lines.items() if int(n) != 0}
        if any(n < 0 or n > 50 for n in wanted.values()):
            raise Invalid("portions are 1 to 50", field="lines", key="canteen.portions")
        if day < self.today():
            raise Invalid(f"{day} is over", field="day", key="canteen.day_over", day=str(day))
        cutoff = meal.cutoff(day, self.tz)
        if now >= cutoff:
            raise Conflict(
                f"orders for {day} {meal.id} closed at {cutoff:%Y-%m-%d %H:%M}",
                key="canteen.closed",
                meal=meal.name,
                cutoff_when=cutoff.isoformat(),
            )
        if meal.per_person is not None and sum(wanted.values()) > meal.per_person:
            raise Invalid(
                f"{meal.per_person} portions a person for {meal.id}",
                field="lines",
                key="canteen.quota",
                meal=meal.name,
                n=meal.per_person,
            )
        return canteen, meal, wanted

    def _order_in(
        self,
        s: Session,
        b: Basket,
        canteen: Canteen,
        meal: Meal,
        wanted: dict[int, int],
        now: datetime,
    ) -> dict[str, Any]:
        """One basket inside the transaction: portions held, the order and its lines set."""
        who, day = b.who, b.day
        items = {i.id: i for i in s.scalars(_ITEMS, {"ids": list(wanted)})} if wanted else {}
        for item_id in wanted:
            i = items.get(item_id)
            if i is None or (i.canteen, i.day, i.meal) != (canteen.id, day, meal.id):
                raise Invalid(
                    f"item {item_id} is not on {canteen.id}'s {day} {meal.id}",
                    field="lines",
                    key="canteen.not_on_menu",
                )
        order = s.scalar(
            _ORDER, {"canteen": canteen.id, "day": day, "meal": meal.id, "username": who.name}
        )
        held = {}
        if order is not None and order.status == "ordered":
            held = {ln.item_id: ln for ln in s.scalars(_LINES, {"order_id": order.id})}
        elif order is not None and order.status != "cancelled":
            raise Conflict(
                f"the order is {order.status}",
                key="canteen.order_state",
                status_word=order.status,
            )
        # the counters move item by item, in id order (two baskets never wait on each other)
        for item_id in sorted(set(wanted) | set(held)):
            delta = wanted.get(item_id, 0) - (held[item_id].portions if item_id in held else 0)
            if delta > 0:
                self._take(s, items[item_id], delta)
            elif delta < 0:
                s.execute(_GIVE_BACK, {"back_id": item_id, "back_n": delta})
        if order is None:
            if not wanted:
                raise NotFound("no order to cancel", key="canteen.no_order")
            order = MealOrder(
                canteen=canteen.id,
                day=day,
                meal=meal.id,
                username=who.name,
                unit=who.work_unit,
                code=new_code(),
                status="ordered",
                created_at=now,
                changed_at=now,
            )
            s.add(order)
            s.flush()
        for item_id, line in held.items():
            if item_id not in wanted:
                s.delete(line)
            else:
                line.portions = wanted[item_id]
        kept = [(ln, items[i]) for i, ln in held.items() if i in wanted]
        for item_id, n in wanted.items():
            if item_id not in held:
                line = OrderLine(
                    order_id=order.id,
                    item_id=item_id,
                    portions=n,
                    price_cents=items[item_id].price_cents,
                )
                s.add(line)
                kept.append((line, items[item_id]))
        if wanted and order.status == "cancelled":
            order.code = new_code()  # a code shown before the cancellation is void
        order.status = "ordered" if wanted else "cancelled"
        order.changed_at = now
        record(
            s,
            who.name,
            "canteen.order" if wanted else "canteen.cancel",
            str(order.id),
            canteen=canteen.id,
            day=str(day),
            meal=meal.id,
            lines={str(k): v for k, v in wanted.items()},
        )
        s.flush()
        return self._as_dict(order, kept)  # from the transaction's own objects

    def _take(self, s: Session, item: MenuItem, n: int) -> None:
        """Hold n more portions of the item, or 409: it is not on, or not that many are left."""
        taken = s.execute(_TAKE, {"take_id": item.id, "take_n": n})
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            s.refresh(item)
            if item.status != "on":
                raise Conflict(
                    f"{item.name} is {item.status}",
                    key="canteen.item_off",
                    name=item.name,
                    status_word=item.status,
                )
            left = max(0, (item.portions or 0) - item.ordered)
            raise Conflict(
                f"{item.name}: {left} portions left",
                key="canteen.sold_out",
                name=item.name,
                left=left,
            )

    def cancel(self, who: Principal, order_id: int) -> dict[str, Any]:
        """Cancel the person's order (until its cut-off)."""
        with self._db.session() as s:
            o = s.get(MealOrder, order_id)
            if o is None or o.username != who.name:
                raise NotFound(f"no order {order_id}", key="not_found", what=f"#{order_id}")
            canteen, day, meal = o.canteen, o.day, o.meal
        return self.order(who, canteen, day, meal, {})

    # -- reading ----------------------------------------------------------------------------
    def _order_dict(self, s: Session, o: MealOrder) -> dict[str, Any]:
        rows = s.execute(
            select(OrderLine, MenuItem)
            .join(MenuItem, MenuItem.id == OrderLine.item_id)
            .where(OrderLine.order_id == o.id)
        ).all()
        return self._as_dict(o, [(ln, it) for ln, it in rows])

    def _as_dict(self, o: MealOrder, rows: list[tuple[OrderLine, MenuItem]]) -> dict[str, Any]:
        """An order as its owner and the counter see it, with its lines in the menu's order."""
        rows = sorted(rows, key=lambda r: r[1].id)
        canteen = self.canteens.get(o.canteen)
        meal = canteen.meal(o.meal) if canteen else None
        cutoff = meal.cutoff(o.day, self.tz) if meal else None
        return {
            "id": o.id,
            "canteen": o.canteen,
            "day": o.day.isoformat(),
            "meal": o.meal,
            "username": o.username,
            "unit": o.unit,
            "status": o.status,
            "code": o.code if o.status == "ordered" else None,
            "cutoff": cutoff.isoformat() if cutoff else None,
            "changeable": bool(cutoff and o.status == "ordered" and self.clock() < cutoff),
            "served_at": o.served_at.isoformat() if o.served_at else None,
            "served_by": o.served_by,
            "lines": [
                {
                    "item_id": it.id,
                    "name": it.name,
                    "name_en": it.name_en,
                    "portions": ln.portions,
                    "price": yuan(ln.price_cents),
                }
                for ln, it in rows
            ],
            "total": yuan(sum(ln.portions * ln.price_cents for ln, _ in rows)),
        }

    def next_open(self) -> dict[str, Any] | None:
        """The next meal still open for ordering in the coming week (of the first canteen
        with a menu), with its dishes and what is left of each: the home's canteen card."""
        now = self.clock()
        today = self.today()
        with self._db.session() as s:
            rows = list(
                s.scalars(
                    select(MenuItem)
                    .where(
                        MenuItem.day >= today,
                        MenuItem.day <= today + timedelta(days=7),  # next week's same day too
                        MenuItem.status != "withdrawn",
                    )
                    .order_by(MenuItem.day, MenuItem.id)
                )
            )
        for canteen in self.canteens.values():
            for day in sorted({r.day for r in rows if r.canteen == canteen.id}):
                for meal in canteen.meals:
                    cutoff = meal.cutoff(day, self.tz)
                    at = (canteen.id, day, meal.id)
                    dishes = [r for r in rows if (r.canteen, r.day, r.meal) == at]
                    if dishes and now < cutoff:
                        return {
                            "canteen": canteen.id,
                            "day": day.isoformat(),
                            "meal": meal.id,
                            "name": meal.name,
                            "name_en": meal.name_en,
                            "cutoff": cutoff.isoformat(),
                            "items": [item_dict(r) for r in dishes],
                        }
        return None

    def waiting(self, day: date) -> int:
        """How many orders of the day wait to be collected (every canteen)."""
        with self._db.session() as s:
            n = s.scalar(
                select(func.count()).where(MealOrder.day == day, MealOrder.status == "ordered")
            )
            return int(n or 0)

    def mine(self, who: Principal, since: date | None = None) -> list[dict[str, Any]]:
        """The person's orders from `since` (default: today) on, soonest first."""
        since = since or self.today()
        with self._db.session() as s:
            q = select(MealOrder).where(
                MealOrder.username == who.name,
                MealOrder.day >= since,
                MealOrder.status != "cancelled",
            )
            return [
                self._order_dict(s, o) for o in s.scalars(q.order_by(MealOrder.day, MealOrder.id))
            ]

    def find(self, canteen_id: str, day: date, meal_id: str, q: str = "") -> list[dict[str, Any]]:
        """The meal's open and served orders (the counter's list; `q`: a name's start)."""
        canteen = self.canteen(canteen_id)
        with self._db.session() as s:
            query = select(MealOrder).where(
                MealOrder.canteen == canteen.id,
                MealOrder.day == day,
                MealOrder.meal == meal_id,
                MealOrder.status.in_(("ordered", "served")),
            )
            if q:
                query = query.where(MealOrder.username.startswith(q, autoescape=True))
            return [
                self._order_dict(s, o)
                for o in s.scalars(query.order_by(MealOrder.username).limit(200))
            ]
