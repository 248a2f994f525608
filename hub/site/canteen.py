"""Canteens in the site file: each with its meals — when they are served, until when they can
be ordered, how many portions a person may order — for the week's menu and pre-orders
(docs/canteen.md).

canteens:
  - id: main
    name: 机关食堂
    building: b3
    meals:
      - {id: breakfast, name: 早餐, serve: "07:00-08:30", order_by: "20:00", day_before: true}
      - {id: lunch, name: 午餐, serve: "11:30-13:00", order_by: "09:00", per_person: 3}
      - {id: takeaway, name: 外卖窗口, serve: "16:30-18:30", order_by: "14:00", per_person: 5}
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Annotated, cast
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, field_validator

from hub.site.base import Id, Item, Name, Ref
from hub.site.geo import Strict
from hub.site.hours import check_hours, parse_hours
from hub.site.model import SECTIONS, Site


def _clock(value: str) -> str:
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValueError("a time of day, HH:MM") from None
    return value


class Meal(Strict):
    """A meal a canteen serves: its serving hours and its ordering cut-off."""

    id: Id
    name: Name
    name_en: Name | None = None
    serve: Annotated[str, AfterValidator(check_hours)]  # "11:30-13:00", site time
    order_by: Annotated[str, AfterValidator(_clock)]  # the cut-off, "09:00"
    day_before: bool = False  # the cut-off is on the day before the meal
    per_person: Annotated[int, Field(ge=1, le=50)] | None = None  # portions per person

    def cutoff(self, day: date, tz: ZoneInfo) -> datetime:
        """When ordering for this meal on `day` closes."""
        on = day - timedelta(days=1) if self.day_before else day
        return datetime.combine(on, time.fromisoformat(self.order_by), tz)

    def window(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """When the meal is served on `day`."""
        opens, closes = parse_hours(self.serve)
        return datetime.combine(day, opens, tz), datetime.combine(day, closes, tz)


class Canteen(Item):
    """A canteen and the meals it serves."""

    name: Name
    name_en: Name | None = None
    building: Id | None = None
    meals: list[Meal] = Field(min_length=1)

    @field_validator("meals")
    @classmethod
    def _distinct(cls, meals: list[Meal]) -> list[Meal]:
        ids = [m.id for m in meals]
        if len(set(ids)) != len(ids):
            raise ValueError("each meal once")
        return meals

    def meal(self, meal_id: str) -> Meal | None:
        """The meal of that id."""
        return next((m for m in self.meals if m.id == meal_id), None)

    def refs(self) -> Iterator[Ref]:
        if self.building:
            yield "building", "buildings", self.building


def canteens(site: Site) -> dict[str, Canteen]:
    """The site's canteens by id."""
    return {c.id: cast(Canteen, c) for c in site.section("canteens")}


SECTIONS["canteens"] = Canteen
Site.counted = (*Site.counted, "canteens")
