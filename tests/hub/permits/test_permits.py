"""Cards and permits on SQLite and PostgreSQL: returned and sent again, refused, renewed (the
old card replaced), lost; door access listed per door; cards expiring and their holders
reminded; documents' photos purged; figures; bad applications refused whole."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid
from hub.identity.roles import Principal, Role
from hub.services.permits import Permits
from hub.site import Site
from hub.storage import Database
from hub.storage.models import Permit
from tests.support.clock import Clock

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=SH)
LI = Principal("li", frozenset({Role.STAFF}), "u-office")
LEADER = Principal("leader", frozenset({Role.STAFF}), "u-office")  # u-office's approver
GUARD = Principal("chief", frozenset({Role.SECURITY}), "u-security")
MANAGER = Principal("boss", frozenset({Role.MANAGER}), "u-logistics")


def photo() -> str:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), "grey").save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def permits(
    db: Database, demo_site: Site, clock: Clock, tmp_path: Path
) -> tuple[Permits, list[Notice]]:
    service = Permits(db, demo_site, tmp_path / "docs", clock=clock)
    told: list[Notice] = []
    service.announce = told.append
    return service, told


def through(service: Permits, permit_id: int) -> dict:  # type: ignore[type-arg]
    service.decide(LEADER, permit_id, "approve")
    service.decide(GUARD, permit_id, "approve")
    return service.issue(GUARD, permit_id)


def test_door_access_returned_changed_approved_renewed_and_listed_per_door(
    permits: tuple[Permits, list[Notice]], clock: Clock
) -> None:
    service, told = permits
    p = service.apply(LI, "door", doors=["b1"], note="新入职")
    assert told[-1].notify == ("leader",)
    returned = service.decide(LEADER, p["id"], "return", "请加上第一会议室")
    assert returned["status"] == "returned"
    assert told[-1].notify == ("li",)
    with pytest.raises(Conflict):
        service.decide(LEADER, p["id"], "approve")  # returned: it waits for li
    again = service.resubmit(LI, p["id"], doors=["b1", "r-101"])
    assert (again["status"], again["step"]) == ("applied", 0)
    issued = through(service, p["id"])
    assert issued["number"].startswith("DOO-2026-")
    lists = service.door_list(GUARD)
    assert [r["holder"] for r in lists["r-101"]] == ["li"]
    assert set(lists) == {"b1", "r-101"}
    with pytest.raises(Forbidden):
        service.door_list(LI)
    full = service.one(LI, p["id"])
    assert [(a["by"], a["approved"]) for a in full["approvals"]] == [
        ("leader", False),  # returned
        ("leader", True),
        ("chief", True),
    ]
    renewal = service.apply(LI, "door", renews=p["id"])
    assert renewal["doors"] == ["b1", "r-101"]
    through(service, renewal["id"])
    assert service.one(LI, p["id"])["status"] == "replaced"
    with pytest.raises(Conflict):
        service.apply(LI, "door", renews=p["id"])  # only a valid card is renewed


def test_cards_expire_their_holders_are_reminded_and_documents_are_purged(
    permits: tuple[Permits, list[Notice]], clock: Clock, db: Database
) -> None:
    service, told = permits
    p = service.apply(LI, "contractor", documents={"id_card": photo(), "contract": photo()})
    assert p["documents"] == ["contract", "id_card"]
    assert told[-1].notify == ("role:security",)  # its chain: security only
    service.decide(GUARD, p["id"], "approve")
    card = service.issue(GUARD, p["id"])
    assert datetime.fromisoformat(card["valid_until"]) == NOW + timedelta(days=30)
    clock.advance(1 * 86400)
    assert service.sweep() == 1  # 30 days' validity, reminded 30 days ahead: at once
    assert told[-1].subject == "【施工临时证】续办提醒"
    assert service.sweep() == 0
    clock.advance(30 * 86400)
    assert service.sweep() == 1
    assert service.one(LI, p["id"])["status"] == "expired"
    files = list(service.files.iterdir())
    assert len(files) == 2
    assert service.purge(clock.now + timedelta(seconds=1)) == 1
    assert list(service.files.iterdir()) == []
    assert service.one(LI, p["id"])["documents"] == []

    lost = service.apply(LI, "canteen_card")
    cook = Principal("cook", frozenset({Role.CANTEEN}), "u-logistics")
    service.issue(cook, lost["id"])
    with pytest.raises(Forbidden):
        service.issue(GUARD, lost["id"])  # the canteen's window issues canteen cards
    assert service.act(LI, lost["id"], "lost")["status"] == "lost"

    def year(y: int) -> tuple[int, int]:
        rows = service.figures(MANAGER, y)["rows"]
        total = next(r for r in rows if r["month"] == 0 and r["kind"] == "")
        return total["applied"], total["issued"]

    assert (year(2026), year(2027)) == ((1, 1), (1, 1))  # the contractor's; the canteen card
    with db.session() as s:
        assert s.scalar(select(func.count(Permit.id))) == 2


def test_bad_applications_are_refused_whole(
    permits: tuple[Permits, list[Notice]], db: Database
) -> None:
    service, told = permits
    for kind, extra in (
        ("parking", {"plate": "浙A12345"}),  # no driving licence
        ("parking", {"plate": "12", "documents": {"driving_licence": photo()}}),
        ("parking", {"plate": "浙A12345", "documents": {"driving_licence": "data:,nope"}}),
        (
            "parking",
            {"plate": "浙A12345", "documents": {"driving_licence": photo(), "photo": photo()}},
        ),
        ("door", {"doors": ["the-moon"]}),
        ("door", {}),
        ("canteen_card", {"plate": "浙A12345"}),
        ("spaceship", {}),
    ):
        with pytest.raises(Invalid):
            service.apply(LI, kind, **extra)  # type: ignore[arg-type]
    with db.session() as s:
        assert s.scalar(select(func.count(Permit.id))) == 0
    assert told == []
    assert not service.files.exists() or list(service.files.iterdir()) == []
    p = service.apply(LI, "parking", plate="浙A12345", documents={"driving_licence": photo()})
    with pytest.raises(Forbidden):
        service.decide(GUARD, p["id"], "approve")  # the unit's step first
    with pytest.raises(Forbidden):
        service.decide(LI, p["id"], "approve")  # never one's own
    with pytest.raises(Invalid):
        service.decide(LEADER, p["id"], "refuse")  # a refusal says why
    refused = service.decide(LEADER, p["id"], "refuse", "车辆不在本人名下")
    assert refused["status"] == "refused"
    again = service.apply(LI, "parking", plate="浙A12345", documents={"driving_licence": photo()})
    assert again["status"] == "applied"  # a refused plate is free again
