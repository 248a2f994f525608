"""Notices on SQLite and PostgreSQL: published to units and roles, read and acknowledged, the
stragglers seen by the author and reminded once, scheduled and expiring, text sanitised, and
refused whole when wrong."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.notices import Audience, Notices, sanitise
from hub.services.notices.files import MAX_SIZE, Files
from hub.site import Site
from hub.storage import Database
from hub.storage.models import AuditEntry, User, UserRole
from tests.support.clock import Clock

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=SH)
OFFICE = Principal("office", frozenset({Role.MANAGER, Role.STAFF}), "u-office")
PEOPLE = {  # username: (unit, roles)
    "office": ("u-office", ["manager", "staff"]),
    "li": ("u-edu", ["staff"]),
    "wang": ("u-edu", ["staff"]),
    "zhao": ("u-finance", ["staff"]),
    "guard1": ("u-security", ["security"]),
}


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def notices(
    db: Database, demo_site: Site, clock: Clock, tmp_path: Path
) -> tuple[Notices, list[Notice]]:
    with db.session() as s:
        for name, (unit, roles) in PEOPLE.items():
            user = User(username=name, password_hash="-", work_unit=unit)
            user.roles = [UserRole(role=r) for r in roles]
            s.add(user)
    service = Notices(db, demo_site, clock=clock, files=Files(tmp_path / "files"))
    told: list[Notice] = []
    service.announce = told.append
    return service, told


def who(name: str) -> Principal:
    unit, roles = PEOPLE[name]
    return Principal(name, frozenset(Role(r) for r in roles), unit)


def test_a_notice_to_a_unit_and_a_role_reaches_them_and_the_author_sees_who_has_not_confirmed(
    notices: tuple[Notices, list[Notice]], db: Database
) -> None:
    service, told = notices
    n = service.publish(
        OFFICE,
        title="关于 12 月消防演练的通知",
        body="<p>请各单位于<b>周五 15:00</b>到广场集合。</p><script>alert(1)</script>",
        audience=Audience(units=("u-edu",), roles=("security",)),
        must_ack=True,
    )
    assert (n["status"], n["recipients"]) == ("published", 3)
    assert "<script>" not in n["body"]
    assert "<b>周五 15:00</b>" in n["body"]
    (letter,) = told
    assert sorted(letter.notify) == ["guard1", "li", "wang"]
    assert letter.subject == "【请确认】关于 12 月消防演练的通知"
    assert letter.link == f"/notices.html#notice={n['id']}"
    assert [x["id"] for x in service.mine(who("li"))] == [n["id"]]
    assert service.mine(who("zhao")) == []  # another unit
    with pytest.raises(NotFound):
        service.read(who("zhao"), n["id"])
    assert [x["title"] for x in service.waiting_for("li")] == [n["title"]]
    opened = service.read(who("li"), n["id"])
    assert opened["read_at"] is not None
    assert opened["acked_at"] is None
    service.acknowledge(who("li"), n["id"])
    assert service.waiting_for("li") == []
    service.read(who("wang"), n["id"])  # read, not confirmed
    seen = service.receipts(OFFICE, n["id"])
    assert (seen["read"], seen["acknowledged"]) == (2, 1)
    assert {(x["username"], x["read"]) for x in seen["stragglers"]} == {
        ("wang", True),
        ("guard1", False),
    }
    assert {x["unit_name"] for x in seen["stragglers"]} == {"区教育局", "大院保卫科"}
    with pytest.raises(NotFound):  # only the author (or an administrator) sees receipts
        service.receipts(who("li"), n["id"])
    reminded = service.remind(OFFICE, n["id"])
    assert reminded["reminded"] == 2
    assert sorted(told[-1].notify) == ["guard1", "wang"]
    with pytest.raises(Conflict) as again:
        service.remind(OFFICE, n["id"])
    assert again.value.key == "notice.reminded"
    with db.session() as s:
        actions = [
            a for (a,) in s.query(AuditEntry.action).filter(AuditEntry.target == str(n["id"]))
        ]
    assert {"notice.create", "notice.publish", "notice.acknowledge", "notice.remind"} <= set(
        actions
    )


def test_scheduled_notices_wait_their_time_pinned_come_first_and_expired_ones_go(
    notices: tuple[Notices, list[Notice]], clock: Clock
) -> None:
    service, told = notices
    later = service.publish(
        OFFICE,
        title="元旦放假安排",
        body="<p>1 月 1 日放假一天。</p>",
        audience=Audience(everyone=True),
        publish_at=NOW + timedelta(hours=2),
    )
    assert later["status"] == "scheduled"
    assert told == []
    assert service.mine(who("zhao")) == []
    pinned = service.publish(
        OFFICE,
        title="食堂就餐须知",
        body="<p>请自带餐具。</p>",
        audience=Audience(everyone=True),
        pinned=True,
        expires_at=NOW + timedelta(days=1),
    )
    clock.now = NOW + timedelta(hours=2)
    assert service.release_due() == 1
    assert service.release_due() == 0  # once
    assert sorted(told[-1].notify) == sorted(PEOPLE)  # everyone
    assert [x["title"] for x in service.mine(who("zhao"))] == ["食堂就餐须知", "元旦放假安排"]
    clock.now = NOW + timedelta(days=2)
    assert [x["title"] for x in service.mine(who("zhao"))] == ["元旦放假安排"]
    with pytest.raises(NotFound):
        service.read(who("zhao"), pinned["id"])
    service.withdraw(OFFICE, later["id"])
    assert service.mine(who("zhao")) == []


def test_bad_notices_are_refused_whole(notices: tuple[Notices, list[Notice]]) -> None:
    service, told = notices
    ok = {"title": "标题", "body": "<p>正文</p>", "audience": Audience(everyone=True)}
    with pytest.raises(Forbidden):
        service.publish(who("li"), **ok)  # type: ignore[arg-type]
    cases = [
        ({"body": "<script>alert(1)</script>"}, "notice.empty"),
        ({"title": "   "}, "notice.empty"),
        ({"audience": Audience()}, "notice.audience"),
        ({"audience": Audience(units=("u-nowhere",))}, "notice.unit"),
        ({"audience": Audience(roles=("emperor",))}, "notice.role"),
        ({"expires_at": NOW - timedelta(hours=1)}, "notice.expiry"),
    ]
    for change, key in cases:
        with pytest.raises(Invalid) as err:
            service.publish(OFFICE, **{**ok, **change})  # type: ignore[arg-type]
        assert err.value.key == key, change
    assert service.authored(OFFICE) == []
    assert told == []
    plain = service.publish(OFFICE, **ok)  # type: ignore[arg-type]
    with pytest.raises(Conflict):  # nothing to acknowledge
        service.acknowledge(who("li"), plain["id"])


def test_what_a_notices_text_may_hold() -> None:
    dirty = (
        '<p style="color:red" onclick="x()">安排</p><img src="http://evil/x.png">'
        '<a href="javascript:alert(1)">点我</a><a href="https://gov.example/a">附件</a>'
        "<iframe src=//x></iframe><ul><li>一</li></ul>"
    )
    clean = sanitise(dirty)
    assert clean.startswith("<p>安排</p>")
    for gone in ("style", "onclick", "<img", "javascript:", "<iframe"):
        assert gone not in clean
    assert 'href="https://gov.example/a"' in clean
    assert "<li>一</li>" in clean


def office_file() -> bytes:
    """The smallest thing an Office program calls a document: a zip with its content types."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def test_attachments_go_with_their_notice_to_its_readers_and_only_files_that_are_what_they_say(
    notices: tuple[Notices, list[Notice]], clock: Clock
) -> None:
    service, _ = notices
    pdf = service.stage(OFFICE, "../../安排/演练方案.pdf", b"%PDF-1.7 plan")
    doc = service.stage(OFFICE, "签到表.docx", office_file())
    assert pdf["name"] == "演练方案.pdf"  # no folders
    assert pdf["type"] == "application/pdf"
    for name, data in (
        ("run.exe", b"MZ"),
        ("fake.pdf", b"<script>alert(1)</script>"),
        ("fake.docx", b"PK\x03\x04 not a zip"),
        ("big.pdf", b"%PDF-" + b"0" * MAX_SIZE),
        ("empty.txt", b""),
    ):
        with pytest.raises(Invalid):
            service.stage(OFFICE, name, data)
    with pytest.raises(Forbidden):
        service.stage(who("li"), "x.pdf", b"%PDF-")
    other = Principal("other", frozenset({Role.MANAGER}), "u-office")
    with pytest.raises(Invalid):  # someone else's upload
        service.publish(
            other, title="t", body="b", audience=Audience(everyone=True), attachments=[pdf["id"]]
        )
    n = service.publish(
        OFFICE,
        title="消防演练",
        body="见附件",
        audience=Audience(buildings=("b2",)),  # the work units in building 2
        attachments=[pdf["id"], doc["id"]],
        display=True,
    )
    assert n["recipients"] == 2  # li and wang of u-edu (building 2)
    assert [a["name"] for a in n["attachments"]] == ["演练方案.pdf", "签到表.docx"]
    path, name, kind = service.attachment(who("li"), n["id"], n["attachments"][0]["id"])
    assert path.read_bytes() == b"%PDF-1.7 plan"
    assert (name, kind) == ("演练方案.pdf", "application/pdf")
    with pytest.raises(NotFound):
        service.attachment(who("zhao"), n["id"], n["attachments"][0]["id"])  # not for her
    assert service.attachment(OFFICE, n["id"], n["attachments"][1]["id"])[1] == "签到表.docx"
    with pytest.raises(Invalid):  # published once: the upload is the notice's now
        service.publish(
            OFFICE, title="t", body="b", audience=Audience(everyone=True), attachments=[pdf["id"]]
        )
    assert [d["title"] for d in service.displayed()] == ["消防演练"]
    service.withdraw(OFFICE, n["id"])
    assert service.displayed() == []
    # a year after it expired: the notice, its receipts and its files go
    with_expiry = service.publish(
        OFFICE,
        title="旧",
        body="b",
        audience=Audience(everyone=True),
        attachments=[service.stage(OFFICE, "a.txt", "内容".encode())["id"]],
        expires_at=NOW + timedelta(days=1),
    )
    kept = service.attachment(OFFICE, with_expiry["id"], with_expiry["attachments"][0]["id"])[0]
    clock.advance(400 * 86400)
    assert service.forget_receipts(clock.now - timedelta(days=365)) == 1
    assert not kept.exists()
