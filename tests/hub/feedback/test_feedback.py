"""Suggestions and complaints on SQLite and PostgreSQL: an anonymous complaint routed to its
category, reminded, escalated when its target passes, answered late, closed and rated by
code alone, with nothing in the database naming its writer; a named suggestion followed,
reopened, put on the board without its writer; the figures; bad input refused whole."""

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
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.feedback import Draft, Feedback, normal_code
from hub.site import Site
from hub.storage import Database
from hub.storage.models import AuditEntry, FeedbackEntry, FeedbackItem
from tests.support.clock import Clock

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=SH)  # a working day; business hours 08:30-17:30
WRITER = Principal("wen", frozenset({Role.STAFF}), "u-edu")
COOK = Principal("cook", frozenset({Role.CANTEEN}), "u-logistics")
MANAGER = Principal("manager", frozenset({Role.MANAGER}), "u-logistics")
OTHER = Principal("zhao", frozenset({Role.STAFF}), "u-finance")


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def feedback(
    db: Database, demo_site: Site, clock: Clock, tmp_path: Path
) -> tuple[Feedback, list[Notice]]:
    service = Feedback(db, demo_site, b"s" * 32, tmp_path / "photos", clock=clock)
    told: list[Notice] = []
    service.announce = told.append
    return service, told


def complaint(**changes: object) -> Draft:
    base = {
        "kind": "complaint",
        "category": "canteen",
        "title": "午餐的汤太咸",
        "body": "连续三天午餐的汤都很咸。",
        "building": "b3",
        "anonymous": True,
    }
    return Draft(**{**base, **changes})  # type: ignore[arg-type]


def photo() -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_an_anonymous_complaint_is_escalated_answered_late_closed_and_rated_by_code_alone(
    feedback: tuple[Feedback, list[Notice]], db: Database, clock: Clock
) -> None:
    service, told = feedback
    item = service.submit(WRITER, complaint(photos=(photo(),)))
    code = item["code"]
    assert len(code) == 19
    assert item["anonymous"]
    assert item["writer"] is None
    assert item["status"] == "received"
    assert item["photos"] == 1
    # due by 13:00 (240 business minutes), reminded at three quarters of it (12:00)
    assert datetime.fromisoformat(item["answer_due"]) == MONDAY.replace(hour=13)
    (routed,) = told
    assert routed.notify == ("role:canteen",)
    assert routed.subject == "【投诉·食堂餐饮】午餐的汤太咸"
    assert "wen" not in routed.body

    # nothing in the database says who wrote it
    with db.session() as s:
        row = s.scalars(select(FeedbackItem)).one()
        assert (row.writer, row.writer_unit) == (None, None)
        assert row.code_hash
        assert normal_code(code) not in row.code_hash
        actors = set(s.scalars(select(FeedbackEntry.actor))) | set(
            s.scalars(select(AuditEntry.actor))
        )
        details = [str(d) for d in s.scalars(select(AuditEntry.detail))]
    assert "wen" not in actors
    assert not any("wen" in d or "u-edu" in d for d in details)
    assert service.mine(WRITER) == []

    # the code alone finds it (typed in lower case, without dashes); a wrong one nothing
    assert service.followed(code.lower().replace("-", ""))["id"] == item["id"]
    with pytest.raises(NotFound):
        service.followed("7KQ2-M9XD-4HTR-0BCW")

    clock.now = MONDAY.replace(hour=12, minute=1)
    assert service.sweep() == 1
    assert told[-1].subject.startswith("【提醒】")
    assert told[-1].notify == ("role:canteen",)
    assert service.sweep() == 0  # reminded once
    clock.now = MONDAY.replace(hour=13, minute=5)
    assert service.sweep() == 1
    escalated = told[-1]
    assert escalated.subject == "【督办】【投诉·食堂餐饮】午餐的汤太咸"
    assert "manager" in escalated.notify
    assert "role:canteen" in escalated.notify
    seen = service.followed(code)
    assert seen["escalated_at"]
    assert seen["answer_late"]
    assert [e["action"] for e in seen["log"]] == ["received", "escalated"]  # no reminder shown

    clock.now = MONDAY.replace(hour=15)
    with pytest.raises(Forbidden):
        service.act(OTHER, item["id"], "accept")
    with pytest.raises(Invalid):
        service.act(COOK, item["id"], "answer", "  ")  # an answer says something
    service.act(COOK, item["id"], "note", "查一下这周的盐的用量")  # the handlers' own
    answered = service.act(COOK, item["id"], "answer", "已调整配方，汤减盐三成。")
    assert answered["status"] == "answered"
    assert answered["responded_at"]
    assert answered["handler"] == "cook"
    with pytest.raises(Conflict):
        service.act(COOK, item["id"], "decline", "晚了")  # an answered item is not declined
    service.act(COOK, item["id"], "close", "已办结")
    rated = service.rate(code, 4, "好多了")
    assert (rated["status"], rated["rating"]) == ("closed", 4)
    with pytest.raises(Conflict):
        service.rate(code, 5)
    writer_view = service.followed(code)
    assert "查一下这周的盐的用量" not in str(writer_view)
    assert [e["action"] for e in writer_view["log"]] == [
        "received",
        "escalated",
        "answer",
        "close",
        "rated",
    ]
    assert told[-1].notify == ("cook",)
    assert told[-1].subject.startswith("【评价 4/5】")

    figures = service.figures(COOK, 2026)
    year = next(r for r in figures["rows"] if r["month"] == 0 and r["category"] == "")
    assert (year["received"], year["answered"], year["answered_in_time"]) == (1, 1, 0)
    assert (year["closed"], year["rating"]) == (1, 4.0)

    # a year after closing: who wrote it, its code and photos are forgotten
    assert service.forget(clock.now + timedelta(days=1)) == 1
    with pytest.raises(NotFound):
        service.followed(code)
    assert list(service.photos.iterdir()) == []


def test_a_named_suggestion_is_followed_reopened_and_put_on_the_board_without_its_writer(
    feedback: tuple[Feedback, list[Notice]], clock: Clock
) -> None:
    service, told = feedback
    item = service.submit(
        WRITER,
        complaint(
            kind="suggestion",
            category="other",
            title="<b>开放</b>周末自习室",
            body="<script>x()</script>周末开放",
            anonymous=False,
            building=None,
            room="r-101",
        ),
    )
    assert "code" not in item
    assert item["writer"] == "wen"
    assert item["title"] == "<b>开放</b>周末自习室"  # kept as written; pages show it as text
    assert item["building"] == "b1"  # the room's building
    assert told[-1].notify == ("leader",)  # "other" goes to the office's leader
    assert [i["id"] for i in service.mine(WRITER)] == [item["id"]]
    assert service.waiting_for_writer(WRITER)[0]["id"] == item["id"]
    leader = Principal("leader", frozenset({Role.STAFF}), "u-office")
    assert service.queue(OTHER) == []  # answers no category
    assert [i["id"] for i in service.queue(leader, status="open")] == [item["id"]]
    service.act(leader, item["id"], "accept")
    assert told[-1].notify == ("wen",)
    assert told[-1].subject == "【已受理】<b>开放</b>周末自习室"
    service.act(leader, item["id"], "answer", "下周起周六开放。")
    with pytest.raises(NotFound):
        service.followed(OTHER, item["id"])  # not theirs
    again = service.add(WRITER, "周日也可以吗？", item["id"])
    assert again["status"] == "in_hand"
    assert told[-1].subject.startswith("【补充】")
    assert "leader" in told[-1].notify
    service.act(leader, item["id"], "answer", "周日也开放。")
    service.act(leader, item["id"], "publish")
    (shown,) = service.board()
    assert shown["writer"] is None
    assert shown["reply"] == "周日也开放。"
    service.act(leader, item["id"], "publish", public=False)
    assert service.board() == []
    # a week after the answer with nothing added, the hub closes it
    clock.advance(8 * 86400)
    assert service.sweep() == 1
    assert service.followed(WRITER, item["id"])["status"] == "closed"


def test_bad_input_is_refused_whole(feedback: tuple[Feedback, list[Notice]], db: Database) -> None:
    service, told = feedback
    for bad in (
        complaint(kind="praise"),
        complaint(category="parking"),
        complaint(title="   "),
        complaint(body="x" * 5001),
        complaint(room="r-999"),
        complaint(lat=95.0, lon=120.0),
        complaint(lat=30.0),
        complaint(photos=(photo(),) * 4),
        complaint(photos=(photo(), "data:image/png;base64,AAAA")),  # the second is no image
        complaint(photos=("not base64!",)),
    ):
        with pytest.raises(Invalid):
            service.submit(WRITER, bad)
    with db.session() as s:
        assert s.scalar(select(func.count(FeedbackItem.id))) == 0
    assert told == []
    assert not service.photos.exists()
    item = service.submit(WRITER, complaint(anonymous=False))
    with pytest.raises(Conflict):
        service.rate(WRITER, 5, item_id=item["id"])  # nothing answered yet
    service.act(COOK, item["id"], "decline", "不属于食堂")
    with pytest.raises(Conflict):
        service.add(WRITER, "还有", item["id"])  # declined: write a new one
