"""What the wall shows besides events: patrol progress from the rules' state, gate passages
of the gate, guards and cars inside, and where an alarm is on the map."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.domain import PositionFix, SubjectKind
from hub.live import LiveHub, to_message
from hub.services.wall import WallSummary, patrol_progress
from hub.site import Site
from hub.site.locate import map_locator
from hub.site.rules import MissedPatrolRule
from rules.binding import patrol_route
from rules.kinds import missed_patrol


def test_patrol_progress_names_the_next_checkpoint_and_its_deadline(demo_site: Site) -> None:
    route = patrol_route(
        next(r for r in demo_site.rules if isinstance(r, MissedPatrolRule)), demo_site
    )
    tour = {
        "start": "2026-11-26T02:00:00+00:00",
        "deadline": {
            "cp-main-gate": "2026-11-26T02:05:00+00:00",
            "cp-parking": "2026-11-26T02:07:00+00:00",
            "cp-b3": "2026-11-26T02:09:00+00:00",
            "cp-plant": "2026-11-26T02:11:00+00:00",
            "cp-b1-north": "2026-11-26T02:13:00+00:00",
        },
        "visited": {"cp-main-gate": {"at": "2026-11-26T02:04:00+00:00", "by": "g1", "late": False}},
        "end": "2026-11-26T02:33:00+00:00",
        "missed": ["cp-parking"],
        "late": [],
        "out_of_order": [],
    }
    state = missed_patrol.load({"tour": tour})  # as the rule stores it
    (row,) = patrol_progress([missed_patrol.progress(state, route)], demo_site)
    assert (row["route"], row["name"], row["guards"]) == ("route-west", "西线巡逻", ["g1", "g2"])
    assert (row["visited"], row["total"], row["missed"]) == (1, 5, ["cp-parking"])
    assert (row["next"], row["next_due"]) == ("cp-b3", "2026-11-26T02:09:00+00:00")
    (idle,) = patrol_progress([missed_patrol.progress(missed_patrol.State(), route)], demo_site)
    assert (idle["tour"], idle["next"]) == (False, None)


async def test_the_summary_counts_guards_inside_and_cars_outside(demo_site: Site) -> None:
    live = LiveHub()
    now = datetime.now(UTC)
    for subject, kind, lat, lon in (
        ("g1", SubjectKind.GUARD, 30.2600, 120.1305),  # inside
        ("car-1", SubjectKind.VEHICLE, 30.2600, 120.1305),  # inside
        ("car-3", SubjectKind.VEHICLE, 30.3000, 120.2000),  # out in the district
    ):
        live.put(to_message(PositionFix(subject, kind, now, "test", lat=lat, lon=lon)))
    wall = WallSummary(
        live,
        demo_site,
        every_s=5,
        alarms=lambda: {"active": 2, "unacked": 1},
        tickets=lambda: {"open": 3, "unassigned": 0},
        gate=lambda: {"people_inside": 4, "cars_inside": 1},
        patrols=lambda: [],
    )
    summary = await wall.refresh()
    assert summary["subjects"] == {"guards_inside": 1, "vehicles_inside": 1, "vehicles_outside": 1}
    assert (summary["alarms"]["active"], summary["tickets"]["open"]) == (2, 3)
    assert summary["gate"]["people_inside"] == 4
    assert any(e["type"] == "summary" for e in live.snapshot())


def test_alarms_are_placed_on_the_map_feature_they_concern(demo_site: Site) -> None:
    locate = map_locator(demo_site)
    assert locate("route-west/cp-plant") == "checkpoint:cp-plant"
    assert locate("ahu-b2") == "device:ahu-b2"
    assert locate("ahu-b2.supply_temp") == "device:ahu-b2"  # a point: its device's place
    unpinned = demo_site.model_copy(
        update={"devices": [d.model_copy(update={"location": None}) for d in demo_site.devices]}
    )
    assert map_locator(unpinned)("ahu-b2") == "building:b2"  # no pin: its building
    assert locate("car-3") == "subject:car-3"
    assert locate("rule:west-tours") is None
