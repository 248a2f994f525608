"""What the kitchen learns: live counts per item, tomorrow's production sheet, popularity over
weeks (most and least ordered, no-show and waste rates), and the month's statement per person
and work unit (what the compound's payment system needs: payment itself stays there)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from hub.services.canteen.base import CanteenBase, item_dict, yuan
from hub.storage.models import MealOrder, MenuItem, OrderLine


class Kitchen(CanteenBase):
    """Counts, sheets and reports."""

    def counts(self, canteen_id: str, day: date, meal: str | None = None) -> list[dict[str, Any]]:
        """Each item of the day (or its meal): portions, ordered, served, no-shows, left."""
        canteen = self.canteen(canteen_id)
        with self._db.session() as s:
            q = select(MenuItem).where(MenuItem.canteen == canteen.id, MenuItem.day == day)
            if meal:
                q = q.where(MenuItem.meal == meal)
            return [item_dict(i) for i in s.scalars(q.order_by(MenuItem.meal, MenuItem.id))]

    def production(self, canteen_id: str, day: date) -> dict[str, Any]:
        """The day's production sheet: per meal, each item to make (what is ordered; for an
        item without pre-orders closing yet, its planned portions), and the orders' count."""
        canteen = self.canteen(canteen_id)
        items = self.counts(canteen.id, day)
        with self._db.session() as s:
            orders = dict(
                s.execute(
                    select(MealOrder.meal, func.count())
                    .where(
                        MealOrder.canteen == canteen.id,
                        MealOrder.day == day,
                        MealOrder.status.in_(("ordered", "served", "no_show")),
                    )
                    .group_by(MealOrder.meal)
                ).all()
            )
        meals = []
        for m in canteen.meals:
            rows = [i for i in items if i["meal"] == m.id and i["status"] != "withdrawn"]
            if not rows:
                continue
            cutoff = m.cutoff(day, self.tz)
            meals.append(
                {
                    "meal": m.id,
                    "name": m.name,
                    "name_en": m.name_en,
                    "cutoff": cutoff.isoformat(),
                    "closed": self.clock() >= cutoff,
                    "orders": int(orders.get(m.id, 0)),
                    "items": [
                        {
                            "id": i["id"],
                            "name": i["name"],
                            "category": i["category"],
                            "ordered": i["ordered"],
                            "portions": i["portions"],
                            "make": i["ordered"]
                            if self.clock() >= cutoff or i["portions"] is None
                            else max(i["ordered"], i["portions"]),
                        }
                        for i in rows
                    ],
                }
            )
        return {"canteen": canteen.id, "name": canteen.name, "day": day.isoformat(), "meals": meals}

    def popularity(self, canteen_id: str, first: date, last: date) -> list[dict[str, Any]]:
        """Each dish (by name) over the days first..last: times on the menu, portions made
        (as the kitchen recorded them; else what was ordered), ordered, served, no-shows, the
        no-show rate and the waste rate (made and not collected), most ordered first."""
        canteen = self.canteen(canteen_id)
        with self._db.session() as s:
            rows = list(
                s.scalars(
                    select(MenuItem).where(
                        MenuItem.canteen == canteen.id,
                        MenuItem.day >= first,
                        MenuItem.day <= last,
                        MenuItem.status != "withdrawn",
                    )
                )
            )
        by: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"offered": 0, "made": 0, "ordered": 0, "served": 0, "no_show": 0}
        )
        for i in rows:
            d = by[i.name]
            d["offered"] += 1
            d["made"] += i.made if i.made is not None else i.ordered  # cooked, or what was ordered
            d["ordered"] += i.ordered
            d["served"] += i.served
            d["no_show"] += i.no_show
            d["category"] = i.category
        out = []
        for name, d in by.items():
            out.append(
                {
                    "name": name,
                    **d,
                    "per_day": round(d["ordered"] / d["offered"], 1),
                    "no_show_rate": round(d["no_show"] / d["ordered"], 3) if d["ordered"] else None,
                    "waste_rate": round((d["made"] - d["served"]) / d["made"], 3)
                    if d["made"]
                    else None,
                }
            )
        return sorted(out, key=lambda r: (-r["ordered"], r["name"]))

    def statement(self, month: date, by: str = "person") -> list[dict[str, Any]]:
        """The month's meals per person (or work unit): orders, portions, and the amounts of
        what was served and of the no-shows (the compound decides what it charges)."""
        first = month.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        key = MealOrder.username if by == "person" else MealOrder.unit
        with self._db.session() as s:
            rows = s.execute(
                select(
                    key,
                    MealOrder.status,
                    func.count(func.distinct(MealOrder.id)),
                    func.sum(OrderLine.portions),
                    func.sum(OrderLine.portions * OrderLine.price_cents),
                )
                .join(OrderLine, OrderLine.order_id == MealOrder.id)
                .where(
                    MealOrder.day >= first,
                    MealOrder.day < nxt,
                    MealOrder.status.in_(("served", "no_show")),
                )
                .group_by(key, MealOrder.status)
            ).all()
        out: dict[str, dict[str, Any]] = {}
        for who, status, orders, portions, cents in rows:
            name = who or "—"
            r = out.setdefault(
                name,
                {by: name, "orders": 0, "portions": 0, "served": 0.0, "no_show": 0.0, "total": 0.0},
            )
            r["orders"] += int(orders)
            r["portions"] += int(portions or 0)
            r["served" if status == "served" else "no_show"] += yuan(int(cents or 0))
            r["total"] = round(r["served"] + r["no_show"], 2)
        return sorted(out.values(), key=lambda r: str(r[by]))
