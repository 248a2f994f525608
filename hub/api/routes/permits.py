"""Cards and permits (卡证办理): everyone applies for theirs and follows them; the approvers of
each kind's chain decide; the windows issue and hand them over and keep the register; security
exports door access for the access-control system. And the phone as the staff card: the
signed-in person's codes for the next minutes."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse
from pydantic import Field

from hub.api.deps import Ctx, RowId, allow
from hub.api.public.permits import Credential, PermitFigures, PermitKindPublic, PermitPublic
from hub.api.schemas import In
from hub.errors import Unavailable
from hub.identity.roles import PEOPLE, Principal, Role

router = APIRouter(prefix="/api", tags=["permits"])

Person = Annotated[Principal, allow(PEOPLE)]
Window = Annotated[
    Principal, allow(Role.ADMIN, Role.MANAGER, Role.SECURITY, Role.DISPATCHER, Role.CANTEEN)
]
Security = Annotated[Principal, allow(Role.ADMIN, Role.SECURITY)]
Document = Annotated[str, Field(max_length=9_000_000)]


class ApplyBody(In):
    """An application: its kind, the documents it asks for (photos as data URLs, by name),
    a parking permit's plate, door access's buildings and rooms, a note; `renews`: the card
    it renews."""

    kind: str = Field(max_length=32)
    documents: dict[str, Document] = Field(default_factory=dict, max_length=5)
    plate: str | None = Field(None, max_length=16)
    doors: list[str] = Field(default_factory=list, max_length=50)
    note: str = Field("", max_length=1000)
    renews: int | None = Field(None, ge=1, le=2**31 - 1)


class ResubmitBody(In):
    """A returned application, changed."""

    documents: dict[str, Document] = Field(default_factory=dict, max_length=5)
    plate: str | None = Field(None, max_length=16)
    doors: list[str] | None = Field(None, max_length=50)
    note: str | None = Field(None, max_length=1000)


class DecideBody(In):
    """approve, return (for changes) or refuse; a note (needed to return or refuse)."""

    action: Literal["approve", "return", "refuse"]
    note: str = Field("", max_length=1000)


class ActBody(In):
    """At the window: collect, suspend, resume, revoke (suspending and revoking say why); the
    holder: lost."""

    action: Literal["collect", "suspend", "resume", "revoke", "lost"]
    note: str = Field("", max_length=1000)


@router.get("/permits/kinds", response_model=list[PermitKindPublic], summary="Kinds")
def kinds(ctx: Ctx, _: Person) -> list[dict[str, Any]]:
    """What can be applied for, and how each is approved."""
    return [k.model_dump(exclude={"remind_days"}) for k in ctx.permits.kinds.values()]


@router.post("/permits", response_model=PermitPublic, status_code=201, summary="Apply")
def apply(ctx: Ctx, body: ApplyBody, who: Person) -> dict[str, Any]:
    """The kind's chain is told; a kind with no chain goes to its window at once."""
    return ctx.permits.apply(
        who,
        body.kind,
        documents=body.documents,
        plate=body.plate,
        doors=body.doors,
        note=body.note,
        renews=body.renews,
    )


@router.get("/permits/mine", response_model=list[PermitPublic], summary="Mine")
def mine(ctx: Ctx, who: Person) -> list[dict[str, Any]]:
    """My cards, permits and applications, newest first."""
    return ctx.permits.mine(who)


@router.get("/permits/waiting", response_model=list[PermitPublic], summary="To approve")
def waiting(ctx: Ctx, who: Person) -> list[dict[str, Any]]:
    """Applications whose next step is mine."""
    return ctx.permits.waiting_for(who)


@router.get("/permits/register", response_model=list[PermitPublic], summary="The register")
def register(
    ctx: Ctx,
    who: Window,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str, Query(max_length=60)] = "",
) -> list[dict[str, Any]]:
    """Every card and application of the kinds my window issues (managers: all)."""
    return ctx.permits.register(who, kind=kind, status=status, q=q)


@router.get("/permits/figures", response_model=PermitFigures, summary="Figures")
def figures(
    ctx: Ctx, who: Window, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> dict[str, Any]:
    """Per kind and month: applications, issued, refused, days from application to issue."""
    p = ctx.permits
    return p.figures(who, year or p.clock().astimezone(p.tz).year)


@router.get("/permits/doors.{fmt}", summary="Door access, per door")
def doors(ctx: Ctx, fmt: Literal["csv", "json"], who: Security) -> Response:
    """The valid door-access permits by building and room, for the access-control system."""
    lists = ctx.permits.door_list(who)
    if fmt == "json":
        return Response(orjson.dumps(lists), media_type="application/json")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["door", "number", "holder", "unit", "valid_until"])
    for door, rows in sorted(lists.items()):
        for r in rows:
            w.writerow([door, r["number"], r["holder"], r["unit"] or "", r["valid_until"]])
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8")


@router.get("/permits/{permit_id}", response_model=PermitPublic, summary="One")
def one(ctx: Ctx, permit_id: RowId, who: Person) -> dict[str, Any]:
    """With its approvals and history: for its holder, its deciders, its window."""
    return ctx.permits.one(who, permit_id)


@router.post("/permits/{permit_id}/decide", response_model=PermitPublic, summary="Decide")
def decide(ctx: Ctx, permit_id: RowId, body: DecideBody, who: Person) -> dict[str, Any]:
    """The next step of the chain, by whom it is for (403 for anyone else)."""
    return ctx.permits.decide(who, permit_id, body.action, body.note)


@router.post("/permits/{permit_id}/resubmit", response_model=PermitPublic, summary="Resubmit")
def resubmit(ctx: Ctx, permit_id: RowId, body: ResubmitBody, who: Person) -> dict[str, Any]:
    """A returned application, changed, through its chain again."""
    return ctx.permits.resubmit(
        who,
        permit_id,
        documents=body.documents,
        plate=body.plate,
        doors=body.doors,
        note=body.note,
    )


@router.post("/permits/{permit_id}/issue", response_model=PermitPublic, summary="Issue")
def issue(ctx: Ctx, permit_id: RowId, who: Window) -> dict[str, Any]:
    """Made and ready at the window (its holder told); a parking permit's plate opens the
    gate from now."""
    return ctx.permits.issue(who, permit_id)


@router.post("/permits/{permit_id}/act", response_model=PermitPublic, summary="Collect, suspend…")
def act(ctx: Ctx, permit_id: RowId, body: ActBody, who: Person) -> dict[str, Any]:
    """Handed over, suspended, resumed, revoked (the window), reported lost (its holder)."""
    return ctx.permits.act(who, permit_id, body.action, body.note)


@router.get("/permits/{permit_id}/documents/{name}", summary="A document's photo")
def document(
    ctx: Ctx, permit_id: RowId, name: Annotated[str, Field(max_length=32)], who: Person
) -> FileResponse:
    """For the holder, the deciders and the window (deleted after the retention period)."""
    return FileResponse(ctx.permits.document(who, permit_id, name), media_type="image/jpeg")


@router.get("/credential", response_model=Credential, summary="My phone credential")
def credential(ctx: Ctx, who: Person) -> dict[str, Any]:
    """The codes for the next ten minutes, one a minute: the phone shows them in turn and
    needs no network meanwhile. Each is taken once, at a gate or the canteen's counter."""
    cards = ctx.permits.credentials
    if cards is None:
        raise Unavailable("staff credentials are not set up")
    codes = [
        {"token": c["token"], "valid_from": c["from"], "valid_until": c["until"]}
        for c in cards.codes(who.name)
    ]
    return {"name": cards.names.get(who.name, who.name), "codes": codes}
