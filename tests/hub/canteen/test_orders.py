"""The canteen on SQLite and PostgreSQL: a limit never oversold under a rush, cut-offs and
quotas, changing and cancelling, pickup once, no-shows after the meal, a withdrawn dish
telling those who ordered it, and what the kitchen learns."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.domain import Notice
from hub.errors import Conflict, HubError, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.canteen import CanteenCounter, CanteenMenu, ItemIn, Kitchen, openmensa
from hub.services.canteen.orders import Basket
from hub.settings import CanteenSettings
from hub.site import Site
from hub.site.canteen import canteens
from hub.storage import Database
from tests.support.clock import Clock

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=SH)  # Monday 08:00
MONDAY = date(2026, 12, 7)
COOK = Principal("cook", frozenset({Role.CANTEEN}), "u-logistics")
STAFF = Principal("staff", frozenset({Role.STAFF}), "u-office")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def parts(
    db: Database, demo_site: Site, clock: Clock
) -> tuple[CanteenMenu, CanteenCounter, Kitchen]:
    s = CanteenSettings()
    return (
        CanteenMenu(db, demo_site, s, clock=clock),
        CanteenCounter(db, demo_site, s, clock=clock),
        Kitchen(db, demo_site, s, clock=clock),
    )


def lunch(menu: CanteenMenu, *dishes: tuple[str, int | None], day: date = MONDAY) -> list[int]:
    items = [ItemIn(day=day, meal="lunch", name=n, price_cents=1200, portions=p) for n, p in dishes]
    return [i["id"] for i in menu.publish(COOK, "main", items)]


def test_a_hundred_people_for_the_last_ten_portions_give_exactly_ten_orders(
    parts: tuple[CanteenMenu, CanteenCounter, Kitchen],
) -> None:
    menu, orders, kitchen = parts
    (pork,) = lunch(menu, ("红烧肉", 10))
    barrier = threading.Barrier(100)
    won: list[int] = []
    refused: list[str] = []

    def ask(n: int) -> None:
        who = Principal(f"user{n}", frozenset({Role.STAFF}), "u-edu")
        barrier.wait()
        try:
            won.append(orders.order(who, "main", MONDAY, "lunch", {pork: 1})["id"])
        except Conflict as err:
            refused.append(err.key)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 10
    assert len(refused) == 90
    assert set(refused) <= {"canteen.sold_out", "taken_meanwhile"}
    (item,) = kitchen.counts("main", MONDAY, "lunch")
    assert (item["ordered"], item["left"]) == (10, 0)


def test_a_rush_ordered_together_commits_the_good_baskets_and_refuses_each_bad_one_alone(
    parts: tuple[CanteenMenu, CanteenCounter, Kitchen],
) -> None:
    """The API's path: baskets arriving at once are ordered in shared transactions (group
    commit), each in its own savepoint — a sold-out, over-quota or foreign dish undoes only its
    own basket, and a person ordering twice in one batch changes their one order."""
    menu, orders, kitchen = parts
    pork, rice = lunch(menu, ("红烧肉", 10), ("米饭", None))
    people = [Principal(f"user{n}", frozenset({Role.STAFF}), "u-edu") for n in range(100)]
    baskets = [Basket(p, "main", MONDAY, "lunch", {pork: 1, rice: 1}) for p in people]
    baskets.insert(50, Basket(people[0], "main", MONDAY, "lunch", {rice: 1}))  # changes her mind
    baskets.insert(20, Basket(STAFF, "main", MONDAY, "lunch", {rice: 9}))  # over the quota
    baskets.insert(30, Basket(STAFF, "main", MONDAY, "lunch", {999: 1}))  # no such dish

    async def together() -> list[dict[str, object] | BaseException]:
        asks = [orders.queue.submit(b) for b in baskets]
        return await asyncio.gather(*asks, return_exceptions=True)

    answers = asyncio.run(together())
    assert orders.queue.batches < len(baskets)  # they shared transactions
    refused = [a.key for a in answers if isinstance(a, HubError)]
    assert sorted(refused) == sorted(
        ["canteen.quota", "canteen.not_on_menu"] + ["canteen.sold_out"] * 89
    )
    pork_count, rice_count = kitchen.counts("main", MONDAY, "lunch")
    # ten baskets held the ten portions; the first person then kept rice only, and the next
    # in the queue had her portion: 11 people ordered, the limit held
    assert (pork_count["ordered"], pork_count["left"]) == (10, 0)
    assert rice_count["ordered"] == 11
    first = [a for a in answers if isinstance(a, dict) and a["username"] == "user0"]
    assert [[ln["name"] for ln in a["lines"]] for a in first] == [["红烧肉", "米饭"], ["米饭"]]  # type: ignore[union-attr]


def test_orders_change_and_cancel_until_the_cut_off_within_the_quota(
    parts: tuple[CanteenMenu, CanteenCounter, Kitchen], clock: Clock
) -> None:
    menu, orders, kitchen = parts
    rice, fish = lunch(menu, ("米饭", None), ("清蒸鱼", 5))
    o = orders.order(STAFF, "main", MONDAY, "lunch", {rice: 1, fish: 2})
    assert (o["status"], o["total"], len(o["code"])) == ("ordered", 36.0, 10)
    again = orders.order(STAFF, "main", MONDAY, "lunch", {fish: 1})  # changed: one fish
    assert again["id"] == o["id"]
    assert [(ln["name"], ln["portions"]) for ln in again["lines"]] == [("清蒸鱼", 1)]
    assert kitchen.counts("main", MONDAY, "lunch")[1]["ordered"] == 1
    with pytest.raises(Invalid) as over:
        orders.order(STAFF, "main", MONDAY, "lunch", {rice: 3, fish: 2})  # 4 a person
    assert over.value.key == "canteen.quota"
    orders.cancel(STAFF, o["id"])
    assert orders.mine(STAFF) == []
    assert kitchen.counts("main", MONDAY, "lunch")[1]["ordered"] == 0
    renewed = orders.order(STAFF, "main", MONDAY, "lunch", {fish: 1})
    assert renewed["code"] != o["code"]  # a code shown before the cancellation is void
    clock.now = datetime(2026, 12, 7, 9, 0, tzinfo=SH)  # lunch orders close at 09:00
    with pytest.raises(Conflict) as late:
        orders.order(STAFF, "main", MONDAY, "lunch", {fish: 2})
    assert late.value.key == "canteen.closed"
    with pytest.raises(Conflict):
        orders.cancel(STAFF, renewed["id"])


def test_bad_menus_and_orders_are_refused_whole(
    parts: tuple[CanteenMenu, CanteenCounter, Kitchen],
) -> None:
    menu, orders, kitchen = parts
    with pytest.raises(Invalid) as price:
        menu.publish(
            COOK,
            "main",
            [
                ItemIn(day=MONDAY, meal="lunch", name="好菜", price_cents=800),
                ItemIn(day=MONDAY, meal="lunch", name="坏价", price_cents=-1),
            ],
        )
    assert price.value.key == "canteen.price"
    with pytest.raises(Invalid) as past:
        menu.publish(
            COOK, "main", [ItemIn(day=MONDAY - timedelta(days=1), meal="lunch", name="昨天")]
        )
    assert past.value.key == "canteen.day_over"
    assert kitchen.counts("main", MONDAY) == []  # nothing half-written
    (dinner,) = [
        i["id"]
        for i in menu.publish(
            COOK, "main", [ItemIn(day=MONDAY, meal="dinner", name="面条", price_cents=900)]
        )
    ]
    with pytest.raises(Invalid) as other_meal:
        orders.order(STAFF, "main", MONDAY, "lunch", {dinner: 1})
    assert other_meal.value.key == "canteen.not_on_menu"


def test_the_counter_serves_once_and_the_rest_are_no_shows(
    parts: tuple[CanteenMenu, CanteenCounter, Kitchen], clock: Clock
) -> None:
    menu, orders, kitchen = parts  # and what the kitchen cooked tells the waste
    (noodles,) = lunch(menu, ("牛肉面", 20))
    eats = orders.order(STAFF, "main", MONDAY, "lunch", {noodles: 1})
    other = Principal("li", frozenset({Role.STAFF}), "u-finance")
    forgets = orders.order(other, "main", MONDAY, "lunch", {noodles: 2})
    with pytest.raises(Conflict) as early:  # breakfast time: not the lunch counter yet
        orders.serve(COOK, "main", code=eats["code"])
    assert early.value.key == "canteen.wrong_meal"
    clock.now = datetime(2026, 12, 7, 11, 40, tzinfo=SH)
    served = orders.serve(COOK, "main", code=eats["code"].lower())  # read aloud, typed
    assert (served["status"], served["served_by"]) == ("served", "cook")
    with pytest.raises(Conflict) as twice:
        orders.serve(COOK, "main", code=eats["code"])
    assert twice.value.key == "canteen.served"
    assert twice.value.params["by"] == "cook"
    with pytest.raises(NotFound):
        orders.serve(COOK, "main", code="ABCDEFGHJK")
    clock.now = datetime(2026, 12, 7, 13, 40, tzinfo=SH)  # lunch over, and its grace
    assert orders.sweep() == 1
    (item,) = kitchen.counts("main", MONDAY, "lunch")
    assert (item["ordered"], item["served"], item["no_show"]) == (3, 1, 2)
    assert orders.mine(other)[0]["status"] == "no_show"
    (row,) = kitchen.popularity("main", MONDAY, MONDAY)
    assert (row["name"], row["no_show_rate"], row["waste_rate"]) == ("牛肉面", 0.667, 0.667)
    menu.change(COOK, noodles, made=5)  # the kitchen cooked five: four were not eaten
    (row,) = kitchen.popularity("main", MONDAY, MONDAY)
    assert (row["made"], row["waste_rate"]) == (5, 0.8)
    people = {r["person"]: r for r in kitchen.statement(MONDAY, "person")}
    assert (people["staff"]["served"], people["li"]["no_show"]) == (12.0, 24.0)
    units = {r["unit"]: r["portions"] for r in kitchen.statement(MONDAY, "unit")}
    assert units == {"u-office": 1, "u-finance": 2}
    assert forgets["id"] != eats["id"]


def test_a_withdrawn_dish_leaves_the_orders_and_its_people_are_told(
    parts: tuple[CanteenMenu, CanteenCounter, Kitchen],
) -> None:
    menu, orders, kitchen = parts
    told: list[Notice] = []
    menu.announce = told.append
    soup, rice = lunch(menu, ("西湖牛肉羹", 30), ("米饭", None))
    o = orders.order(STAFF, "main", MONDAY, "lunch", {soup: 1, rice: 1})
    only_soup = Principal("wu", frozenset({Role.STAFF}), "u-edu")
    orders.order(only_soup, "main", MONDAY, "lunch", {soup: 2})
    menu.set_status(COOK, soup, "withdrawn", "原料未到")
    (notice,) = told
    assert notice.notify == ("staff", "wu")
    assert "西湖牛肉羹" in notice.subject
    assert "已撤下" in notice.subject
    mine = orders.mine(STAFF)
    assert [ln["name"] for ln in mine[0]["lines"]] == ["米饭"]
    assert orders.mine(only_soup) == []  # nothing left: the order is cancelled
    assert kitchen.counts("main", MONDAY, "lunch")[0]["ordered"] == 0
    with pytest.raises(Conflict) as gone:
        orders.order(STAFF, "main", MONDAY, "lunch", {soup: 1, rice: 1})
    assert gone.value.key == "canteen.item_off"
    assert o["id"] == mine[0]["id"]


def test_last_weeks_menu_copies_to_next_week_and_feeds_openmensa(
    parts: tuple[CanteenMenu, CanteenCounter, Kitchen], demo_site: Site
) -> None:
    menu, _, _ = parts
    lunch(menu, ("宫保鸡丁", 40))
    menu.publish(
        COOK,
        "main",
        [
            ItemIn(
                day=MONDAY + timedelta(days=2),
                meal="breakfast",
                name="豆浆",
                category="drink",
                price_cents=150,
                allergens=["大豆"],
            )
        ],
    )
    copied = menu.copy_week(COOK, "main", MONDAY, MONDAY + timedelta(days=7))
    assert sorted(i["day"] for i in copied) == ["2026-12-14", "2026-12-16"]
    assert all(i["ordered"] == 0 for i in copied)
    with pytest.raises(Conflict):
        menu.copy_week(COOK, "main", MONDAY, MONDAY + timedelta(days=7))
    xml = openmensa(canteens(demo_site)["main"], menu.week("main", MONDAY)).decode()
    assert xml.startswith("<?xml")
    assert 'xmlns="http://openmensa.org/open-mensa-v2"' in xml
    assert 'version="2.1"' in xml
    assert '<day date="2026-12-07"><category name="午餐 · 菜品"><meal><name>宫保鸡丁</name>' in xml
    assert '<note>含大豆</note><price role="employee">1.50</price>' in xml
