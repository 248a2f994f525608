"""The rules engine with the hub's real alarm book and rule-state store (SQLite), on a virtual
clock: one alarm per fault however it flaps, restarts mid-condition, a failing rule isolated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.domain import AlarmEvent, DeviceStatus, PositionFix, Reading, SubjectKind
from hub.services.alarms import AlarmService, SqlRuleStateStore
from hub.site import Site
from hub.site.rules import EquipmentFaultRule, GeofenceRule, ThresholdRule
from hub.storage import Database, upgrade
from rules.engine import RuleEngine
from rules.memory import MemoryAlarmBook

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
OUTSIDE = (30.40, 120.40)  # well outside the demo's district fence
INSIDE = (30.2600, 120.1300)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.from_url(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(database.engine)
    yield database
    database.close()


@pytest.fixture
def site(demo_site: Site) -> Site:
    rules = [
        EquipmentFaultRule(id="faults", kind="equipment_fault", clear_after_s=60),
        GeofenceRule(
            id="leave", kind="geofence", fence="gf-district", subjects=["vehicle"], dwell_s=30
        ),
        ThresholdRule(id="hot", kind="threshold", point="ahu-b2.supply_temp", above=30),
    ]
    return demo_site.model_copy(update={"rules": rules})


class Rig:
    def __init__(self, site: Site, db: Database, clock: Clock) -> None:
        self.notified: list[AlarmEvent] = []
        self.alarms = AlarmService(db, notify=self.notified.append)
        self.clock = clock
        self.engine = RuleEngine(site, SqlRuleStateStore(db), self.alarms, clock=clock)
        self.engine.load()

    async def status(self, fault: bool, device: str = "ahu-b2") -> None:
        await self.engine.handle([DeviceStatus(device, True, self.clock.now, fault=fault)])

    async def fix(self, where: tuple[float, float], subject: str = "car-3") -> None:
        lat, lon = where
        event = PositionFix(subject, SubjectKind.VEHICLE, self.clock.now, "gps", lat=lat, lon=lon)
        await self.engine.handle([event])


async def test_a_flapping_fault_is_one_alarm_with_a_ticket_request_and_clears_after_the_hold(
    site: Site, db: Database
) -> None:
    clock = Clock()
    rig = Rig(site, db, clock)
    for fault in (True, False, True, False, True, False):
        await rig.status(fault)
        clock.advance(10)
        await rig.engine.tick()
    alarms = rig.alarms.list()
    assert len(alarms) == 1
    alarm = alarms[0]
    assert (alarm["originator"], alarm["type"], alarm["state"]) == (
        "ahu-b2",
        "equipment_fault",
        "ACTIVE_UNACK",
    )
    assert alarm["occurrences"] == 3
    assert alarm["ticket_requested"]
    clock.advance(50)  # 60 s since the last clear
    await rig.engine.tick()
    assert rig.alarms.list()[0]["state"] == "CLEARED_UNACK"
    rig.alarms.acknowledge(alarm["id"], "zhang", "fan belt replaced")
    history = rig.alarms.get(alarm["id"])
    assert history["state"] == "CLEARED_ACK"
    assert [h["action"] for h in history["history"]] == [
        "raised",
        "repeated",
        "repeated",
        "cleared",
        "acknowledged",
    ]
    assert [e.state for e in rig.notified][-2:] == ["CLEARED_UNACK", "CLEARED_ACK"]
    await rig.status(True)  # a new fault after the alarm cleared is a new alarm
    assert [a["state"] for a in rig.alarms.list()] == ["ACTIVE_UNACK", "CLEARED_ACK"]


async def test_a_restart_in_the_middle_neither_forgets_nor_repeats(
    site: Site, db: Database
) -> None:
    clock = Clock()
    first = Rig(site, db, clock)
    await first.status(True)
    await first.fix(INSIDE)
    clock.advance(5)
    await first.fix(OUTSIDE)  # left the district; dwell 30 s not yet over
    clock.advance(10)
    await first.status(False)  # fault clear, hold of 60 s running

    clock.advance(25)  # the hub restarts
    second = Rig(site, db, clock)
    await second.engine.tick()  # the car has been out 35 s: raised now, by the new process
    await second.status(True)  # the same fault again: the same alarm
    clock.advance(1)
    await second.status(False)
    clock.advance(61)
    await second.engine.tick()
    alarms = {a["type"]: a for a in second.alarms.list()}
    assert set(alarms) == {"equipment_fault", "geofence_exit"}
    assert alarms["equipment_fault"]["occurrences"] == 2
    assert alarms["equipment_fault"]["state"] == "CLEARED_UNACK"
    assert alarms["geofence_exit"]["originator"] == "car-3"
    assert alarms["geofence_exit"]["state"] == "ACTIVE_UNACK"
    third = Rig(site, db, clock)  # another restart: nothing is raised twice
    clock.advance(30)
    await third.engine.tick()
    await third.fix(OUTSIDE)
    assert len(third.alarms.list()) == 2
    await third.fix(INSIDE)
    assert {a["state"] for a in third.alarms.list()} == {"CLEARED_UNACK"}


async def test_a_failing_rule_disables_itself_with_an_alarm_and_the_others_go_on(
    site: Site, db: Database
) -> None:
    clock = Clock()
    rig = Rig(site, db, clock)
    running = rig.engine._rules["hot"]

    def broken(*_: object) -> object:
        raise ZeroDivisionError("division by zero")

    running.update = broken
    await rig.engine.handle([Reading("ahu-b2.supply_temp", 35, "degC", clock.now)])
    await rig.status(True)
    alarms = {a["type"]: a for a in rig.alarms.list()}
    assert alarms["rule_failure"]["originator"] == "rule:hot"
    assert "ZeroDivisionError" in alarms["rule_failure"]["message"]
    assert "equipment_fault" in alarms  # the other rules went on
    assert rig.engine.health()["disabled"] == ["hot"]

    again = Rig(site, db, clock)  # the rule stays disabled across a restart
    assert again.engine.health()["disabled"] == ["hot"]
    await again.engine.enable("hot")
    await again.engine.handle([Reading("ahu-b2.supply_temp", 35, "degC", clock.now)])
    assert any(a["type"] == "threshold" for a in again.alarms.list())


async def test_people_assign_and_shelve_alarms_and_it_is_audited(site: Site, db: Database) -> None:
    rig = Rig(site, db, Clock())
    await rig.status(True)
    alarm_id = rig.alarms.list()[0]["id"]
    assert rig.alarms.assign(alarm_id, "chief", "li")["assignee"] == "li"
    shelved = rig.alarms.shelve(alarm_id, "li", 30)
    assert shelved["shelved_until"] is not None
    assert rig.alarms.list(include_shelved=False) == []
    assert rig.alarms.acknowledge(alarm_id, "li", "on my way")["state"] == "ACTIVE_ACK"
    from hub.errors import Conflict
    from hub.storage.audit import recent

    with pytest.raises(Conflict):
        rig.alarms.acknowledge(alarm_id, "li")
    actions = [e.action for e in recent(db)]
    assert actions[:3] == ["alarm.acknowledged", "alarm.shelved", "alarm.assigned"]


async def test_unacknowledged_alarms_are_repeated_and_escalated_until_someone_acknowledges(
    site: Site, db: Database
) -> None:
    from hub.services.alarms import AlarmPolicy

    clock = Clock()
    rig = Rig(site, db, clock)
    rig.alarms.policies = {
        "faults": AlarmPolicy(
            remind_every=timedelta(minutes=5), escalate_after=timedelta(minutes=10)
        )
    }
    await rig.status(True)
    alarm_id = rig.alarms.list()[0]["id"]
    rig.notified.clear()
    assert rig.alarms.sweep(clock.advance(4 * 60)) == 0
    assert rig.alarms.sweep(clock.advance(60)) == 1  # 5 min: a reminder
    assert rig.notified[-1].severity == "major"
    assert rig.alarms.sweep(clock.advance(5 * 60)) == 1  # 10 min: reminder + escalation
    assert rig.alarms.get(alarm_id)["severity"] == "critical"
    assert rig.notified[-1].severity == "critical"
    assert rig.alarms.sweep(clock.advance(10 * 60)) == 1  # critical is the top: reminder only
    rig.alarms.acknowledge(alarm_id, "li", "looking")
    assert rig.alarms.sweep(clock.advance(60 * 60)) == 0  # acknowledged: quiet
    actions = [h["action"] for h in rig.alarms.get(alarm_id)["history"]]
    assert actions == ["raised", "reminded", "escalated", "reminded", "reminded", "acknowledged"]


def test_the_indexed_geofence_path_decides_exactly_what_checking_every_fence_would(
    demo_site: Site,
) -> None:
    """The engine only steps the rules of fences whose side a subject changed (after one
    STRtree query per batch); over random walks it raises and clears exactly what stepping
    every rule on every fix does."""
    import random

    from shapely import Point
    from shapely.prepared import prep

    from hub.site.model import Geofence
    from rules.kinds import geofence

    rng = random.Random(5)
    fences = [
        Geofence.model_validate(
            {
                "id": f"gf-{i}",
                "name": "f",
                "applies_to": ["vehicle"],
                "geometry": {
                    "type": "Circle",
                    "center": {"lat": 30 + rng.uniform(0, 0.01), "lon": 120 + rng.uniform(0, 0.01)},
                    "radius_m": rng.uniform(50, 400),
                },
            }
        )
        for i in range(30)
    ]
    rules = [
        GeofenceRule(
            id=f"r{i}", kind="geofence", fence=f"gf-{i}", when=rng.choice(["enter", "exit"])
        )
        for i in range(20)
    ]
    site = demo_site.model_copy(update={"geofences": fences, "rules": rules})

    book = MemoryAlarmBook()
    engine = RuleEngine(site, book.store, book)
    shapes = {g.id: prep(g.geometry.to_shape()) for g in fences}
    naive_state: dict[str, dict] = {r.id: {} for r in rules}
    naive: list[tuple[str, str, str]] = []
    fast: list[tuple[str, str, str]] = []
    pos = {f"v{i}": (30.005, 120.005) for i in range(15)}
    for _ in range(60):
        batch = []
        for v, (lat, lon) in pos.items():
            lat, lon = lat + rng.uniform(-8e-4, 8e-4), lon + rng.uniform(-8e-4, 8e-4)
            pos[v] = (lat, lon)
            batch.append(PositionFix(v, SubjectKind.VEHICLE, T0, "gps", lat=lat, lon=lon))
        for action in engine.evaluate(batch, T0):
            if "passed through" in action.message:  # beyond per-fix stepping: tested below
                continue
            fast.append((type(action).__name__, action.rule, action.originator))
        for fix in batch:
            for r in rules:
                inside = shapes[r.fence].intersects(Point(fix.lon, fix.lat))
                sub, acts = geofence.step(
                    naive_state[r.id].get(fix.subject_id), fix.ts, inside, r, fix.subject_id
                )
                naive_state[r.id].pop(fix.subject_id, None)
                if sub is not None:
                    naive_state[r.id][fix.subject_id] = sub
                naive += [(type(a).__name__, a.rule, a.originator) for a in acts]
    assert len(naive) > 20  # the walks did cross fences
    assert sorted(fast) == sorted(naive)


async def test_a_fence_group_is_one_area_and_a_night_rule_watches_only_at_night(
    demo_site: Site, db: Database
) -> None:
    from hub.site.model import Geofence

    def box(fid: str, lon0: float) -> Geofence:
        ring = [
            [lon0, 30.0],
            [lon0 + 0.01, 30.0],
            [lon0 + 0.01, 30.01],
            [lon0, 30.01],
            [lon0, 30.0],
        ]
        return Geofence.model_validate(
            {
                "id": fid,
                "name": fid,
                "applies_to": ["vehicle"],
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )

    fences = [box("yard-a", 120.00), box("yard-b", 120.01), box("archive", 120.03)]
    rules = [
        GeofenceRule(id="stay-in-yards", kind="geofence", fences=["yard-a", "yard-b"], when="exit"),
        GeofenceRule(
            id="archive-at-night",
            kind="geofence",
            fence="archive",
            when="enter",
            active_hours="22:00-06:00",
        ),
    ]
    site = demo_site.model_copy(update={"geofences": fences, "rules": rules})
    clock = Clock()  # 22:00 UTC = 06:00 in Shanghai: outside the night window
    clock.now = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # 21:00 local
    rig = Rig(site, db, clock)
    await rig.fix((30.005, 120.005))  # in yard A
    await rig.fix((30.005, 120.015))  # into the adjacent yard B: no exit
    assert rig.alarms.list() == []
    await rig.fix((30.005, 120.035))  # out of both yards, into the archive by day
    alarms = {a["type"]: a for a in rig.alarms.list()}
    assert set(alarms) == {"geofence_exit"}
    assert "yard-a / yard-b" in alarms["geofence_exit"]["message"]
    clock.advance(3600)  # 22:00 local: the archive rule's hours begin, the car is still there
    await rig.engine.tick()
    assert {a["type"] for a in rig.alarms.list(active=True)} == {"geofence_exit", "geofence_enter"}
    clock.advance(8 * 3600)  # 06:00 local: the night is over
    await rig.engine.tick()
    assert {a["type"] for a in rig.alarms.list(active=True)} == {"geofence_exit"}


def test_geofence_rules_name_their_fences_and_valid_hours() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="either fence or fences"):
        GeofenceRule(id="x", kind="geofence")
    with pytest.raises(ValidationError, match="HH:MM-HH:MM"):
        GeofenceRule(id="x", kind="geofence", fence="f", active_hours="night")


async def test_an_official_car_used_without_an_approved_trip_raises_after_the_grace(
    demo_site: Site, db: Database
) -> None:
    from hub.site.rules import VehicleUseRule

    class Trips:  # what the booking service will provide: approved trips per car
        def __init__(self) -> None:
            self.approved: dict[str, list[tuple[datetime, datetime]]] = {}

        def covering(self, vehicle: str, at: datetime) -> bool:
            return any(a <= at < b for a, b in self.approved.get(vehicle, []))

    trips = Trips()
    trips.approved["car-1"] = [(T0, T0 + timedelta(hours=2))]
    site = demo_site.model_copy(
        update={"rules": [VehicleUseRule(id="use", kind="vehicle_use", grace_s=60)]}
    )
    clock = Clock()
    alarms = AlarmService(db)
    engine = RuleEngine(site, SqlRuleStateStore(db), alarms, clock=clock, trips=trips)
    engine.load()
    compound = (30.2600, 120.1300)
    outside = (30.2700, 120.1500)

    async def fix(car: str, where: tuple[float, float], speed: float, after_s: float) -> None:
        clock.advance(after_s)
        lat, lon = where
        await engine.handle(
            [
                PositionFix(
                    car, SubjectKind.VEHICLE, clock.now, "gps", lat=lat, lon=lon, speed_mps=speed
                )
            ]
        )

    await fix("car-2", compound, 0.0, 0)  # parked: fine
    await fix("car-2", compound, 5.0, 10)  # moving in the compound: the grace starts
    await fix("car-1", outside, 15.0, 0)  # out on its approved trip: fine
    await fix("car-2", compound, 3.0, 30)  # rolling to the gate, 30 s: still in grace
    assert alarms.list() == []
    await fix("car-2", outside, 12.0, 40)  # 70 s in use, out of the compound
    (alarm,) = alarms.list()
    assert (alarm["originator"], alarm["type"]) == ("car-2", "vehicle_unauthorised")
    assert "outside the compound with no approved trip" in alarm["message"]
    trips.approved["car-2"] = [(clock.now, clock.now + timedelta(hours=1))]  # approved late
    await fix("car-2", outside, 12.0, 5)
    assert alarms.list()[0]["state"] == "CLEARED_UNACK"
    await fix("car-1", outside, 15.0, 2 * 3600)  # its trip is over and it is still out
    await fix("car-1", outside, 15.0, 61)
    assert [a["originator"] for a in alarms.list(active=True)] == ["car-1"]


async def test_a_fast_car_crossing_a_small_fence_between_two_fixes_is_caught(
    demo_site: Site, db: Database
) -> None:
    from hub.site.model import Geofence

    yard = Geofence.model_validate(
        {
            "id": "ammo-store",
            "name": "弹药库",
            "applies_to": ["vehicle"],
            "geometry": {"type": "Circle", "center": {"lat": 30.0, "lon": 120.0}, "radius_m": 30},
        }
    )
    rules = [
        GeofenceRule(id="keep-out", kind="geofence", fence="ammo-store", when="enter"),
        GeofenceRule(id="linger", kind="geofence", fence="ammo-store", when="enter", dwell_s=60),
    ]
    site = demo_site.model_copy(update={"geofences": [yard], "rules": rules})
    clock = Clock()
    rig = Rig(site, db, clock)
    await rig.fix((30.0, 119.999))  # 96 m west of the centre
    clock.advance(10)
    await rig.fix((30.0, 120.001))  # 96 m east, ten seconds later: it drove through
    (alarm,) = rig.alarms.list()
    assert (alarm["rule"], alarm["type"], alarm["state"]) == (
        "keep-out",
        "geofence_enter",
        "CLEARED_UNACK",
    )
    assert "passed through ammo-store between two fixes" in alarm["message"]
    clock.advance(10)
    await rig.fix((30.001, 120.001))  # moving on, nowhere near: nothing more
    assert len(rig.alarms.list()) == 1


async def test_a_fix_arriving_after_a_newer_one_does_not_flip_a_geofence_back(
    site: Site, db: Database
) -> None:
    """With several hub workers a car's fixes reach the leader by two roads: the older fix
    (still inside) may come after the newer (outside). It is not judged; the exit stands."""
    clock = Clock()
    rig = Rig(site, db, clock)
    rig.engine = RuleEngine(site, SqlRuleStateStore(db), rig.alarms, clock=clock, events_may_cross=True)  # fmt: skip
    rig.engine.load()
    inside_at, outside_at = T0 - timedelta(seconds=60), T0
    out = PositionFix("car-3", SubjectKind.VEHICLE, outside_at, "gps", lat=OUTSIDE[0], lon=OUTSIDE[1])  # fmt: skip
    back = PositionFix("car-3", SubjectKind.VEHICLE, inside_at, "gps", lat=INSIDE[0], lon=INSIDE[1])  # fmt: skip
    await rig.engine.handle([out])
    await rig.engine.handle([back])  # relayed late
    clock.advance(31)
    await rig.engine.tick()
    assert [(a["originator"], a["type"]) for a in rig.alarms.list()] == [("car-3", "geofence_exit")]
    assert rig.engine.health()["stale"] == 1
