"""Each rule kind's edges on a virtual clock: pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.domain import DeviceStatus, PositionFix, Quality, Reading, Say, SubjectKind
from hub.site.rules import EquipmentFaultRule, GeofenceRule, SilenceRule, ThresholdRule
from rules.actions import Clear, Raise
from rules.kinds import equipment_fault, geofence, silence, threshold

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def status(s: float, fault: bool, device: str = "ahu") -> DeviceStatus:
    return DeviceStatus(device, True, at(s), fault=fault, detail="fan fault" if fault else "")


def test_a_flapping_fault_is_one_alarm_cleared_only_after_the_hold_time() -> None:
    rule = EquipmentFaultRule(id="f", kind="equipment_fault", clear_after_s=60)
    state: dict = {}
    raised: list = []
    cleared: list = []
    for s, fault in [(0, True), (5, False), (10, True), (20, False), (30, True), (40, False)]:
        state, acts = equipment_fault.update(state, status(s, fault), at(s), rule)
        raised += [a for a in acts if isinstance(a, Raise)]
        state, acts = equipment_fault.tick(state, at(s), rule)
        cleared += acts
    # every raise is about the same originator + type: the alarm book keeps one alarm
    assert {(a.originator, a.type) for a in raised} == {("ahu", "equipment_fault")}
    assert all(a.ticket for a in raised)
    assert cleared == []  # clear since 40 s: not held for 60 s yet
    state, acts = equipment_fault.tick(state, at(99), rule)
    assert acts == []
    state, acts = equipment_fault.tick(state, at(100), rule)
    assert acts == [
        Clear(
            "f",
            "ahu",
            "equipment_fault",
            "fault cleared",
            Say("fault.cleared", {"device_id": "ahu"}),
        )
    ]
    state, acts = equipment_fault.tick(state, at(200), rule)
    assert acts == []  # cleared once


def test_an_equipment_rule_ignores_devices_it_does_not_watch() -> None:
    rule = EquipmentFaultRule(id="f", kind="equipment_fault", devices=["ahu"])
    _, acts = equipment_fault.update({}, status(0, True, device="meter"), at(0), rule)
    assert acts == []


def test_a_threshold_waits_for_its_duration_and_clears_past_the_hysteresis() -> None:
    rule = ThresholdRule(
        id="t", kind="threshold", point="ahu.temp", above=28, hysteresis=1, for_s=300
    )

    def feed(state: threshold.State, s: float, v: float, q: Quality = Quality.GOOD):  # type: ignore[no-untyped-def]
        return threshold.update(state, Reading("ahu.temp", v, "degC", at(s), q), at(s), rule)

    state, acts = feed(threshold.load({}), 0, 29)
    assert acts == []
    state, acts = feed(state, 200, 27.5)  # inside the band: the pending condition restarts
    state, acts = feed(state, 250, 29)
    state, acts = feed(state, 540, 30)
    assert acts == []  # 290 s beyond the limit
    state, acts = feed(state, 550, 29, Quality.BAD)  # a bad reading decides nothing
    assert acts == []
    state, acts = feed(state, 560, 29)
    assert [type(a) for a in acts] == [Raise]
    state, acts = feed(state, 600, 27.5)  # below the limit, not past the hysteresis
    assert acts == []
    state, acts = feed(state, 610, 28.5)  # above the limit again: still the same alarm
    assert acts == []
    state, acts = feed(state, 620, 27)
    assert [type(a) for a in acts] == [Clear]
    assert threshold.dump(state) == {"since": None, "raised": False}  # as stored


def test_rule_state_is_typed_in_memory_and_stored_as_the_json_of_earlier_releases() -> None:
    stored = {"ahu-b2": {"raised": True, "clear_since": "2026-11-01T08:00:00+00:00"}}
    state = equipment_fault.load(stored)
    assert state["ahu-b2"].since == datetime(2026, 11, 1, 8, tzinfo=UTC)  # a datetime
    assert equipment_fault.dump(state) == stored
    fences = {"car-3": {"since": "2026-11-01T08:00:00+00:00", "raised": False}}
    assert geofence.dump(geofence.load(fences)) == fences
    assert silence.dump(silence.load({"meter-b1": {"last": None, "raised": False}})) == {
        "meter-b1": {"last": None, "raised": False}
    }


def fix(s: float, lat: float, lon: float, subject: str = "car-3") -> PositionFix:
    return PositionFix(subject, SubjectKind.VEHICLE, at(s), "gps", lat=lat, lon=lon)


def inside_box(fence: str, lat: float, lon: float) -> bool:
    return 30.0 <= lat <= 31.0 and 120.0 <= lon <= 121.0


def test_a_geofence_exit_raises_after_the_dwell_at_a_fix_or_a_tick_and_clears_on_return() -> None:
    rule = GeofenceRule(id="g", kind="geofence", fence="box", when="exit", dwell_s=30)

    def feed(state: dict, s: float, lat: float, lon: float = 120.5):  # type: ignore[no-untyped-def]
        return geofence.update(state, fix(s, lat, lon), at(s), rule, inside_box, ["vehicle"])

    state, acts = feed({}, 0, 30.5)
    state, acts = feed(state, 10, 31.5)  # out
    assert acts == []
    state, acts = feed(state, 20, 30.5)  # back before the dwell: nothing happened
    assert acts == []
    state, acts = feed(state, 30, 31.5)  # out again; the dwell starts afresh
    state, acts = geofence.tick(state, at(59), rule)
    assert acts == []
    state, acts = geofence.tick(state, at(60), rule)  # no fix since: the tick raises
    assert [(type(a), a.originator, a.type) for a in acts] == [(Raise, "car-3", "geofence_exit")]
    state, acts = feed(state, 70, 31.6)
    assert acts == []  # still out: raised once
    state, acts = feed(state, 80, 30.5)
    assert [type(a) for a in acts] == [Clear]


def test_a_geofence_only_watches_its_kinds_of_subject() -> None:
    rule = GeofenceRule(id="g", kind="geofence", fence="box", when="exit", subjects=["guard"])
    _, acts = geofence.update({}, fix(0, 40, 120.5), at(0), rule, inside_box, [])
    assert acts == []


def test_silence_raises_for_a_quiet_device_and_clears_when_it_reports() -> None:
    rule = SilenceRule(id="s", kind="silence", devices=["meter"], after_s=300)
    state, acts = silence.tick({}, at(0), rule)  # never heard: counts from now
    assert acts == []
    state, acts = silence.update(state, Reading("meter.kw", 1, "kW", at(100)), at(100), rule)
    state, acts = silence.tick(state, at(399), rule)
    assert acts == []
    state, acts = silence.tick(state, at(400), rule)
    assert [(type(a), a.originator) for a in acts] == [(Raise, "meter")]
    state, acts = silence.tick(state, at(500), rule)
    assert acts == []
    state, acts = silence.update(state, Reading("meter.kw", 1, "kW", at(510)), at(510), rule)
    assert [type(a) for a in acts] == [Clear]


def guard_fix(s: float, lat: float, lon: float, guard: str = "g1") -> PositionFix:
    return PositionFix(guard, SubjectKind.GUARD, at(s), "phone", lat=lat, lon=lon)


def test_a_guard_who_stops_moving_raises_lone_worker_at_a_fix_or_a_tick() -> None:
    from hub.site.rules import LoneWorkerRule
    from rules.kinds import lone_worker

    rule = LoneWorkerRule(id="lw", kind="lone_worker", after_s=600, radius_m=15)

    def feed(state: dict, s: float, lat: float, lon: float = 120.0):  # type: ignore[no-untyped-def]
        return lone_worker.update(state, guard_fix(s, lat, lon), at(s), rule)

    state, _ = feed({}, 0, 30.0)
    state, acts = feed(state, 300, 30.00005)  # ~6 m: jitter, not movement
    state, acts = feed(state, 599, 30.0001)  # ~11 m from the anchor
    assert acts == []
    state, acts = feed(state, 600, 30.0)
    assert [(type(a), a.originator, a.type) for a in acts] == [(Raise, "g1", "lone_worker")]
    assert "10 min" in acts[0].message
    state, acts = feed(state, 700, 30.0)
    assert acts == []  # raised once
    state, acts = feed(state, 760, 30.0005)  # ~55 m: he moves
    assert [type(a) for a in acts] == [Clear]
    # A phone that reports only when moving: the tick raises without a new fix.
    state, acts = lone_worker.tick(state, at(760 + 599), rule)
    assert acts == []
    state, acts = lone_worker.tick(state, at(760 + 600), rule)
    assert [type(a) for a in acts] == [Raise]
    # Nothing for more than twice the time: no longer watched (the silence rule's business).
    state, acts = lone_worker.tick(state, at(760 + 1201), rule)
    assert [type(a) for a in acts] == [Clear]
    assert state == {}
    _, acts = lone_worker.update(
        {}, PositionFix("car-1", SubjectKind.VEHICLE, at(0), "gps", lat=30, lon=120), at(0), rule
    )
    assert acts == []
