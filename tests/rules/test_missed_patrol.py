"""Missed patrol on a virtual clock: windows, grace, order, schedule boundaries, restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hub.domain import Event, Sighting
from hub.site.patrol import Proof
from hub.site.rules import MissedPatrolRule
from rules.actions import Action, Clear
from rules.kinds import missed_patrol as mp

PROOF = Proof()  # the built-in default: BLE within 3 m, 3 reports or 5 s; or the code
PLACES = {  # about 60 m apart
    f"cp{i}": mp.Place(f"{i}号岗", f"post {i}", 30.2590 + i * 0.0005, 120.1300, PROOF)
    for i in (1, 2, 3)
}
ROUTE = mp.Route(
    "west",
    ("cp1", "cp2", "cp3"),
    True,
    frozenset({"g1", "g2"}),
    "Asia/Shanghai",
    name="西线",
    places=PLACES,
    people={"g1": "王保安"},
)
RULE = MissedPatrolRule(
    id="night",
    kind="missed_patrol",
    route="west",
    schedule="FREQ=DAILY;BYHOUR=22;BYMINUTE=0",  # 22:00 in Shanghai = 14:00 UTC
    step_min=5,
    grace_min=5,
    late_min=30,
)
START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


class Patrol:
    def __init__(self, rule: MissedPatrolRule = RULE) -> None:
        self.rule = rule
        self.state = mp.load({})
        self.actions: list[Action] = []

    def tick(self, minutes: float) -> list[Action]:
        self.state, acts = mp.tick(self.state, at(minutes), self.rule, ROUTE)
        self.actions += acts
        return acts

    def visit(self, minutes: float, cp: str, guard: str = "g1") -> list[Action]:
        """The guard's badge reported three times within two seconds, 1.5 m from the gateway."""
        acts: list[Action] = []
        for second in (-2, -1, 0):
            ts = at(minutes) + timedelta(seconds=second)
            s = Sighting(f"badge-{guard}", cp, ts, "ble", distance_m=1.5, subject_id=guard)
            acts += self.see(s)
        return acts

    def see(self, event: Event) -> list[Action]:
        self.state, acts = mp.update(self.state, event, event.ts, self.rule, ROUTE)
        self.actions += acts
        return acts

    def restart(self) -> None:  # what the engine persists and loads back
        self.state = mp.load(json.loads(json.dumps(mp.dump(self.state))))

    @property
    def json(self) -> dict:  # type: ignore[type-arg]
        """The state as stored."""
        return mp.dump(self.state)


def kinds(actions: list[Action]) -> list[tuple[str, str, str]]:
    return [(type(a).__name__, a.originator, a.type) for a in actions]


def test_a_tour_starts_on_the_schedule_in_the_site_time_zone() -> None:
    p = Patrol()
    p.tick(-1)
    assert p.json["tour"] is None
    p.tick(-1 / 60)  # 21:59:59 local
    assert p.json["tour"] is None
    p.tick(0)
    assert p.json["tour"]["start"] == START.isoformat()
    assert p.json["tour"]["deadline"] == {
        "cp1": at(5).isoformat(),
        "cp2": at(10).isoformat(),
        "cp3": at(15).isoformat(),
    }


def test_a_missed_checkpoint_is_raised_at_its_deadline_not_at_the_end_of_the_tour() -> None:
    p = Patrol()
    p.tick(-1)
    p.tick(0)
    p.visit(2, "cp1")
    assert p.tick(10) == []  # cp2's deadline is 14:10, not past yet
    assert kinds(p.tick(10.02)) == [("Raise", "west/cp2", "patrol_missed")]
    assert "22:10" in p.actions[-1].message  # local time in the message
    assert p.tick(11) == []  # raised once
    assert p.visit(12, "cp3") == []  # cp2 is missed, so cp3 is not out of order
    late = p.visit(20, "cp2")  # late, inside the 30 min allowance
    assert kinds(late) == [
        ("Clear", "west/cp2", "patrol_missed"),
        ("Raise", "west/cp2", "patrol_late"),
        ("Clear", "west/cp2", "patrol_late"),
    ]
    assert p.tick(44) == []
    p.tick(45)  # the tour is over: compliance recorded
    assert p.json["tour"] is None
    (record,) = p.json["history"]
    assert (record["on_time"], record["visited"], record["compliance"]) == (2, 3, 0.667)
    assert record["late"] == ["cp2"]
    assert record["missed"] == []


def test_skipping_ahead_on_an_ordered_route_is_out_of_order_and_unvisited_ones_clear_at_the_end() -> (
    None
):
    p = Patrol()
    p.tick(0)
    acts = p.visit(1, "cp2")
    assert kinds(acts) == [
        ("Raise", "west/cp2", "patrol_out_of_order"),
        ("Clear", "west/cp2", "patrol_out_of_order"),
    ]
    assert "before cp1" in acts[0].message
    assert p.visit(2, "cp9") == []  # not on the route
    assert p.visit(3, "cp1", guard="stranger") == []  # not a guard of the route
    assert kinds(p.tick(6)) == [("Raise", "west/cp1", "patrol_missed")]
    assert kinds(p.tick(16)) == [("Raise", "west/cp3", "patrol_missed")]
    closing = p.tick(45)
    assert {a.originator for a in closing if isinstance(a, Clear)} == {"west/cp1", "west/cp3"}
    assert p.json["history"][0]["missed"] == ["cp1", "cp3"]
    assert p.json["history"][0]["out_of_order"] == ["cp2"]


def test_a_restart_in_the_middle_of_a_tour_neither_forgets_nor_repeats() -> None:
    p = Patrol()
    p.tick(0)
    p.visit(2, "cp1")
    assert kinds(p.tick(11)) == [("Raise", "west/cp2", "patrol_missed")]
    p.restart()
    assert p.tick(12) == []  # cp2 stays missed, not raised twice
    assert p.visit(13, "cp1") == []  # already visited
    p.restart()
    assert kinds(p.tick(16)) == [("Raise", "west/cp3", "patrol_missed")]


def test_a_hub_started_mid_tour_takes_it_up_and_tours_missed_while_down_are_unobserved() -> None:
    p = Patrol()
    p.tick(8)  # first run ever, eight minutes into the tour
    assert p.json["tour"]["start"] == START.isoformat()
    assert kinds(p.actions) == [("Raise", "west/cp1", "patrol_missed")]
    p.tick(3 * 24 * 60 + 1)  # down for three days
    starts = [h["start"] for h in p.json["history"] if h.get("unobserved")]
    assert len(starts) == 2
    assert p.json["tour"]["start"] == at(3 * 24 * 60).isoformat()


def test_per_checkpoint_windows_override_the_step() -> None:
    rule = MissedPatrolRule.model_validate(
        {**RULE.model_dump(), "windows": {"cp3": {"at_min": 40, "grace_min": 0}}}
    )
    p = Patrol(rule)
    p.tick(0)
    assert p.json["tour"]["deadline"]["cp3"] == at(40).isoformat()
    assert p.json["tour"]["end"] == at(70).isoformat()


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("FREQ=SOMETIMES", "invalid RRULE"),
        ("FREQ=MINUTELY;INTERVAL=10", "30 minutes apart"),
        ("FREQ=DAILY;BYHOUR=25", "invalid RRULE"),
        ("0 25 * * *", "invalid cron line"),
        ("*/10 * * * *", "30 minutes apart"),
    ],
)
def test_invalid_schedules_are_refused_with_the_reason(schedule: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MissedPatrolRule(id="r", kind="missed_patrol", route="west", schedule=schedule)


def test_a_cron_schedule_starts_tours_in_the_site_time_zone_too() -> None:
    rule = MissedPatrolRule.model_validate({**RULE.model_dump(), "schedule": "0 22 * * *"})
    p = Patrol(rule)
    p.tick(-1)
    assert p.json["tour"] is None
    p.tick(0)
    assert p.json["tour"]["start"] == START.isoformat()
    p.tick(24 * 60 + 1)  # the next evening's tour (yesterday's closed, unvisited)
    assert p.json["tour"]["start"] == at(24 * 60).isoformat()
    assert p.json["history"][0]["missed"] == ["cp1", "cp2", "cp3"]
