"""What the canteen's parts share: the site's canteens and meals, the database and its
serialised writes, the clock in the site's zone, and how a change is told to people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain import Notice
from hub.errors import Invalid, NotFound
from hub.services.booking.txn import Serialised
from hub.settings import CanteenSettings
from hub.site import Site
from hub.site.canteen import Canteen, Meal, canteens
from hub.storage import Database
from hub.storage.models import MenuItem

Announce = Callable[[Notice], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def yuan(cents: int) -> float:
    """Cents as yuan."""
    return round(cents / 100, 2)


def item_dict(i: MenuItem) -> dict[str, Any]:
    """A menu item as the API shows it, with what is left of it."""
    return {
        "id": i.id,
        "canteen": i.canteen,
        "day": i.day.isoformat(),
        "meal": i.meal,
        "name": i.name,
        "name_en": i.name_en,
        "category": i.category,
        "price": yuan(i.price_cents),
        "portions": i.portions,
        "ordered": i.ordered,
        "served": i.served,
        "no_show": i.no_show,
        "made": i.made,
        "left": None if i.portions is None else max(0, i.portions - i.ordered),
        "allergens": list(i.allergens or []),
        "photo": bool(i.photo),
        "status": i.status,
    }


class CanteenBase:
    """The site's canteens, the database, the clock."""

    def __init__(
        self,
        db: Database,
        site: Site,
        settings: CanteenSettings,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._db = db
        self.write = Serialised(db)
        self.settings = settings
        self.canteens = canteens(site)
        self.tz = ZoneInfo(site.site.timezone)
        self.clock = clock
        self.announce: Announce = lambda _n: None

    def canteen(self, canteen_id: str) -> Canteen:
        """The canteen (404 for one the site has not)."""
        c = self.canteens.get(canteen_id)
        if c is None:
            raise NotFound(f"no canteen {canteen_id!r}", key="not_found", what=canteen_id)
        return c

    def meal(self, canteen: Canteen, meal_id: str) -> Meal:
        """The canteen's meal (422 for one it does not serve)."""
        m = canteen.meal(meal_id)
        if m is None:
            raise Invalid(
                f"{canteen.id} serves no {meal_id!r}",
                field="meal",
                key="canteen.no_meal",
                canteen_id=canteen.id,
                meal=meal_id,
            )
        return m

    def today(self) -> date:
        """The site's date now."""
        return self.clock().astimezone(self.tz).date()
