"""Questionnaires (问卷调查): everyone answers the ones meant for them, once, saving a draft
on the way; managers and administrators (and the canteen and the dispatchers, on their own
pages) make them, watch the results and export them. An anonymous questionnaire's token comes
and goes in the `X-Survey-Token` header, never in an address."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import Field

from hub.api.deps import Ctx, RowId, When, allow
from hub.api.public.surveys import (
    SurveyOpen,
    SurveyPublic,
    SurveyResults,
    SurveySaved,
    SurveyStarted,
)
from hub.api.schemas import In
from hub.identity.roles import PEOPLE, Principal
from hub.services.audience import Audience
from hub.services.surveys import ATTACHERS, AUTHORS, as_csv, as_xlsx, table

router = APIRouter(prefix="/api/surveys", tags=["surveys"])

Person = Annotated[Principal, allow(PEOPLE)]
Author = Annotated[Principal, allow(AUTHORS, *ATTACHERS.values())]
Token = Annotated[str | None, Header(alias="X-Survey-Token", max_length=100)]


class SurveyBody(In):
    """A questionnaire: its title and introduction, its questions (see docs/surveys.md), whom
    it is for, when it opens (now if not said) and closes, whether anonymous (fixed once
    someone starts), and the service page it belongs to (`canteen`, `repairs`), if any."""

    title: str = Field(min_length=1, max_length=200)
    intro: str = Field("", max_length=5000)
    questions: list[dict[str, Any]] = Field(min_length=1, max_length=50)
    everyone: bool = False
    units: list[str] = Field(default_factory=list, max_length=100)
    roles: list[str] = Field(default_factory=list, max_length=20)
    opens_at: When | None = None
    closes_at: When
    anonymous: bool = False
    attach: Literal["canteen", "repairs"] | None = None


class ChangeBody(In):
    """Close it at another time; its anonymity and questions while nobody has started."""

    closes_at: When | None = None
    anonymous: bool | None = None
    questions: list[dict[str, Any]] | None = Field(None, min_length=1, max_length=50)


class AnswersBody(In):
    """The answers by question id (a choice: the option's text; several: a list; a scale: a
    number; a matrix: row → number); `submit`: final."""

    answers: dict[str, Any] = Field(max_length=50)
    submit: bool = False


@router.get("", response_model=list[SurveyPublic], summary="Questionnaires for me")
def mine(
    ctx: Ctx, who: Person, attach: Annotated[str | None, Query(max_length=16)] = None
) -> list[dict[str, Any]]:
    """Open now and meant for me (`attach`: those on a service's page), closing soonest first."""
    return ctx.surveys.for_me(who, attach=attach)


@router.post("", response_model=SurveyPublic, status_code=201, summary="Make one")
def create(ctx: Ctx, body: SurveyBody, who: Author) -> dict[str, Any]:
    """Its audience is told in the inbox when it opens."""
    return ctx.surveys.create(
        who,
        title=body.title,
        intro=body.intro,
        questions=body.questions,
        audience=Audience(body.everyone, tuple(body.units), tuple(body.roles)),
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        anonymous=body.anonymous,
        attach=body.attach,
    )


@router.get("/authored", response_model=list[SurveyPublic], summary="Those I made")
def authored(ctx: Ctx, who: Author) -> list[dict[str, Any]]:
    """Newest first, with how many started and answered (an administrator: everyone's)."""
    return ctx.surveys.authored(who)


@router.get("/{survey_id}", response_model=SurveyOpen, summary="Open one to answer")
def open_one(ctx: Ctx, survey_id: RowId, who: Person, token: Token = None) -> dict[str, Any]:
    """Its questions and my answers so far (anonymous: those kept under my token)."""
    return ctx.surveys.open_one(who, survey_id, token)


@router.post("/{survey_id}/start", response_model=SurveyStarted, summary="Take part")
def start(ctx: Ctx, survey_id: RowId, who: Person) -> dict[str, Any]:
    """Anonymous: my token, once (409 after: there is no second)."""
    return ctx.surveys.start(who, survey_id)


@router.post("/{survey_id}/answers", response_model=SurveySaved, summary="Save or submit")
def answer(
    ctx: Ctx, survey_id: RowId, body: AnswersBody, who: Person, token: Token = None
) -> dict[str, Any]:
    """A draft, or (`submit`) my one answer; 409 once submitted or after closing."""
    return ctx.surveys.save(who, survey_id, body.answers, token=token, submit=body.submit)


@router.get("/{survey_id}/results", response_model=SurveyResults, summary="Results")
def results(ctx: Ctx, survey_id: RowId, who: Author) -> dict[str, Any]:
    """The answers counted so far: its author's and administrators'."""
    return ctx.surveys.results(who, survey_id)


@router.get("/{survey_id}/export.{fmt}", summary="Export the answers")
def export(ctx: Ctx, survey_id: RowId, fmt: Literal["csv", "xlsx"], who: Author) -> Response:
    """One row an answer (an anonymous questionnaire's: nothing of who answered)."""
    v, responses = ctx.surveys.rows(who, survey_id)
    rows = table(v, ctx.surveys.questions(v), responses)
    name = f"survey-{v.id}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(as_csv(rows), media_type="text/csv; charset=utf-8", headers=disposition)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(as_xlsx(v.title, rows), media_type=xlsx, headers=disposition)


@router.post("/{survey_id}/change", response_model=SurveyPublic, summary="Change it")
def change(ctx: Ctx, survey_id: RowId, body: ChangeBody, who: Author) -> dict[str, Any]:
    """Its closing time; its anonymity and questions only while nobody has started (409)."""
    return ctx.surveys.change(
        who, survey_id, closes_at=body.closes_at, anonymous=body.anonymous, questions=body.questions
    )


@router.post("/{survey_id}/withdraw", response_model=SurveyPublic, summary="Withdraw")
def withdraw(ctx: Ctx, survey_id: RowId, who: Author) -> dict[str, Any]:
    """It shows no more and takes no answers."""
    return ctx.surveys.withdraw(who, survey_id)
