"""Questionnaires on SQLite and PostgreSQL: every kind of question, conditions and required
ones; one answer each, a draft saved and finished later; an anonymous questionnaire whose
answers carry nothing of who gave them, its anonymity fixed once someone starts; results while
it runs; exports; refusals that leave nothing half-written."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.audience import Audience
from hub.services.surveys import Surveys, as_csv, as_xlsx, table
from hub.site import Site
from hub.storage import Database
from hub.storage.models import AuditEntry, SurveyParticipant, SurveyResponse, User, UserRole
from tests.support.clock import Clock

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=SH)
OFFICE = Principal("office", frozenset({Role.MANAGER}), "u-office")
LI = Principal("li", frozenset({Role.STAFF}), "u-edu")
WANG = Principal("wang", frozenset({Role.STAFF}), "u-edu")
ZHAO = Principal("zhao", frozenset({Role.STAFF}), "u-finance")
COOK = Principal("cook", frozenset({Role.CANTEEN}), "u-logistics")
QUESTIONS = [
    {
        "id": "often",
        "type": "single",
        "title": "多久来一次食堂",
        "required": True,
        "options": ["每天", "每周几次", "很少"],
    },
    {
        "id": "why",
        "type": "multiple",
        "title": "为什么很少来",
        "options": ["太远", "太贵", "不好吃"],
        "when": {"question": "often", "any_of": ["很少"]},
    },
    {"id": "taste", "type": "scale", "title": "口味", "scale": 5, "required": True},
    {"id": "parts", "type": "matrix", "title": "各项满意度", "scale": 10, "rows": ["菜量", "价格"]},
    {"id": "say", "type": "text", "title": "还想说的"},
]


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def surveys(db: Database, demo_site: Site, clock: Clock) -> tuple[Surveys, list[Notice]]:
    with db.session() as s:
        for p in (OFFICE, LI, WANG, ZHAO, COOK):
            user = User(username=p.name, password_hash="-", work_unit=p.work_unit)
            user.roles = [UserRole(role=r.value) for r in p.roles]
            s.add(user)
    service = Surveys(db, demo_site, b"k" * 32, clock=clock)
    told: list[Notice] = []
    service.announce = told.append
    return service, told


def make(service: Surveys, *, anonymous: bool, **extra: object) -> dict:  # type: ignore[type-arg]
    return service.create(
        OFFICE,
        title="食堂满意度调查",
        questions=QUESTIONS,
        audience=Audience(units=("u-edu",)),
        closes_at=NOW + timedelta(days=7),
        anonymous=anonymous,
        **extra,  # type: ignore[arg-type]
    )


def test_an_anonymous_questionnaire_takes_one_answer_each_and_keeps_nothing_of_who(
    surveys: tuple[Surveys, list[Notice]], db: Database, clock: Clock
) -> None:
    service, told = surveys
    v = make(service, anonymous=True)
    assert v["status"] == "open"
    (letter,) = told
    assert sorted(letter.notify) == ["li", "wang"]
    assert letter.subject == "【问卷】食堂满意度调查"
    assert [x["state"] for x in service.for_me(LI)] == ["new"]
    assert service.for_me(ZHAO) == []  # another unit
    with pytest.raises(NotFound):
        service.open_one(ZHAO, v["id"])

    token = service.start(LI, v["id"])["token"]
    assert token
    with pytest.raises(Conflict):
        service.start(LI, v["id"])  # a second token would be a second answer
    with pytest.raises(Conflict):
        service.change(OFFICE, v["id"], anonymous=False)  # fixed once someone started

    # a draft today, finished tomorrow
    saved = service.save(LI, v["id"], {"often": "很少", "why": ["太贵", "太远"]}, token=token)
    assert saved["answers"]["why"] == ["太远", "太贵"]  # in the question's order
    assert not saved["complete"]
    assert service.open_one(LI, v["id"], token)["answers"]["often"] == "很少"
    assert service.open_one(LI, v["id"])["answers"] == {}  # without the token: nothing of hers
    clock.advance(86400)
    with pytest.raises(Invalid):
        service.save(LI, v["id"], {"often": "很少"}, token=token, submit=True)  # taste required
    done = service.save(
        LI,
        v["id"],
        {
            "often": "很少",
            "why": ["太贵"],
            "taste": 2,
            "parts": {"菜量": 7, "价格": 3},
            "say": '=HYPERLINK("x")<script>',
        },
        token=token,
        submit=True,
    )
    assert done["submitted"]
    with pytest.raises(Conflict):
        service.save(LI, v["id"], {"often": "每天", "taste": 5}, token=token, submit=True)

    wang = service.start(WANG, v["id"])["token"]
    service.save(
        WANG, v["id"], {"often": "每天", "why": ["太贵"], "taste": 4}, token=wang, submit=True
    )

    with db.session() as s:
        rows = list(s.scalars(select(SurveyResponse)))
        participants = sorted(s.scalars(select(SurveyParticipant.username)))
        audit = [(a.actor, a.action) for a in s.scalars(select(AuditEntry))]
    assert participants == ["li", "wang"]  # who took part: kept, to keep it to one each
    assert all(r.username is None and r.unit is None for r in rows)
    assert all(token not in str(r.token_hash) for r in rows)
    assert {r.day.isoformat() for r in rows} == {"2026-12-08"}  # the day, no time
    assert ("li", "survey.answer") not in audit
    wang_row = next(r for r in rows if r.answers["often"] == "每天")
    assert "why" not in wang_row.answers  # not asked: the condition was not met

    results = service.results(OFFICE, v["id"])
    assert results["answered"] == 2
    assert results["started"] == 2
    often, why, taste, parts, say = results["questions"]
    assert [c["count"] for c in often["counts"]] == [1, 0, 1]
    assert [c["count"] for c in why["counts"]] == [0, 1, 0]
    assert taste["mean"] == 3.0
    assert [r["mean"] for r in parts["rows"]] == [7.0, 3.0]
    assert say["texts"] == ['=HYPERLINK("x")<script>']
    with pytest.raises(NotFound):
        service.results(LI, v["id"])  # its author's

    survey, responses = service.rows(OFFICE, v["id"])
    rows_out = table(survey, service.questions(survey), responses)
    header = rows_out[0]
    assert "填写人 person" not in header
    assert header[:2] == ["编号 id", "日期 day"]
    text = as_csv(rows_out).decode("utf-8-sig")
    assert "li" not in set(text.replace(",", " ").split())
    assert "'=HYPERLINK" in text  # a formula kept as text
    parsed = list(csv.reader(io.StringIO(text)))
    assert len(parsed) == 3
    sheet = load_workbook(io.BytesIO(as_xlsx(survey.title, rows_out))).active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:2] == ["编号 id", "日期 day"]
    assert sheet.max_row == 3

    clock.now = NOW + timedelta(days=8)
    with pytest.raises(Conflict):
        service.save(WANG, v["id"], {}, token=wang)  # closed
    assert service.forget(clock.now + timedelta(days=1)) == 2
    assert service.results(OFFICE, v["id"])["answered"] == 2  # the answers stay


def test_a_named_questionnaire_knows_each_answer_and_refuses_bad_ones_whole(
    surveys: tuple[Surveys, list[Notice]], db: Database
) -> None:
    service, _ = surveys
    v = make(service, anonymous=False)
    assert service.start(LI, v["id"])["token"] is None
    assert service.for_me(LI)[0]["state"] == "draft"
    for bad in (
        {"often": "有时"},  # not an option
        {"taste": 6},
        {"taste": True},
        {"parts": {"环境": 5}},
        {"nope": 1},
        {"say": "x" * 2001},
    ):
        with pytest.raises(Invalid):
            service.save(LI, v["id"], bad)
    with db.session() as s:
        (row,) = s.scalars(select(SurveyResponse))
        assert row.answers == {}  # nothing half-written
    service.save(LI, v["id"], {"often": "每天", "taste": 5}, submit=True)
    assert service.for_me(LI)[0]["state"] == "done"
    with pytest.raises(Conflict):
        service.save(LI, v["id"], {"often": "每天", "taste": 4}, submit=True)
    survey, responses = service.rows(OFFICE, v["id"])
    rows = table(survey, service.questions(survey), responses)
    assert rows[1][2:4] == ["li", "u-edu"]
    assert service.change(OFFICE, v["id"], closes_at=NOW + timedelta(days=9))["closes_at"]


def test_making_a_questionnaire_is_checked(surveys: tuple[Surveys, list[Notice]]) -> None:
    service, told = surveys
    for questions in (
        [],
        [{"id": "a", "type": "single", "title": "一个选项", "options": ["是"]}],
        [{"id": "a", "type": "text", "title": "x"}, {"id": "a", "type": "text", "title": "y"}],
        [{"id": "a", "type": "text", "title": "x", "when": {"question": "b", "any_of": ["是"]}}],
        [
            {"id": "a", "type": "single", "title": "x", "options": ["是", "否"]},
            {
                "id": "b",
                "type": "text",
                "title": "y",
                "when": {"question": "a", "any_of": ["也许"]},
            },
        ],
        [{"id": "a", "type": "matrix", "title": "x"}],
        [{"id": "a", "type": "rank", "title": "x"}],
    ):
        with pytest.raises(Invalid):
            service.create(
                OFFICE,
                title="t",
                questions=questions,
                audience=Audience(everyone=True),
                closes_at=NOW + timedelta(days=1),
            )
    with pytest.raises(Invalid):
        service.create(
            OFFICE,
            title="t",
            questions=QUESTIONS,
            audience=Audience(),
            closes_at=NOW + timedelta(days=1),
        )
    with pytest.raises(Forbidden):
        service.create(
            LI,
            title="t",
            questions=QUESTIONS,
            audience=Audience(everyone=True),
            closes_at=NOW + timedelta(days=1),
        )
    with pytest.raises(Forbidden):  # the canteen makes them for its own page only
        service.create(
            COOK,
            title="t",
            questions=QUESTIONS,
            audience=Audience(everyone=True),
            closes_at=NOW + timedelta(days=1),
        )
    v = service.create(
        COOK,
        title="本周菜品",
        questions=QUESTIONS[:1],
        audience=Audience(everyone=True),
        closes_at=NOW + timedelta(days=1),
        attach="canteen",
    )
    assert [x["id"] for x in service.for_me(ZHAO, attach="canteen")] == [v["id"]]
    assert service.for_me(ZHAO, attach="repairs") == []
    later = service.create(
        OFFICE,
        title="下周",
        questions=QUESTIONS,
        audience=Audience(everyone=True),
        opens_at=NOW + timedelta(days=2),
        closes_at=NOW + timedelta(days=3),
    )
    assert later["status"] == "scheduled"
    with pytest.raises(Conflict):
        service.start(LI, later["id"])  # not open yet
    assert len(told) == 1  # only the canteen's is out
