"""Gate decisions on SQLite and PostgreSQL: a registered visitor's car with an O for a 0 gets
in, the QR pass opens once and not again without an exit, forged and revoked passes are
refused, near matches wait for a guard, repeated refusals and overstays raise alarms and tell
the host, personal data is hashed, visible only to those who need it, and purged."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.domain import Event, GateEvent, Notice
from hub.errors import Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.alarms import AlarmService
from hub.services.gate import passes
from hub.services.gate.queue import Presented
from hub.services.gate.service import GateService
from hub.services.gate.visits import VisitorIn, VisitService
from hub.settings import GateSettings
from hub.site import Site
from hub.storage import Database
from hub.storage.models import Base, Visitor
from tests.support.clock import Clock

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
HOST = Principal("staff", frozenset({Role.STAFF}), "u-office")
OTHER = Principal("teacher", frozenset({Role.STAFF}), "u-edu")
GUARD = Principal("guard", frozenset({Role.SECURITY}), "u-security")


@pytest.fixture
def world(
    db: Database, demo_site: Site, tmp_path: Path
) -> tuple[VisitService, GateService, Clock, list[Event], AlarmService]:
    clock = Clock(NOW)
    key = passes.load_or_create_key(tmp_path / "pass.pem")
    visits = VisitService(db, demo_site, GateSettings(), secret=b"s" * 32, key=key, clock=clock)
    told: list[Event] = []
    alarms = AlarmService(db)
    gate = GateService(visits, alarms=alarms, announce=told.append)
    return visits, gate, clock, told, alarms


def invite(visits: VisitService, **kw: object) -> dict:  # type: ignore[type-arg]
    return visits.register(
        HOST,
        purpose="洽谈项目",
        start=NOW,
        end=NOW + timedelta(hours=3),
        visitors=[VisitorIn("王小明", "13800000000", "330102199001011234", "某某公司", "浙A10315")],
        **kw,  # type: ignore[arg-type]
    )


def test_the_visitor_car_read_with_an_o_gets_in_and_the_host_is_told(world) -> None:  # type: ignore[no-untyped-def]
    visits, gate, _, told, _ = world
    visit = invite(visits)
    (v,) = visit["visitors"]
    assert (v["plate"], v["id_last4"]) == ("浙A10315", "1234")
    d = gate.decide("cam-1", "gate-main", "in", plate="浙A1O315")
    assert (d["decision"], d["reason"]) == ("allow", "visitor car")
    assert d["evidence"]["corrections"] == ["O read as 0 (serials have no O)"]
    assert d["subject"] == "浙A10315 王**"  # a label: never the full name on screens
    gate_events = [e for e in told if isinstance(e, GateEvent)]
    assert gate_events[-1].allowed
    (notice,) = [e for e in told if isinstance(e, Notice)]
    assert notice.notify == ("staff",)
    assert "王**" in notice.subject
    assert gate.summary()["cars_inside"] == 1  # the wall's counter
    again = gate.decide("cam-1", "gate-main", "in", plate="浙A10315")
    assert (again["decision"], again["reason"]) == (
        "deny",
        "already inside: no exit since the last entry",
    )
    assert gate.decide("cam-2", "gate-main", "out", plate="浙A10315")["decision"] == "allow"
    # a camera reads an 8 as a B: the guard looks, lets the car in, and it counts as inside
    visits.register(
        HOST,
        purpose="送材料",
        start=NOW,
        end=NOW + timedelta(hours=1),
        visitors=[VisitorIn("李四", plate="浙A18888")],
    )
    doubt = gate.decide("cam-1", "gate-main", "in", plate="浙A1888B")
    assert (doubt["decision"], doubt["evidence"]["candidates"]) == ("review", ["浙A18888"])
    gate.review(GUARD, doubt["id"], allow=True, note="核对行驶证")
    leaving = gate.decide("cam-2", "gate-main", "out", plate="浙A18888")
    assert (leaving["decision"], leaving["reason"]) == ("allow", "visitor car leaving")


def test_a_qr_pass_opens_once_and_forged_revoked_or_wrong_gate_passes_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    visits, gate, clock, _, _ = world
    visit = invite(visits, gates=["gate-main"])
    vid = visit["visitors"][0]["id"]
    token = visits.pass_token(HOST, vid)["token"]
    assert gate.decide("t1", "gate-main", "in", qr=token)["decision"] == "allow"
    second = gate.decide("t1", "gate-main", "in", qr=token)
    assert (second["decision"], second["reason"]) == (
        "deny",
        "already inside: no exit since the last entry",
    )
    assert gate.decide("t1", "gate-main", "out", qr=token)["decision"] == "allow"
    spent = gate.decide("t1", "gate-main", "in", qr=token)
    assert (spent["decision"], spent["reason"]) == ("deny", "no entries left on this pass")
    forged = passes.issue(
        Ed25519PrivateKey.generate(), passes.verify(gate._verify_key, token, clock(), timedelta(0))
    )
    assert (
        gate.decide("t1", "gate-main", "in", qr=forged)["reason"] == "forged pass (bad signature)"
    )
    assert (
        gate.decide("t1", "gate-east", "in", qr=token)["reason"] == "the pass is not for gate-east"
    )
    assert gate.decide("t1", "gate-main", "in", qr="garbage")["decision"] == "deny"
    other = invite(visits)
    token2 = visits.pass_token(HOST, other["visitors"][0]["id"])["token"]
    visits.revoke(HOST, other["visitors"][0]["id"])
    assert gate.decide("t1", "gate-main", "in", qr=token2)["reason"] == "the pass is revoked"
    clock.now = NOW + timedelta(hours=4)
    assert gate.decide("t1", "gate-main", "in", qr=token2)["reason"] == "the pass has expired"
    # a terminal whose clock is off is noted; the hub's clock decides
    clock.now = NOW
    late = gate.decide(
        "t1", "gate-main", "in", plate="沪A99999", terminal_ts=NOW - timedelta(hours=1)
    )
    assert late["evidence"]["terminal_clock_off_s"] == -3600


def test_near_matches_wait_for_a_guard_and_repeated_refusals_raise_an_alarm(world) -> None:  # type: ignore[no-untyped-def]
    _, gate, _, told, alarms = world
    gate.list_plate(GUARD, "浙A88888", "allow", owner="办公室 公务车")
    gate.list_plate(GUARD, "浙A66666", "block", note="曾强闯")
    near = gate.decide("cam", "gate-main", "in", plate="浙A8888B")
    assert (near["decision"], near["evidence"]["candidates"]) == ("review", ["浙A88888"])
    assert [r["id"] for r in gate.reviews()] == [near["id"]]
    done = gate.review(GUARD, near["id"], allow=True, note="看清是8")
    assert done["reviewed_by"] == "guard"
    assert gate.reviews() == []
    assert told[-1].allowed  # type: ignore[union-attr]
    assert gate.decide("cam", "gate-main", "in", plate="浙A88888")["reason"] == "staff car"
    assert gate.decide("cam", "gate-main", "in", plate="浙A66666")["reason"] == "blocked plate"
    for _ in range(2):
        gate.decide("cam", "gate-main", "in", plate="浙A66666")
    (alarm,) = alarms.list(type="gate_denied_repeatedly")
    assert (alarm["originator"], alarm["severity"]) == ("gate-main", "major")
    manual = gate.override(GUARD, "gate-main", "in", "快递员 张师傅", "送急件，已登记")
    assert (manual["credential"], manual["decision"]) == ("manual", "allow")


def test_overstay_alarms_and_tells_the_host_and_old_personal_data_is_purged(
    world, db: Database
) -> None:  # type: ignore[no-untyped-def]
    visits, gate, clock, told, alarms = world
    visit = invite(visits)
    gate.decide("cam", "gate-main", "in", plate="浙A10315")
    clock.now = NOW + timedelta(hours=3, minutes=31)
    assert gate.sweep() == 1
    (alarm,) = alarms.list(type="visitor_overstay")
    assert alarm["originator"] == f"visit:{visit['id']}"
    assert told[-1].notify == ("staff",)  # type: ignore[union-attr]
    assert gate.sweep() == 0  # once
    # visibility: the host, security; not another unit's staff
    assert visits.get(GUARD, visit["id"])["visitors"][0]["name"] == "王小明"
    with pytest.raises(NotFound):
        visits.get(OTHER, visit["id"])
    with pytest.raises(NotFound):  # nor may they cancel it
        visits.cancel(OTHER, visit["id"])
    clock.now = NOW + timedelta(days=31)
    assert gate.sweep() == 1  # the purge
    with db.session() as s:
        (row,) = s.query(Visitor).all()
        assert (row.name, row.phone, row.id_hash, row.id_last4, row.plate) == (
            "（已清除）",
            "",
            None,
            None,
            None,
        )
    assert visits.get(HOST, visit["id"])["visitors"][0]["purged"]


def test_terminals_presenting_at_once_are_decided_together_with_anti_passback_kept(world) -> None:  # type: ignore[no-untyped-def]
    """Forty scans of one pass and the visitor's car arriving together (decided in batches,
    one commit each): one entry each, the rest refused with the reason, an invalid request
    answered with its own error, and every decision logged."""
    visits, gate, _, _, _ = world
    vid = invite(visits)["visitors"][0]["id"]
    token = visits.pass_token(HOST, vid)["token"]
    scans = [Presented(f"t{i}", "gate-main", "in", qr=token) for i in range(40)]
    reads = [Presented(f"cam{i}", "gate-main", "in", plate="浙A1O315") for i in range(10)]
    wrong = Presented("t99", "gate-nowhere", "in", qr=token)

    async def together() -> list[dict[str, Any] | BaseException]:
        return await asyncio.gather(
            *(gate.queue.decide(p) for p in [*scans, wrong, *reads]), return_exceptions=True
        )

    answers = asyncio.run(together())
    people, (error,), cars = answers[:40], answers[40:41], answers[41:]
    assert isinstance(error, Invalid)
    assert "gate-nowhere" in str(error)
    for batch in (people, cars):
        assert [a["decision"] for a in batch].count("allow") == 1  # type: ignore[index]
        assert {a["reason"] for a in batch if a["decision"] == "deny"} == {  # type: ignore[index]
            "already inside: no exit since the last entry"
        }
    assert len(gate.decisions(limit=100)) == 50
    assert gate.queue.batches < 50  # they were decided in batches, not one transaction each


def test_a_special_plate_in_a_batch_is_answered_and_spares_the_others(world) -> None:  # type: ignore[no-untyped-def]
    """浙B66666警 (a suffix on an 8-character read) once hung the whole batch it came with."""
    visits, gate, _, _, _ = world
    invite(visits)
    odd = [
        Presented(f"cam{i}", "gate-main", "in", plate=p)
        for i, p in enumerate(["浙B66666警", "浙A1234应急", "使01400X", "WJ浙1234"])
    ]
    innocent = Presented("cam9", "gate-main", "in", plate="浙A10315")

    async def together() -> list[dict[str, Any] | BaseException]:
        decisions = [gate.queue.decide(p) for p in [*odd, innocent]]
        return await asyncio.wait_for(asyncio.gather(*decisions, return_exceptions=True), 10)

    *strange, car = asyncio.run(together())
    assert car["decision"] == "allow"  # type: ignore[index]
    for answer in strange:
        assert answer["decision"] in ("deny", "review"), answer  # type: ignore[index]
    with pytest.raises(Invalid, match="7 characters"):
        visits.register(
            HOST,
            purpose="x",
            start=NOW,
            end=NOW + timedelta(hours=1),
            visitors=[VisitorIn("王小明", "13800000000", "", "", "浙B66666警")],
        )


def test_a_visitor_car_enters_no_more_often_than_its_pass_allows(world) -> None:  # type: ignore[no-untyped-def]
    visits, gate, _, _, _ = world
    invite(visits, entries=2)
    outcomes = []
    for _ in range(3):
        outcomes.append(gate.decide("cam-1", "gate-main", "in", plate="浙A10315")["reason"])
        gate.decide("cam-2", "gate-main", "out", plate="浙A10315")
    assert outcomes == ["visitor car", "visitor car", "no entries left for this car"]


def test_big_visits_wait_for_someone_other_than_the_host(world, demo_site: Site) -> None:  # type: ignore[no-untyped-def]
    visits, _, _, _, _ = world
    crowd = [VisitorIn(f"访客{i}", "", "", "", "") for i in range(12)]  # over 10: approval

    def big(host: Principal) -> dict[str, Any]:
        return visits.register(
            host, purpose="会议", start=NOW, end=NOW + timedelta(hours=2), visitors=crowd
        )

    leader = Principal("leader", frozenset({Role.STAFF}), "u-office")  # u-office's approver
    own = big(leader)
    assert own["status"] == "invited"
    with pytest.raises(Forbidden, match="own"):
        visits.decide(leader, own["id"], True)
    # a unit without approvers: the big visit waits for security, it is not waved through
    edu = big(OTHER)
    assert edu["status"] == "invited"
    with pytest.raises(Forbidden):
        visits.decide(OTHER, edu["id"], True)
    assert visits.decide(GUARD, edu["id"], True)["status"] == "approved"
    # where the unit has an approver, security does not decide for it
    with pytest.raises(Forbidden):
        visits.decide(GUARD, big(HOST)["id"], True)


def test_after_the_retention_period_no_table_holds_a_visitors_data(world, db: Database) -> None:  # type: ignore[no-untyped-def]
    """Name, phone, ID digits and plate: gone from every column of every table, wherever the
    gate copied them (decisions, reviews, overrides, alarms, the audit trail)."""
    visits, gate, clock, _, alarms = world
    name, phone, id_number, plate = "欧阳测试", "13987654321", "33010219900101753X", "浙A10315"
    visit = visits.register(
        HOST,
        purpose="洽谈",
        start=NOW,
        end=NOW + timedelta(hours=2),
        visitors=[VisitorIn(name, phone, id_number, "某公司", plate)],
    )
    token = visits.pass_token(HOST, visit["visitors"][0]["id"])["token"]
    gate.decide("cam", "gate-main", "in", plate="浙A1O315")  # read with an O: corrected
    gate.decide("t1", "gate-main", "in", qr=token)
    near = gate.decide("cam", "gate-main", "out", plate="浙A1O3I5B")  # unreadable: review?
    for _ in range(5):  # repeated refusals of a stranger's plate: an alarm naming it
        gate.decide("cam", "gate-main", "in", plate="浙B99999")
    gate.override(GUARD, "gate-main", "in", f"{name}（忘带手机）", f"{name} 由主人接入")
    reviews = gate.reviews()
    if reviews:
        gate.review(GUARD, reviews[0]["id"], True, f"确认是{name}的车")
    clock.now = NOW + timedelta(hours=3, minutes=31)
    gate.sweep()  # the visitor is still inside: an overstay alarm naming them
    for a in alarms.list():
        alarms.acknowledge(a["id"], "guard", comment=f"已核实 {plate} {name}")
    assert {a["type"] for a in alarms.list()} >= {"gate_denied_repeatedly", "visitor_overstay"}
    assert near["decision"] in ("deny", "review")
    clock.now = NOW + timedelta(days=40)
    gate.sweep()
    traces = (name, phone, id_number, id_number[-4:], plate, "浙A1O315", "浙B99999")
    with db.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(table.select()):
                text = json.dumps([str(v) for v in row], ensure_ascii=False)
                left = [t for t in traces if t in text]
                assert not left, (table.name, left, text)
