"""Repair tickets: report, work, confirm and rate; assets and their QR label sheets; figures."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import Field

from hub.api.deps import Ctx, RowId, When, allow, recent
from hub.api.public import (
    AssetPublic,
    CategoryPublic,
    TechnicianPublic,
    TicketDetail,
    TicketPublic,
    TicketReported,
)
from hub.api.schemas import In
from hub.api.tables import Format, table_response
from hub.context import HubContext
from hub.identity.roles import PEOPLE, Principal, Role
from hub.services.tickets import TicketService
from hub.services.tickets.figures import COLUMNS, figures
from hub.services.tickets.labels import label_sheet
from hub.site.maintenance import Priority

router = APIRouter(prefix="/api", tags=["tickets"])

Person = Annotated[Principal, allow(PEOPLE)]
Reader = Annotated[Principal, allow(PEOPLE, Role.DISPLAY)]
Manager = Annotated[Principal, allow(Role.ADMIN, Role.DISPATCHER)]


def service(ctx: HubContext) -> TicketService:
    """The hub's ticket service (503 without one)."""
    return ctx.tickets


class ReportBody(In):
    """A repair report: an asset (from its QR label) or a category and a place; what's wrong."""

    description: str = Field(min_length=2, max_length=2000)
    asset_id: str | None = Field(None, max_length=64)
    category: str | None = Field(None, max_length=64)
    location: str = Field("", max_length=200)
    priority: Priority | None = None
    photo: str | None = Field(None, max_length=6_000_000)  # a data: URL or base64 image
    source: Literal["staff", "qr"] = "staff"


class AssignBody(In):
    """The technician (site person id) to give the ticket to; null: back to the queue."""

    technician: str | None = Field(None, max_length=64)


class ReasonBody(In):
    """Why (a hold, a reopening, a comment)."""

    reason: str = Field(min_length=1, max_length=2000)


class Part(In):
    """A part used in a repair."""

    name: str = Field(min_length=1, max_length=200)
    quantity: float = Field(1, gt=0, le=10_000)


class ResolveBody(In):
    """What was done and with which parts."""

    notes: str = Field(min_length=1, max_length=4000)
    parts: list[Part] = Field(default_factory=list, max_length=100)


class RateBody(In):
    """1-5 stars and a comment."""

    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


@router.post("/tickets", response_model=TicketReported, summary="Report a repair", status_code=201)
def report(ctx: Ctx, body: ReportBody, who: Person, response: Response) -> dict[str, Any]:
    """Dispatched at once to the on-duty technician with the skill (or the dispatcher's queue).
    The same report again within a minute is merged: 200 with `merged: true`."""
    ticket, merged = service(ctx).report(
        who,
        description=body.description,
        asset_id=body.asset_id,
        category=body.category,
        location=body.location,
        priority=body.priority.value if body.priority else None,
        photo=body.photo,
        source=body.source,
    )
    if merged:
        response.status_code = 200
    return {**ticket, "merged": merged}


@router.get("/tickets", response_model=list[TicketPublic], summary="Tickets, newest first")
def list_tickets(
    ctx: Ctx,
    who: Reader,
    status: Annotated[
        str | None,
        Query(pattern="^(active|open|assigned|accepted|in_progress|on_hold|resolved|closed)$"),
    ] = None,
    assignee: str | None = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Staff see their own reports; technicians theirs and the unassigned queue; dispatchers,
    security and the wall display all."""
    return service(ctx).find(who, status=status, assignee=assignee, mine=mine, limit=limit)


@router.get("/tickets/figures", summary="Repair figures")
def ticket_figures(
    ctx: Ctx,
    _: Manager,
    start: When | None = None,
    end: When | None = None,
    format: Format = "json",
) -> Any:
    """Time to acknowledge and to repair (target minutes), SLA hit rates and satisfaction per
    category, technician and work unit, for tickets opened in [start, end) (default: the
    last 30 days)."""
    data = figures(service(ctx), *recent(start, end))
    rows = [data["total"], *data["rows"]]
    return table_response(data, format, "repairs", {"repairs": (COLUMNS, rows)})


@router.get(
    "/tickets/categories",
    response_model=list[CategoryPublic],
    summary="Repair categories (for the report form)",
)
def list_categories(ctx: Ctx, _: Person) -> list[dict[str, Any]]:
    """Id, names, the skill each needs and its targets per priority (minutes)."""
    return [
        {
            "id": c.id,
            "name": c.name,
            "name_en": c.name_en,
            "skill": c.skill,
            "targets": {p.value: list(c.targets(p)) for p in Priority},
        }
        for c in service(ctx).categories.values()
    ]


@router.get(
    "/tickets/technicians",
    response_model=list[TechnicianPublic],
    summary="Technicians, their skills, duty and open work",
)
def list_technicians(ctx: Ctx, _: Person) -> list[dict[str, Any]]:
    """For the dispatcher's assignment list."""
    return service(ctx).technicians()


@router.get(
    "/tickets/{ticket_id}", response_model=TicketDetail, summary="One ticket and its history"
)
def get_ticket(ctx: Ctx, ticket_id: RowId, who: Reader) -> dict[str, Any]:
    """404 also for a ticket the asker may not see."""
    return service(ctx).get(ticket_id, who)


@router.get("/tickets/{ticket_id}/photo", summary="A ticket's photo")
def ticket_photo(ctx: Ctx, ticket_id: RowId, who: Reader) -> FileResponse:
    """The image the reporter attached."""
    return FileResponse(service(ctx).photo(ticket_id, who))


@router.post(
    "/tickets/{ticket_id}/assign",
    response_model=TicketPublic,
    summary="Assign or reassign (dispatchers)",
)
def assign(ctx: Ctx, ticket_id: RowId, body: AssignBody, who: Manager) -> dict[str, Any]:
    """To a technician of the site, or back to the queue."""
    return service(ctx).assign(ticket_id, who, body.technician)


@router.post(
    "/tickets/{ticket_id}/accept",
    response_model=TicketPublic,
    summary="Accept (the assigned technician)",
)
def accept(ctx: Ctx, ticket_id: RowId, who: Person) -> dict[str, Any]:
    """403 for anyone but the assignee; 409 unless the ticket is assigned."""
    return service(ctx).accept(ticket_id, who)


@router.post(
    "/tickets/{ticket_id}/start", response_model=TicketPublic, summary="Start or resume work"
)
def start(ctx: Ctx, ticket_id: RowId, who: Person) -> dict[str, Any]:
    """From accepted or on hold."""
    return service(ctx).start(ticket_id, who)


@router.post(
    "/tickets/{ticket_id}/hold",
    response_model=TicketPublic,
    summary="Put on hold (waiting for parts)",
)
def hold(ctx: Ctx, ticket_id: RowId, body: ReasonBody, who: Person) -> dict[str, Any]:
    """The resolution clock stops until work resumes."""
    return service(ctx).hold(ticket_id, who, body.reason)


@router.post(
    "/tickets/{ticket_id}/resolve",
    response_model=TicketPublic,
    summary="Resolve with notes and parts",
)
def resolve(ctx: Ctx, ticket_id: RowId, body: ResolveBody, who: Person) -> dict[str, Any]:
    """403 for anyone but the assignee."""
    parts = [p.model_dump() for p in body.parts]
    return service(ctx).resolve(ticket_id, who, body.notes, parts)


@router.post(
    "/tickets/{ticket_id}/confirm",
    response_model=TicketPublic,
    summary="Confirm the repair (the reporter)",
)
def confirm(ctx: Ctx, ticket_id: RowId, who: Person) -> dict[str, Any]:
    """Closes a resolved ticket."""
    return service(ctx).confirm(ticket_id, who)


@router.post(
    "/tickets/{ticket_id}/reopen",
    response_model=TicketPublic,
    summary="Not fixed: reopen (the reporter)",
)
def reopen(ctx: Ctx, ticket_id: RowId, body: ReasonBody, who: Person) -> dict[str, Any]:
    """Back to the same technician."""
    return service(ctx).reopen(ticket_id, who, body.reason)


@router.post(
    "/tickets/{ticket_id}/rate",
    response_model=TicketPublic,
    summary="Rate the repair 1-5 (the reporter, once)",
)
def rate(ctx: Ctx, ticket_id: RowId, body: RateBody, who: Person) -> dict[str, Any]:
    """409 before resolution or when already rated; 403 for anyone but the reporter
    (dispatchers rate the tickets equipment opened)."""
    return service(ctx).rate(ticket_id, who, body.rating, body.comment)


@router.post("/tickets/{ticket_id}/comment", response_model=TicketPublic, summary="Add a note")
def comment(ctx: Ctx, ticket_id: RowId, body: ReasonBody, who: Person) -> dict[str, Any]:
    """Kept in the ticket's history."""
    svc = service(ctx)
    svc.get(ticket_id, who)  # 404 unless the asker may see it
    return svc.comment(ticket_id, who, body.reason)


@router.get(
    "/assets",
    response_model=list[AssetPublic],
    summary="Assets (devices and assets without telemetry)",
)
def list_assets(ctx: Ctx, _: Person) -> list[dict[str, Any]]:
    """With their category, building, floor and zone."""
    return service(ctx).assets()


@router.get("/assets/labels.pdf", summary="Printable QR labels (A4 PDF)")
def labels(
    ctx: Ctx,
    request: Request,
    _: Manager,
    ids: Annotated[list[str] | None, Query(max_length=2000)] = None,
) -> Response:
    """A label per asset (or per asset in `ids`); each QR code opens the report form with the
    asset filled in, at the hub's public URL (`HUB_PUBLIC_URL`, else this request's host)."""
    svc = service(ctx)
    assets = [svc.asset(i) for i in ids] if ids else svc.assets()
    base = ctx.settings.public_url or str(request.base_url)
    pdf = label_sheet(assets, base, ctx.site.site.name)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="asset-labels.pdf"'},
    )


@router.get("/assets/{asset_id}", response_model=AssetPublic, summary="One asset")
def get_asset(ctx: Ctx, asset_id: str, _: Person) -> dict[str, Any]:
    """What the report form shows for a scanned label."""
    return service(ctx).asset(asset_id)
