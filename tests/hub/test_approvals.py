"""One approval chain for rooms, cars and visits, on SQLite and PostgreSQL: who may take each
step, what a decision makes of the request, and the history kept of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, create_engine, text

from hub.errors import Conflict, Forbidden
from hub.identity.roles import Principal, Role
from hub.services.approvals import Approvals, Outcome, Request, history
from hub.site import Site
from hub.site.model import WorkUnit
from hub.storage import Database
from hub.storage.migrate import upgrade

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def person(name: str, *roles: Role) -> Principal:
    return Principal(name, frozenset(roles or {Role.STAFF}), "u-finance")


@pytest.fixture
def approvals(demo_site: Site) -> Approvals:
    units = [
        *demo_site.work_units,
        WorkUnit(id="u-two", name="两级审批", approvers=["chief", "deputy"]),
        WorkUnit(id="u-solo", name="一人审批", approvers=["boss"]),
    ]
    return Approvals(demo_site.model_copy(update={"work_units": units}))


def test_a_car_walks_its_units_approvers_in_order(approvals: Approvals, db: Database) -> None:
    car = Request("vehicle", "7", "u-two", "clerk")
    with db.session() as s, pytest.raises(Forbidden, match="chief"):  # the chief's step first
        approvals.decide(s, car, person("deputy"), True, NOW)
    with db.session() as s:
        assert approvals.decide(s, car, person("chief"), True, NOW) is Outcome.PENDING
        assert (
            approvals.decide(s, car, person("deputy"), True, NOW, "去市里开会") is Outcome.APPROVED
        )
        with pytest.raises(Conflict):
            approvals.decide(s, car, person("deputy"), True, NOW)
        steps = history(approvals.steps(s, car))
    assert [(h["step"], h["by"], h["approved"], h["note"]) for h in steps] == [
        (1, "chief", True, ""),
        (2, "deputy", True, "去市里开会"),
    ]


def test_nobody_approves_their_own_request_and_the_fallback_decides_then(
    approvals: Approvals, db: Database
) -> None:
    own = Request("vehicle", "8", "u-solo", "boss")  # the unit's only approver asks
    assert approvals.chain(own) == []
    assert approvals.waits(own)  # ... and still waits
    with db.session() as s:
        with pytest.raises(Forbidden, match="own"):
            approvals.decide(s, own, person("boss", Role.ADMIN), True, NOW)
        assert approvals.decide(s, own, person("root", Role.ADMIN), True, NOW) is Outcome.APPROVED
    visit = Request("visit", "3", "u-solo", "boss")
    assert approvals.may_decide(person("guard", Role.SECURITY), visit, 0)  # security decides
    assert not approvals.may_decide(person("clerk"), visit, 0)
    room = Request("room", "5", "u-solo", "boss")
    assert not approvals.may_decide(person("guard", Role.SECURITY), room, 0)  # rooms: admins


def test_a_rejection_ends_the_chain(approvals: Approvals, db: Database) -> None:
    visit = Request("visit", "4", "u-office", "clerk")  # leader approves u-office's visits
    with db.session() as s:
        assert approvals.decide(s, visit, person("leader"), False, NOW) is Outcome.REJECTED
        with pytest.raises(Conflict, match="rejected"):
            approvals.decide(s, visit, person("root", Role.ADMIN), True, NOW)
    assert approvals.waits(Request("vehicle", "", "u-finance", "clerk")) is False  # no approvers


def test_the_decisions_made_before_the_one_chain_become_its_history(database_url: str) -> None:
    engine = create_engine(database_url)
    upgrade(engine, "0008")
    car = [{"step": 1, "by": "chief", "at": "2026-11-02T01:00:00+00:00", "approved": True}]
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        conn.execute(
            meta.tables["vehicle_requests"]
            .insert()
            .values(
                id=5,
                requester="clerk",
                unit="u-two",
                purpose="开会",
                destination="市政府",
                passengers=2,
                start=NOW,
                end=NOW,
                status="pending",
                approvals=car,
                trip={},
                extras={},
                note="",
                created_at=NOW,
            )
        )
        conn.execute(
            meta.tables["audit_log"]
            .insert()
            .values(
                ts=NOW,
                actor="leader",
                action="booking.reject",
                target="r-101",
                detail={"bookings": [11, 12]},
                note="",
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, subject, step, approver, approved FROM approval_steps ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("vehicle", "5", 1, "chief", True),
        ("room", "11", 1, "leader", False),
        ("room", "12", 1, "leader", False),
    ]
