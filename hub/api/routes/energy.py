"""Energy reports: a period's report as JSON, CSV, XLSX or PDF; the stored (scheduled)
reports; the meters."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from hub.api import tables
from hub.api.deps import Ctx, allow
from hub.api.public import EnergyReportPublic, StoredReportPublic
from hub.api.tables import table_response
from hub.errors import Invalid
from hub.identity.roles import ENERGY_READERS, Principal
from hub.services.energy import render
from hub.services.periods import parse_period

router = APIRouter(prefix="/api/energy", tags=["energy"])

Reader = Annotated[Principal, allow(ENERGY_READERS)]


@router.get("/meters", summary="The site's meters and their hierarchy")
def meters(ctx: Ctx, _: Reader) -> list[dict[str, Any]]:
    """Each meter: what it measures, the counter it reads (or what it is computed from), its
    parent, building, floor and system."""
    energy = ctx.energy
    return [m.model_dump(mode="json", exclude_none=True) for m in energy.tree.meters.values()]


@router.get("/report", response_model=EnergyReportPublic, summary="The energy report of a period")
async def report(
    ctx: Ctx,
    _: Reader,
    period: Annotated[str, Query(description="2026-10-05, 2026-W41, 2026-10 or 2026")],
    format: Literal["json", "csv", "xlsx", "pdf"] = "json",
    lang: Literal["zh-CN", "en"] = "zh-CN",
    charts: bool = False,
) -> Any:
    """Consumption per building and measure beside the previous period and the same period
    last year, intensity, out-of-hours use, peak demand, the series per hour (a day) or per
    day, and the data's quality. CSV is the summary; XLSX adds the series and the quality.
    With `charts`, the JSON carries the charts as PNG data URLs (the report page shows them)."""
    energy = ctx.energy
    try:
        p = parse_period(period, energy.tz)
    except ValueError as err:
        raise Invalid(str(err), field="period") from err
    data = await energy.report(p)
    if format == "pdf":
        pdf = await asyncio.to_thread(render.pdf, data, lang)
        name = f"energy-{p.kind}-{p.label}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    out = data.as_json()
    if charts and format == "json":
        images = await asyncio.to_thread(render.charts, data, lang)
        out["charts"] = {
            k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in images.items()
        }
    return table_response(out, format, f"energy-{p.kind}-{p.label}", render.sheets(data))


@router.get(
    "/reports",
    response_model=list[StoredReportPublic],
    summary="Stored reports (the scheduled ones)",
)
def stored(ctx: Ctx, _: Reader) -> list[dict[str, Any]]:
    """The reports the hub built when a day, week or month ended, newest first."""
    return ctx.reports.list()


@router.get("/reports/{name}", summary="A stored report file (PDF or JSON)")
def stored_file(ctx: Ctx, name: str, _: Reader) -> FileResponse:
    """One stored report by its file name."""
    return tables.stored_file(ctx.reports, name)
