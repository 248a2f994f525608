"""The canteen: the week's menu, staff's pre-orders, pickup at the counter, and what the
kitchen learns (docs/canteen.md); assembled for the hub by `assemble`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from hub.services.assembly import Part, Shared
from hub.services.canteen.counter import CanteenCounter
from hub.services.canteen.feed import openmensa
from hub.services.canteen.kitchen import Kitchen
from hub.services.canteen.menu import CATEGORIES, CanteenMenu, ItemIn
from hub.services.canteen.orders import CanteenOrders
from hub.tasks import Periodic

__all__ = [
    "CATEGORIES",
    "Canteen",
    "CanteenCounter",
    "CanteenMenu",
    "CanteenOrders",
    "ItemIn",
    "Kitchen",
    "assemble",
    "openmensa",
]


@dataclass(frozen=True)
class Canteen:
    """The canteen's three parts."""

    menu: CanteenMenu
    orders: CanteenCounter
    kitchen: Kitchen


def assemble(shared: Shared) -> Part[Canteen]:
    """The menu, the orders and the kitchen; the job counting no-shows after each meal and
    forgetting old orders (their people) once the statements are long exported."""
    c = shared.settings.canteen
    menu = CanteenMenu(shared.db, shared.site, c)
    menu.photos = shared.settings.data_dir / "canteen"
    orders = CanteenCounter(shared.db, shared.site, c)
    kitchen = Kitchen(shared.db, shared.site, c)
    menu.announce = orders.announce = shared.announce

    async def sweep() -> int:
        done = await asyncio.to_thread(orders.sweep)
        keep = orders.today() - timedelta(days=31 * c.keep_months)
        return done + await asyncio.to_thread(orders.forget, keep)

    return Part(Canteen(menu, orders, kitchen), singletons=[Periodic("canteen", c.sweep_s, sweep)])
