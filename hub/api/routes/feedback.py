"""Suggestions and complaints (建议投诉): everyone writes them, under their name or
anonymously, follows them and rates the answer; the handlers of each category answer them;
the board shows the answers they chose. An anonymous writer follows an item with its code
alone, no sign-in needed: the code is the credential, and guessing at codes is throttled like
signing in."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import Field

from hub.api.deps import PUBLIC, Ctx, RowId, allow, client_of, guessing
from hub.api.public.feedback import (
    FeedbackCategoryPublic,
    FeedbackFigures,
    FeedbackPlace,
    FeedbackPublic,
)
from hub.api.schemas import In
from hub.errors import NotFound
from hub.identity.roles import PEOPLE, Principal
from hub.services.feedback import Draft

router = APIRouter(prefix="/api/feedback", tags=["feedback"])

Person = Annotated[Principal, allow(PEOPLE)]
CODE = "feedback follow-up code"  # what a wrong one counts as, beside wrong API keys
Text = Annotated[str, Field(max_length=5000)]
Code = Annotated[str, Field(min_length=1, max_length=40)]


class FeedbackBody(In):
    """A suggestion or a complaint: its category, a title and the text, where (optional),
    up to three photos (data: URLs), and whether it is anonymous."""

    kind: Literal["suggestion", "complaint"]
    category: str = Field(max_length=64)
    title: str = Field(min_length=1, max_length=200)
    body: Text
    building: str | None = Field(None, max_length=64)
    room: str | None = Field(None, max_length=64)
    asset: str | None = Field(None, max_length=64)
    photos: list[Annotated[str, Field(max_length=9_000_000)]] = Field(
        default_factory=list, max_length=3
    )
    anonymous: bool = False


class ActBody(In):
    """What a handler does: accept, start, answer, close, decline (each with a note the
    writer reads; answering and declining need one), note (the handlers' own), publish (on
    the board when `public`, off it otherwise)."""

    action: Literal["accept", "start", "answer", "close", "decline", "note", "publish"]
    note: Text = ""
    public: bool = True


class AddBody(In):
    """More from the writer."""

    text: Text = Field(min_length=1)


class RateBody(In):
    """The writer's rating of the answer (1-5) and a word on it."""

    rating: int = Field(ge=1, le=5)
    note: str = Field("", max_length=500)


class CodeBody(In):
    """An anonymous writer's follow-up code."""

    code: Code


class CodeAddBody(CodeBody, AddBody):
    """More from an anonymous writer."""


class CodeRateBody(CodeBody, RateBody):
    """An anonymous writer's rating."""


@router.get("/categories", response_model=list[FeedbackCategoryPublic], summary="Categories")
def categories(ctx: Ctx, who: Person) -> list[dict[str, Any]]:
    """What a writer chooses from, who answers each, and the targets."""
    f = ctx.feedback
    return [
        {
            "id": c.id,
            "name": c.name,
            "name_en": c.name_en,
            "unit": c.unit,
            "unit_name": f.units[c.unit].name if c.unit in f.units else None,
            "answer_min": c.answer_min,
            "close_min": c.close_min,
            "mine": f.handles(who, c.id),
        }
        for c in f.categories.values()
    ]


@router.get("/places", response_model=list[FeedbackPlace], summary="Places")
def places(ctx: Ctx, _: Person) -> list[dict[str, Any]]:
    """The buildings and rooms an item can be about (names: `/api/i18n`)."""
    f = ctx.feedback
    return [{"kind": "building", "id": b, "building": b} for b in f.buildings] + [
        {"kind": "room", "id": r.id, "building": r.building} for r in f.rooms.values()
    ]


@router.post("", response_model=FeedbackPublic, status_code=201, summary="Write one")
def submit(ctx: Ctx, body: FeedbackBody, who: Person) -> dict[str, Any]:
    """Routed to the category's handlers at once. Anonymous: nothing kept names the writer,
    and the answer carries the follow-up code, shown this once."""
    draft = Draft(
        kind=body.kind,
        category=body.category,
        title=body.title,
        body=body.body,
        building=body.building,
        room=body.room,
        asset=body.asset,
        photos=tuple(body.photos),
        anonymous=body.anonymous,
    )
    return ctx.feedback.submit(who, draft)


@router.get("/mine", response_model=list[FeedbackPublic], summary="What I wrote")
def mine(ctx: Ctx, who: Person) -> list[dict[str, Any]]:
    """Under my name, newest first (anonymous ones are followed with their codes)."""
    return ctx.feedback.mine(who)


@router.get("/board", response_model=list[FeedbackPublic], summary="The board")
def board(
    ctx: Ctx, _: Person, category: Annotated[str | None, Query(max_length=64)] = None
) -> list[dict[str, Any]]:
    """The answers their handlers chose to show everyone, without their writers."""
    return ctx.feedback.board(category=category)


@router.get("/queue", response_model=list[FeedbackPublic], summary="To answer")
def queue(
    ctx: Ctx,
    who: Person,
    status: Annotated[str | None, Query(max_length=16, description="open, or one state")] = None,
) -> list[dict[str, Any]]:
    """The items of the categories I answer (none: an empty list)."""
    return ctx.feedback.queue(who, status=status)


@router.get("/figures", response_model=FeedbackFigures, summary="Figures")
def figures(
    ctx: Ctx, who: Person, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> dict[str, Any]:
    """Per month and category of the categories I answer: received, answered in time,
    closed, declined, rating."""
    f = ctx.feedback
    return f.figures(who, year or f.clock().astimezone(f.calendar.tz).year)


@router.post("/followup", openapi_extra=PUBLIC, response_model=FeedbackPublic, summary="Follow up")
def followup(ctx: Ctx, body: CodeBody, request: Request) -> dict[str, Any]:
    """An anonymous writer's item and what its writer is shown, by the code alone."""
    with guessing(ctx, client_of(request), CODE, NotFound, "feedback.code"):
        return ctx.feedback.followed(body.code)


@router.post(
    "/followup/add", openapi_extra=PUBLIC, response_model=FeedbackPublic, summary="Add, by code"
)
def followup_add(ctx: Ctx, body: CodeAddBody, request: Request) -> dict[str, Any]:
    """More from an anonymous writer; an answered item goes back to its handlers."""
    with guessing(ctx, client_of(request), CODE, NotFound, "feedback.code"):
        return ctx.feedback.add(body.code, body.text)


@router.post(
    "/followup/rate", openapi_extra=PUBLIC, response_model=FeedbackPublic, summary="Rate, by code"
)
def followup_rate(ctx: Ctx, body: CodeRateBody, request: Request) -> dict[str, Any]:
    """An anonymous writer rates the answer, once."""
    with guessing(ctx, client_of(request), CODE, NotFound, "feedback.code"):
        return ctx.feedback.rate(body.code, body.rating, body.note)


@router.post("/followup/photos/{n}", openapi_extra=PUBLIC, summary="A photo, by code")
def followup_photo(
    ctx: Ctx, n: Annotated[int, Path(ge=0, le=9)], body: CodeBody, request: Request
) -> FileResponse:
    """An anonymous item's n-th photo (from 0), for its writer."""
    with guessing(ctx, client_of(request), CODE, NotFound, "feedback.code"):
        path = ctx.feedback.photo(body.code, None, n)
    return FileResponse(path, media_type="image/jpeg")


@router.get("/{item_id}", response_model=FeedbackPublic, summary="One item")
def item(ctx: Ctx, item_id: RowId, who: Person) -> dict[str, Any]:
    """Its handlers see the whole log; its writer what writers are shown; anyone, an item on
    the board, without its writer."""
    return ctx.feedback.view(who, item_id)


@router.post("/{item_id}/act", response_model=FeedbackPublic, summary="Move it on")
def act(ctx: Ctx, item_id: RowId, body: ActBody, who: Person) -> dict[str, Any]:
    """A handler's change, with its note (the writer is told)."""
    return ctx.feedback.act(who, item_id, body.action, body.note, public=body.public)


@router.post("/{item_id}/add", response_model=FeedbackPublic, summary="Add to it")
def add(ctx: Ctx, item_id: RowId, body: AddBody, who: Person) -> dict[str, Any]:
    """More from its writer; an answered item goes back to its handlers."""
    return ctx.feedback.add(who, body.text, item_id)


@router.post("/{item_id}/rate", response_model=FeedbackPublic, summary="Rate the answer")
def rate(ctx: Ctx, item_id: RowId, body: RateBody, who: Person) -> dict[str, Any]:
    """Its writer rates the answer, once."""
    return ctx.feedback.rate(who, body.rating, body.note, item_id)


@router.get("/{item_id}/photos/{n}", summary="A photo")
def photo(
    ctx: Ctx, item_id: RowId, n: Annotated[int, Path(ge=0, le=9)], who: Person
) -> FileResponse:
    """The n-th photo (from 0), for the item's writer and handlers."""
    return FileResponse(ctx.feedback.photo(who, item_id, n), media_type="image/jpeg")
