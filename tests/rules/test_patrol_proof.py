"""A visit holds only with evidence: close and lasting BLE, a precise fix within the radius, the
checkpoint's code; two of them where asked; refused when the guard could not be there."""

from __future__ import annotations

from dataclasses import replace

from hub.domain import CodeScan, PositionFix, Raise, Sighting, SubjectKind, TourEnded
from hub.domain.patrol import Method, RefusedBecause
from hub.i18n import render
from hub.site.patrol import Proof
from rules.kinds import missed_patrol as mp
from tests.rules.test_missed_patrol import PLACES, ROUTE, Patrol, at


def seen(minutes: float, cp: str, guard: str = "g1", **how: object) -> Sighting:
    return Sighting(f"badge-{guard}", cp, at(minutes), "espresense", subject_id=guard, **how)  # type: ignore[arg-type]


def started() -> Patrol:
    p = Patrol()
    p.tick(0)
    return p


def visited(p: Patrol) -> dict[str, dict]:  # type: ignore[type-arg]
    return p.json["tour"]["visited"]


def test_a_badge_reported_far_from_the_gateway_does_not_visit_however_often() -> None:
    p = started()
    for i in range(20):  # the report: through a wall, from the corridor
        p.see(seen(1 + i / 60, "cp1", rssi=-88, distance_m=15.2, close=False))
    assert visited(p) == {}


def test_a_close_badge_visits_after_three_reports_or_five_seconds_not_one() -> None:
    p = started()
    p.see(seen(1, "cp1", distance_m=1.2))
    assert visited(p) == {}  # one report: a badge carried past the door
    p.see(seen(1 + 6 / 60, "cp1", distance_m=2.0))  # six seconds later, still close
    visit = visited(p)["cp1"]
    (evidence,) = visit["evidence"]
    assert evidence["method"] == "ble"
    assert (evidence["reports"], evidence["seconds"], evidence["distance_m"]) == (2, 6.0, 1.2)


def test_the_gateways_own_close_verdict_and_a_strong_rssi_count_where_configured() -> None:
    p = started()
    for s in (0, 1, 2):
        p.see(seen(1 + s / 60, "cp1", close=True))
    assert "cp1" in visited(p)
    rssi_place = replace(PLACES["cp2"], proof=Proof(ble={"min_rssi": -65, "max_distance_m": None}))
    route = replace(ROUTE, places={**PLACES, "cp2": rssi_place})
    state = p.state
    for s in (0, 1, 2):
        state, _ = mp.update(state, seen(3 + s / 60, "cp2", rssi=-70), at(3), p.rule, route)
    assert "cp2" not in state.tour.visited  # type: ignore[union-attr]
    for s in (0, 1, 2):
        state, _ = mp.update(state, seen(4 + s / 60, "cp2", rssi=-60), at(4), p.rule, route)
    assert "cp2" in state.tour.visited  # type: ignore[union-attr]


def test_a_long_silence_starts_the_count_again() -> None:
    p = started()
    p.see(seen(1, "cp1", distance_m=1))
    p.see(seen(2, "cp1", distance_m=1))  # a minute later: a second walk past, not a stay
    assert visited(p) == {}


def fix(
    minutes: float, lat: float, lon: float, accuracy: float | None, guard: str = "g1"
) -> PositionFix:
    return PositionFix(
        guard, SubjectKind.GUARD, at(minutes), "owntracks", lat=lat, lon=lon, accuracy_m=accuracy
    )


def test_a_phone_fix_visits_within_the_radius_with_its_accuracy_counted_against_it() -> None:
    gps = Proof(methods=[Method.GPS], gps={"radius_m": 25, "max_accuracy_m": 30})
    route = replace(ROUTE, places={cp: replace(pl, proof=gps) for cp, pl in PLACES.items()})
    p = started()
    cp1 = PLACES["cp1"]
    north = 0.0001  # ~11 m
    state = p.state
    for f in (
        fix(1, cp1.lat + north, cp1.lon, 20),  # 11 m off, ±20 m: could be 31 m away
        fix(1.1, cp1.lat + north, cp1.lon, None),  # a fix that does not say how good it is
        fix(1.2, cp1.lat, cp1.lon, 45),  # right there, but ±45 m
    ):
        state, _ = mp.update(state, f, f.ts, p.rule, route)
    assert state.tour.visited == {}  # type: ignore[union-attr]
    car = replace(fix(1.3, cp1.lat, cp1.lon, 5), subject_kind=SubjectKind.VEHICLE)
    state, _ = mp.update(state, car, car.ts, p.rule, route)
    assert state.tour.visited == {}  # type: ignore[union-attr]
    state, _ = mp.update(state, fix(1.4, cp1.lat + north, cp1.lon, 8), at(1.4), p.rule, route)
    (evidence,) = state.tour.visited["cp1"].evidence  # type: ignore[union-attr]
    assert evidence.method is Method.GPS
    assert evidence.detail == {"distance_m": 11.1, "accuracy_m": 8}


def test_two_of_needs_both_proofs_within_their_window() -> None:
    two = Proof(methods=[Method.BLE, Method.CODE], need=2, within_s=120)
    route = replace(ROUTE, places={**PLACES, "cp1": replace(PLACES["cp1"], proof=two)})
    p = started()
    state = p.state
    for s in (0, 1, 2):
        state, _ = mp.update(state, seen(1 + s / 60, "cp1", distance_m=1), at(1), p.rule, route)
    assert state.tour.visited == {}  # type: ignore[union-attr]  # BLE alone is not enough here
    late_scan = CodeScan("g1", "cp1", at(4), "qr", step=1)  # three minutes after: too far apart
    state, _ = mp.update(state, late_scan, at(4), p.rule, route)
    assert state.tour.visited == {}  # type: ignore[union-attr]
    for s in (0, 1, 2):
        state, _ = mp.update(state, seen(4.5 + s / 60, "cp1", distance_m=1), at(5), p.rule, route)
    visit = state.tour.visited["cp1"]  # type: ignore[union-attr]
    assert {e.method for e in visit.evidence} == {Method.BLE, Method.CODE}


def test_a_code_scan_alone_visits_where_codes_are_accepted() -> None:
    p = started()
    p.see(CodeScan("g1", "cp1", at(1), "qr", step=7))
    assert visited(p)["cp1"]["evidence"][0] == {
        "method": "code",
        "at": at(1).isoformat(),
        "source": "qr",
    }


def test_a_badge_at_two_checkpoints_faster_than_a_person_walks_is_refused_and_alarmed() -> None:
    p = started()
    p.visit(1, "cp1")
    acts = p.visit(1 + 10 / 60, "cp3")  # ~110 m in ten seconds
    assert "cp3" not in visited(p)
    (refusal,) = p.json["tour"]["refused"]
    assert (refusal["checkpoint"], refusal["by"], refusal["reason"]) == ("cp3", "g1", "too_fast")
    raised = [a for a in acts if isinstance(a, Raise)]
    assert [a.type for a in raised] == ["patrol_implausible"]
    assert raised[0].say is not None
    text = render(raised[0].say.key, raised[0].say.args, "zh-CN", "Asia/Shanghai")
    assert text.startswith("王保安 在 3号岗 的巡更不予计入")
    assert p.visit(1 + 12 / 60, "cp3") == []  # refused again, told once
    assert len(p.json["tour"]["refused"]) == 1
    p.visit(3, "cp3")  # two minutes on: a walk is possible
    assert "cp3" in visited(p)


def test_a_guard_off_duty_or_off_the_route_does_not_visit_and_is_counted() -> None:
    route = replace(ROUTE, duty={"g2": "08:00-20:00"})  # 22:00 in Shanghai: g2 is off duty
    p = started()
    state = p.state
    for guard in ("g2", "g9"):
        for s in (0, 1, 2):
            state, _ = mp.update(
                state, seen(1 + s / 60, "cp1", guard, distance_m=1), at(1), p.rule, route
            )
    assert state.tour.visited == {}  # type: ignore[union-attr]
    reasons = {(r.by, r.reason) for r in state.tour.refused}  # type: ignore[union-attr]
    assert reasons == {("g2", RefusedBecause.NOT_ON_DUTY), ("g9", RefusedBecause.NOT_ON_ROUTE)}


def test_the_tours_record_holds_each_visit_with_its_evidence_and_who_answers_for_it() -> None:
    p = started()
    p.visit(1, "cp1")
    p.see(CodeScan("g1", "cp2", at(6), "qr", step=3))
    p.tick(24 * 60 + 1)  # the next evening: this tour closed, and none watched in between
    records = [a.record for a in p.actions if isinstance(a, TourEnded)]
    assert len(records) == 1
    (r,) = records
    assert [(v.checkpoint, v.by, v.evidence[0].method) for v in r.visits] == [
        ("cp1", "g1", Method.BLE),
        ("cp2", "g1", Method.CODE),
    ]
    assert (r.missed, r.on_time, r.guards) == (("cp3",), 2, ("g1",))
    p.tick(4 * 24 * 60 + 1)  # down for three days
    later = [a.record for a in p.actions if isinstance(a, TourEnded)][1:]
    # the tour open when the hub stopped is closed as seen; the two after it nobody watched
    assert [x.unobserved for x in later] == [False, True, True]
    assert later[0].guards == ("g1", "g2")  # nobody walked it: the route's guards answer
    assert later[0].missed == ("cp1", "cp2", "cp3")
    assert later[1].start == at(2 * 24 * 60)
    assert later[1].missed == ()  # not missed: unobserved


def test_the_progress_tells_when_the_next_tour_starts() -> None:
    p = Patrol()
    p.tick(-30)
    idle = mp.progress(p.state, ROUTE, p.rule, at(-30))
    assert (idle.open, idle.upcoming) == (False, at(0))
    p.tick(1)
    walking = mp.progress(p.state, ROUTE, p.rule, at(1))
    assert walking.open
    assert walking.upcoming == at(24 * 60)  # tomorrow's
