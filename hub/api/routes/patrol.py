"""Patrols: the guard's phone (tours now, scanning a checkpoint's code), a checkpoint's
display (its rotating code), the patrol report (JSON, XLSX, PDF; the stored ones), and the
message catalogue every page renders alarms with."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import Field

from hub.api import tables
from hub.api.deps import Ctx, allow
from hub.api.public import (
    Catalogue,
    CheckpointCode,
    GuardTours,
    PatrolReportPublic,
    ScanResult,
    StoredReportPublic,
)
from hub.api.qr import qr_data_url
from hub.api.schemas import In
from hub.api.tables import table_response
from hub.errors import Invalid, NotFound, Unavailable
from hub.i18n import MESSAGES, WORDS, site_names
from hub.identity.roles import EVERYONE, Principal, Role
from hub.services.patrol import render
from hub.services.periods import parse_period

router = APIRouter(tags=["patrol"])

Guard = Annotated[Principal, allow(frozenset({Role.SECURITY}))]
Reader = Annotated[Principal, allow(frozenset({Role.ADMIN, Role.SECURITY, Role.MANAGER}))]
Display = Annotated[Principal, allow(frozenset({Role.ADMIN, Role.SECURITY, Role.DISPLAY}))]
Anyone = Annotated[Principal, allow(EVERYONE)]

REFUSED_STATUS = {"replayed": 409, "expired": 410}  # else 422


class ScanIn(In):
    """What the guard's phone read at a checkpoint (the QR's text or link, an NFC tag's
    record, or the digits typed), and the phone's fix at that moment when it has one."""

    payload: str = Field(min_length=1, max_length=300)
    source: Literal["qr", "nfc", "typed"] = "qr"
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float | None = Field(None, ge=0, le=100_000, allow_inf_nan=False)


@router.get("/api/i18n", response_model=Catalogue, summary="The message catalogue")
def catalogue(ctx: Ctx, _: Anyone) -> dict[str, Any]:
    """The messages alarms and reports are written in, per language; an alarm's `say`
    names its key and arguments."""
    return {
        "messages": MESSAGES,
        "timezone": ctx.site.site.timezone,
        "names": site_names(ctx.site),
        "words": WORDS,
    }


@router.get("/api/patrol/me", response_model=GuardTours, summary="The guard's tours now")
def my_tours(ctx: Ctx, who: Guard) -> dict[str, Any]:
    """The signed-in guard's routes: the open tour's checkpoints (visited, missed, due
    when) and the next one with its deadline. 403 for an account that is not a guard's."""
    return ctx.patrol.my_tours(who.name)


@router.post(
    "/api/patrol/scans",
    response_model=ScanResult,
    status_code=201,
    summary="A checkpoint's code, scanned",
    responses={409: {"description": "replayed"}, 410: {"description": "expired"}},
)
async def scan(ctx: Ctx, body: ScanIn, who: Guard) -> Any:
    """Judge a scanned code (its checkpoint, signature and time window, a replay) and keep
    the scan; an accepted one is evidence of a visit (the checkpoint's proof decides).
    Refused: 409 replayed, 410 expired (a photo of an old code), 422 anything else; after
    ten refusals in ten minutes, 429."""
    patrol = ctx.patrol
    fix = None
    if body.lat is not None and body.lon is not None:
        fix = (body.lat, body.lon, body.accuracy_m)
    verdict = await asyncio.to_thread(patrol.scan, who.name, body.payload, body.source, fix)
    names = {c.id: c.name for c in ctx.site.checkpoints}
    out = {
        "checkpoint": verdict.checkpoint,
        "name": names.get(verdict.checkpoint, verdict.checkpoint),
    }
    if verdict.scan is None:
        status = REFUSED_STATUS.get(verdict.refused, 422)
        body_ = ScanResult(accepted=False, reason=verdict.refused, **out)
        return JSONResponse(body_.model_dump(), status_code=status)
    published = await ctx.pipeline.publish("patrol", verdict.scan)
    if not published.accepted:
        assert verdict.row is not None
        await asyncio.to_thread(patrol.scans.withdraw, verdict.row)
        raise Unavailable(f"the hub is busy ({published.reason}): scan again")
    return {"accepted": True, **out}


@router.get(
    "/api/patrol/checkpoints/{checkpoint}/code",
    response_model=CheckpointCode,
    summary="A checkpoint's code now (its display)",
)
def checkpoint_code(ctx: Ctx, checkpoint: str, _: Display) -> dict[str, Any]:
    """The code a display at the checkpoint shows now, with the QR of the guard page's scan
    link; the next code shows from `valid_until`."""
    names = {c.id: c.name for c in ctx.site.checkpoints}
    if checkpoint not in names:
        raise NotFound(f"no checkpoint {checkpoint!r}")
    patrol = ctx.patrol
    shown = patrol.codes.show(checkpoint, patrol.clock())
    base = (ctx.settings.public_url or "").rstrip("/")
    link = f"{base}/guard.html#scan={shown.payload}"
    return {
        "checkpoint": checkpoint,
        "name": names[checkpoint],
        "code": shown.code,
        "payload": shown.payload,
        "qr": qr_data_url(link, scale=8),
        "valid_until": shown.valid_until.isoformat(),
    }


@router.get("/api/patrol/report", response_model=PatrolReportPublic, summary="The patrol report")
async def report(
    ctx: Ctx,
    _: Reader,
    period: Annotated[str, Query(description="2026-11-30, 2026-W48 or 2026-11")],
    format: Literal["json", "xlsx", "pdf"] = "json",
    lang: Literal["zh-CN", "en"] = "zh-CN",
) -> Any:
    """Per guard, route and shift: tours, checkpoints on time / late / missed / out of
    order, tours unobserved (the hub was down), refused visits and scans, compliance in
    percent; every tour with its checkpoints and how each visit was proven. As JSON, XLSX
    (a sheet per summary and the visits) or PDF."""
    patrol = ctx.patrol
    try:
        p = parse_period(period, patrol.tz)
    except ValueError as err:
        raise Invalid(str(err), field="period") from err
    if p.kind == "year":
        raise Invalid("a patrol report covers a day, a week or a month", field="period")
    data = await asyncio.to_thread(patrol.report, p, lang)
    name = f"patrol-{p.kind}-{p.label}"
    if format == "pdf":
        pdf = await asyncio.to_thread(render.pdf, data)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return table_response(data.as_json(), format, name, render.sheets(data))


@router.get(
    "/api/patrol/reports",
    response_model=list[StoredReportPublic],
    summary="Stored patrol reports (the scheduled ones)",
)
def stored(ctx: Ctx, _: Reader) -> list[dict[str, Any]]:
    """The reports the hub built when a week or month ended, newest first."""
    return ctx.patrol_reports.list()


@router.get("/api/patrol/reports/{name}", summary="A stored patrol report file")
def stored_file(ctx: Ctx, name: str, _: Reader) -> FileResponse:
    """One stored report by its file name (PDF, XLSX or JSON)."""
    return tables.stored_file(ctx.patrol_reports, name)
