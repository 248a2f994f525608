"""Vehicle requests on SQLite and PostgreSQL: the approval chain and its wrong approvers,
dispatch without double-booking a car or a driver (also under concurrency), departure,
return with GPS kilometres and cost, the monthly settlement, the trip book."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.booking.trips import Fix
from hub.services.booking.vehicles import VehicleBookings
from hub.settings import BookingSettings
from hub.site import Site
from hub.storage import Database
from tests.support.clock import Clock

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=SH)
STAFF = Principal("staff", frozenset({Role.STAFF}), "u-office")
LEADER = Principal("leader", frozenset({Role.STAFF}), "u-office")
EDU = Principal("teacher", frozenset({Role.STAFF}), "u-edu")
DISPATCHER = Principal("dispatcher", frozenset({Role.DISPATCHER}), "u-logistics")
DRIVER = Principal("driver1", frozenset({Role.STAFF}), "u-logistics")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def straight_track(start: datetime, minutes: int) -> list[Fix]:
    """10 m/s due north, a fix every 5 s: 3 km per 5 minutes."""
    return [
        (start + timedelta(seconds=5 * i), 30.26 + 50.0 * i / 111_195.0, 120.13)
        for i in range(minutes * 12 + 1)
    ]


@pytest.fixture
def cars(db: Database, demo_site: Site, clock: Clock) -> VehicleBookings:
    async def track(vehicle: str, start: datetime, end: datetime) -> Sequence[Fix]:
        return [f for f in straight_track(at(23, 9), 30) if start <= f[0] <= end]

    svc = VehicleBookings(db, demo_site, BookingSettings(), track=track, clock=clock)
    svc.load()
    return svc


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=SH)


def ask(cars: VehicleBookings, who: Principal, hh: int, hours: int = 2, passengers: int = 2) -> int:
    r = cars.request(
        who,
        purpose="调研",
        destination="区政务中心",
        passengers=passengers,
        start=at(23, hh),
        end=at(23, hh + hours),
    )
    return int(r["id"])


def test_the_units_approver_approves_and_nobody_else_may(cars: VehicleBookings) -> None:
    rid = ask(cars, STAFF, 9)
    assert cars.get(STAFF, rid)["status"] == "pending"
    with pytest.raises(Forbidden, match="own"):
        cars.decide(STAFF, rid, approve=True)
    with pytest.raises(Forbidden, match="leader"):
        cars.decide(DISPATCHER, rid, approve=True)  # sees it, but the step is the leader's
    with pytest.raises(Conflict):
        cars.dispatch(DISPATCHER, rid, "car-1", "d1")  # not approved yet
    assert cars.decide(LEADER, rid, approve=True)["status"] == "approved"
    # who sees it: the requester, the unit's approver, dispatchers; not another unit's staff
    for who, sees in ((STAFF, True), (LEADER, True), (DISPATCHER, True), (EDU, False)):
        assert (rid in [r["id"] for r in cars.find(who)]) is sees
    edu = ask(cars, EDU, 9)  # a unit without approvers goes straight to the dispatchers
    assert cars.get(EDU, edu)["status"] == "approved"
    with pytest.raises(Invalid, match="passengers"):
        ask(cars, EDU, 9, passengers=40)


def test_a_car_or_driver_is_never_dispatched_twice_at_once(cars: VehicleBookings) -> None:
    first, second, third = (ask(cars, EDU, 9), ask(cars, EDU, 10), ask(cars, EDU, 14))
    cars.dispatch(DISPATCHER, first, "car-1", "d1")
    with pytest.raises(Conflict, match="浙A12345"):
        cars.dispatch(DISPATCHER, second, "car-1", "d2")  # overlaps 10:00-11:00 (+ buffers)
    with pytest.raises(Conflict, match="周司机"):
        cars.dispatch(DISPATCHER, second, "car-2", "d1")
    options = cars.options(DISPATCHER, second)
    assert "car-1" not in [v["id"] for v in options["vehicles"]]
    assert [d["id"] for d in options["drivers"]] == ["d2"]
    cars.dispatch(DISPATCHER, second, "car-2", "d2")
    cars.dispatch(DISPATCHER, third, "car-1", "d1")  # the afternoon is free


def test_concurrent_dispatches_of_one_car_give_it_once(cars: VehicleBookings) -> None:
    ids = [ask(cars, EDU, 9) for _ in range(10)]
    barrier = threading.Barrier(len(ids))
    won: list[int] = []

    def go(rid: int, n: int) -> None:
        barrier.wait()
        try:
            cars.dispatch(DISPATCHER, rid, "car-3", "d1" if n % 2 else "d2")
            won.append(rid)
        except Conflict:
            pass

    threads = [threading.Thread(target=go, args=(rid, n)) for n, rid in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_a_trip_is_driven_returned_costed_and_settled(cars: VehicleBookings, clock: Clock) -> None:
    rid = ask(cars, EDU, 9, hours=1)
    cars.dispatch(DISPATCHER, rid, "car-3", "d1")
    assert cars.covering("car-3", at(23, 9, 30))  # the rule sees the approved trip
    assert not cars.covering("car-3", at(23, 13))
    with pytest.raises(NotFound):
        cars.depart(STAFF, rid, 12_000)  # not theirs to see
    with pytest.raises(Forbidden):
        cars.depart(EDU, rid, 12_000)  # the requester: but the driver records departure
    clock.now = at(23, 9)
    cars.depart(DRIVER, rid, 12_000.0)
    clock.now = at(23, 9, 31)
    back = asyncio.run(cars.return_(DRIVER, rid, 12_018.5, {"tolls": 10, "parking": 5}))
    assert back["gps_km"] == pytest.approx(18.0, rel=0.01)  # 30 minutes at 10 m/s
    assert back["trip"]["deviation"] == pytest.approx(0.028, abs=0.01)
    assert not back["trip"]["flagged"]
    assert back["cost"] == pytest.approx(18.5 * 1.2 + 20 + 15)  # car-3: 1.2/km + 20 fixed
    month = cars.settlement("2026-11")
    (trip,) = month["trips"]
    assert (trip["request"], trip["vehicle"], trip["driver"]) == (rid, "浙AD34567", "周司机")
    (unit,) = month["units"]
    assert (unit["unit"], unit["trips"], unit["cost"]) == ("u-edu", 1, back["cost"])
    assert cars.settle(DISPATCHER, "2026-11")["trips"][0]["status"] == "settled"


async def test_the_unauthorised_use_rule_reads_dispatched_trips_from_the_bookings(
    cars: VehicleBookings, clock: Clock, db: Database, demo_site: Site
) -> None:
    from hub.domain import PositionFix, SubjectKind
    from hub.services.alarms import AlarmService, SqlRuleStateStore
    from hub.site.rules import VehicleUseRule
    from rules.engine import RuleEngine

    rid = ask(cars, EDU, 9, hours=2)
    cars.dispatch(DISPATCHER, rid, "car-1", "d1")  # car-1 has a trip 08:45-11:15 (buffers)
    site = demo_site.model_copy(
        update={"rules": [VehicleUseRule(id="use", kind="vehicle_use", grace_s=60)]}
    )
    alarms = AlarmService(db)
    engine = RuleEngine(site, SqlRuleStateStore(db), alarms, clock=clock, trips=cars)
    engine.load()
    out_in_town = (30.2700, 120.1500)
    for minute in range(0, 5):
        clock.now = at(23, 9, minute)
        await engine.handle(
            [
                PositionFix(
                    car, SubjectKind.VEHICLE, clock.now, "gps", *out_in_town, speed_mps=12.0
                )
                for car in ("car-1", "car-2")
            ]
        )
    # car-1 drives on its dispatched trip; car-2 has none
    assert [a["originator"] for a in alarms.list(active=True)] == ["car-2"]


def test_a_request_is_seen_only_by_those_it_concerns(cars: VehicleBookings) -> None:
    rid = ask(cars, STAFF, 9)
    with pytest.raises(NotFound):
        cars.get(EDU, rid)  # another unit's staff: as if it did not exist
    with pytest.raises(NotFound):
        cars.cancel(EDU, rid)
    with pytest.raises(NotFound):
        cars.decide(EDU, rid, approve=True)
    cars.decide(LEADER, rid, approve=True)
    with pytest.raises(NotFound):
        cars.get(DRIVER, rid)
    cars.dispatch(DISPATCHER, rid, "car-1", "d1")
    assert cars.get(DRIVER, rid)["driver_id"] == "d1"  # the driver sees the trip they drive


def test_nobody_approves_their_own_request(cars: VehicleBookings) -> None:
    own = ask(cars, LEADER, 9)  # the unit's only approver asks
    assert cars.get(LEADER, own)["status"] == "pending"  # not approved by asking
    with pytest.raises(Forbidden, match="own"):
        cars.decide(LEADER, own, approve=True)
    admin_leader = Principal("leader", frozenset({Role.ADMIN}), "u-office")
    with pytest.raises(Forbidden, match="own"):
        cars.decide(admin_leader, own, approve=True)
    admin = Principal("root", frozenset({Role.ADMIN}), "u-office")
    assert cars.decide(admin, own, approve=True)["status"] == "approved"


def test_each_step_tells_the_people_it_concerns(cars: VehicleBookings) -> None:
    told: list[Notice] = []
    cars.announce = told.append
    rid = ask(cars, STAFF, 9)
    cars.decide(LEADER, rid, approve=True)
    cars.dispatch(DISPATCHER, rid, "car-1", "d1")
    assert [(n.topic, n.notify) for n in told] == [
        ("vehicle.waiting", ("leader",)),  # the unit's approver, asked
        ("vehicle.approved", ("staff",)),
        ("vehicle.dispatched", ("staff",)),
        ("vehicle.trip", ("driver1",)),  # the driver's trip
    ]
    assert told[0].subject == f"【待审批】用车申请 #{rid}：区政务中心 11-23 09:00"
    assert "司机 周司机" in told[2].body
    assert all(n.link == "/vehicles.html" for n in told)
    told.clear()
    other = ask(cars, STAFF, 13)
    cars.decide(LEADER, other, approve=False, note="当天无车")
    assert [(n.topic, n.notify, n.body) for n in told][-1] == (
        "vehicle.rejected",
        ("staff",),
        "当天无车",
    )
