"""Visitors and the gate: visits and passes (hosts), the decision API (gate terminals, by API
key), reviews, overrides, the roster, counts and plate lists (security)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, Field

from hub.api.deps import Ctx, Day, RowId, When, allow
from hub.api.public import (
    GateCounts,
    GateDecisionPublic,
    RosterEntry,
    VisitorPass,
    VisitorPublic,
    VisitPublic,
)
from hub.api.qr import qr_data_url
from hub.api.schemas import In
from hub.context import HubContext
from hub.identity.roles import PEOPLE, Principal, Role
from hub.services.gate import passes
from hub.services.gate.queue import Presented
from hub.services.gate.service import GateService
from hub.services.gate.visits import VisitorIn, VisitService

router = APIRouter(prefix="/api", tags=["gate"])
# the terminals' one call, matched before any other route (hub.api.app includes it first)
terminals = APIRouter(prefix="/api", tags=["gate"])
JSON = "application/json"

Person = Annotated[Principal, allow(PEOPLE)]
Terminal = Annotated[Principal, allow(Role.GATE_TERMINAL, Role.ADMIN)]
Guard = Annotated[Principal, allow(Role.SECURITY, Role.ADMIN)]
KeyReader = Annotated[Principal, allow(Role.GATE_TERMINAL, Role.SECURITY, Role.ADMIN)]


def visits_of(ctx: HubContext) -> VisitService:
    """The hub's visits (503 without)."""
    return ctx.visits


def gate_of(ctx: HubContext) -> GateService:
    """The hub's gate (503 without)."""
    return ctx.gate


class VisitorBody(In):
    """A visitor; the ID number is kept only as a keyed hash and its last 4 characters."""

    name: str = Field(min_length=1, max_length=120)
    phone: str = Field("", max_length=32)
    id_number: str | None = Field(None, max_length=32)
    company: str = Field("", max_length=200)
    plate: str | None = Field(None, max_length=16)


class VisitBody(In):
    """Who comes, why, when, through which gates (empty: any), how many entries each."""

    purpose: str = Field(min_length=1, max_length=200)
    start: When
    end: When
    gates: list[str] = Field(default_factory=list, max_length=20)
    entries: int = Field(1, ge=1, le=100)
    visitors: list[VisitorBody] = Field(min_length=1, max_length=500)


class DecideBody(In):
    """What a terminal saw: a plate read or a scanned QR code (one of them), and its clock."""

    gate_id: str = Field(max_length=64)
    direction: Literal["in", "out"]
    plate: str | None = Field(None, max_length=32)
    qr: str | None = Field(None, max_length=4000)
    ts: AwareDatetime | None = None


class ReviewBody(In):
    """A guard's decision on a case in the review queue."""

    allow: bool
    note: str = Field("", max_length=500)


class OverrideBody(In):
    """A guard lets someone through by hand."""

    gate_id: str = Field(max_length=64)
    direction: Literal["in", "out"]
    subject: str = Field(min_length=1, max_length=120)
    reason: str = Field(min_length=1, max_length=500)


class PlateBody(In):
    """A plate for the staff allow list or the block list."""

    plate: str = Field(min_length=2, max_length=16)
    kind: Literal["allow", "block"]
    owner: str = Field("", max_length=120)
    note: str = Field("", max_length=500)


# -- hosts ---------------------------------------------------------------------------------------
@router.post("/visits", response_model=VisitPublic, summary="Invite visitors", status_code=201)
def register(ctx: Ctx, body: VisitBody, who: Person) -> dict[str, Any]:
    """The host is responsible for the visit. Groups over `HUB_GATE__APPROVAL_OVER_VISITORS`
    and visits over `HUB_GATE__APPROVAL_OVER_DAYS` wait for the unit's approvers."""
    return visits_of(ctx).register(
        who,
        purpose=body.purpose,
        start=body.start,
        end=body.end,
        gates=body.gates,
        entries=body.entries,
        visitors=[VisitorIn(**v.model_dump()) for v in body.visitors],
    )


@router.get("/visits", response_model=list[VisitPublic], summary="Visits you may see")
def list_visits(ctx: Ctx, who: Person, since: When | None = None) -> list[dict[str, Any]]:
    """Your own; your unit's as its approver; all for security."""
    return visits_of(ctx).find(who, day_from=since)


@router.get("/visits/{visit_id}", response_model=VisitPublic, summary="One visit")
def get_visit(ctx: Ctx, visit_id: RowId, who: Person) -> dict[str, Any]:
    """404 also for a visit you may not see."""
    return visits_of(ctx).get(who, visit_id)


@router.post(
    "/visits/{visit_id}/approve",
    response_model=VisitPublic,
    summary="Approve a visit (the unit's approvers)",
)
def approve_visit(ctx: Ctx, visit_id: RowId, who: Person) -> dict[str, Any]:
    """403 for anyone else."""
    return visits_of(ctx).decide(who, visit_id, True)


@router.post(
    "/visits/{visit_id}/refuse",
    response_model=VisitPublic,
    summary="Refuse a visit (the unit's approvers)",
)
def refuse_visit(ctx: Ctx, visit_id: RowId, who: Person) -> dict[str, Any]:
    """403 for anyone else."""
    return visits_of(ctx).decide(who, visit_id, False)


@router.post(
    "/visits/{visit_id}/cancel",
    response_model=VisitPublic,
    summary="Cancel a visit (every pass revoked)",
)
def cancel_visit(ctx: Ctx, visit_id: RowId, who: Person) -> dict[str, Any]:
    """The host or security."""
    return visits_of(ctx).cancel(who, visit_id)


@router.post(
    "/visitors/{visitor_id}/revoke", response_model=VisitorPublic, summary="Revoke a visitor's pass"
)
def revoke(ctx: Ctx, visitor_id: RowId, who: Person) -> dict[str, Any]:
    """The host or security."""
    return visits_of(ctx).revoke(who, visitor_id)


@router.get(
    "/visitors/{visitor_id}/pass",
    response_model=VisitorPass,
    summary="A visitor's pass: token, link, QR code",
)
def visitor_pass(ctx: Ctx, visitor_id: RowId, who: Person, request: Request) -> dict[str, Any]:
    """For the host to send on: the link opens a page with the QR code to show at the gate."""
    out = visits_of(ctx).pass_token(who, visitor_id)
    base = (ctx.settings.public_url or str(request.base_url)).rstrip("/")
    out["link"] = f"{base}/pass.html#{out['token']}"
    out["qr"] = qr_data_url(out["token"])
    return out


# -- terminals -------------------------------------------------------------------------------------
@terminals.post(
    "/gate/decide",
    response_model=GateDecisionPublic,
    summary="Allow or deny a plate read or a QR scan",
)
async def decide(ctx: Ctx, body: DecideBody, terminal: Terminal) -> Response:
    """One call, one decision: `allow`, `deny` or `review` (a guard looks) with the reason;
    logged with what was presented and the evidence, and shown live on the wall."""
    presented = Presented(terminal.name, body.gate_id, body.direction, body.qr, body.plate, body.ts)
    # the decision is plain JSON already: written as it is (the terminals' hot path)
    return Response(orjson.dumps(await gate_of(ctx).queue.decide(presented)), media_type=JSON)


@router.get("/gate/pass-key", summary="The public key passes verify with")
def pass_key(ctx: Ctx, _: KeyReader) -> dict[str, str]:
    """Ed25519 (EdDSA) in PEM: a terminal can verify passes offline with it."""
    return {"alg": "EdDSA", "issuer": passes.ISSUER, "pem": gate_of(ctx).public_key()}


# -- security --------------------------------------------------------------------------------------
@router.get(
    "/gate/decisions", response_model=list[GateDecisionPublic], summary="The latest gate decisions"
)
def decisions(
    ctx: Ctx, _: Guard, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Newest first, with the evidence."""
    return gate_of(ctx).decisions(limit)


@router.get(
    "/gate/reviews", response_model=list[GateDecisionPublic], summary="Cases waiting for a guard"
)
def reviews(ctx: Ctx, _: Guard) -> list[dict[str, Any]]:
    """Near matches and unrecorded entries of the last 24 hours."""
    return gate_of(ctx).reviews()


@router.post(
    "/gate/reviews/{decision_id}",
    response_model=GateDecisionPublic,
    summary="Decide a case in the review queue",
)
def review(ctx: Ctx, decision_id: RowId, body: ReviewBody, who: Guard) -> dict[str, Any]:
    """Audited; shown live."""
    return gate_of(ctx).review(who, decision_id, body.allow, body.note)


@router.post(
    "/gate/override",
    response_model=GateDecisionPublic,
    summary="Let someone through by hand",
    status_code=201,
)
def override(ctx: Ctx, body: OverrideBody, who: Guard) -> dict[str, Any]:
    """A reason is required; audited; shown live."""
    return gate_of(ctx).override(who, body.gate_id, body.direction, body.subject, body.reason)


@router.get("/gate/roster", response_model=list[RosterEntry], summary="Visitors inside now")
def roster(ctx: Ctx, _: Guard) -> list[dict[str, Any]]:
    """Labels, hosts and until when (no personal data)."""
    return visits_of(ctx).roster()


@router.get("/gate/counts", response_model=GateCounts, summary="Passages on a day")
def counts(ctx: Ctx, _: Guard, day: Day | None = None) -> dict[str, Any]:
    """People and cars in and out, per gate, and refusals (site time; default today)."""
    gate = gate_of(ctx)
    return gate.counts(day or datetime.now(gate.tz).date())


@router.get("/gate/plates", summary="The staff allow list and the block list")
def plates(ctx: Ctx, _: Guard) -> list[dict[str, Any]]:
    """Every listed plate."""
    return gate_of(ctx).plates()


@router.post("/gate/plates", summary="List a plate", status_code=201)
def add_plate(ctx: Ctx, body: PlateBody, who: Guard) -> dict[str, Any]:
    """Normalised first; 409 if it is listed already."""
    return gate_of(ctx).list_plate(who, body.plate, body.kind, body.owner, body.note)


@router.delete("/gate/plates/{plate}", summary="Unlist a plate", status_code=204)
def remove_plate(ctx: Ctx, plate: str, who: Guard) -> Response:
    """Audited."""
    gate_of(ctx).unlist_plate(who, plate)
    return Response(status_code=204)
