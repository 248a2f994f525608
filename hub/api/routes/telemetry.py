"""Points, their newest values and their history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import Ctx, When, allow
from hub.api.schemas import CommandPublic, LatestPublic, SamplePublic, WriteRequest
from hub.errors import Invalid, NotFound
from hub.identity.roles import VIEWERS, Principal, Role

router = APIRouter(prefix="/api/points", tags=["telemetry"])

Viewer = Annotated[Principal, allow(VIEWERS)]


@router.get("", summary="Every point with its newest value")
async def points(ctx: Ctx, _: Viewer, device: str | None = None) -> list[LatestPublic]:
    """The site's points (optionally of one device) with their latest stored values."""
    catalogue = ctx.site.point_ids()
    if device is not None:
        catalogue = {k: v for k, v in catalogue.items() if v[0].id == device}
        if not catalogue:
            raise NotFound(f"no device {device!r} with points")
    latest = await ctx.telemetry.latest(list(catalogue))
    out = []
    for pid, (dev, point) in catalogue.items():
        value = latest.get(pid)
        out.append(
            LatestPublic(
                point_id=pid,
                device_id=dev.id,
                name=point.name,
                unit=point.unit,
                kind=point.kind.value,
                value=value.value if value else None,
                ts=value.ts if value else None,
                quality=value.quality.value if value else None,
            )
        )
    return out


@router.get("/{point_id}/history", summary="A point's values over a time range")
async def history(
    ctx: Ctx,
    point_id: str,
    _: Viewer,
    start: When | None = None,
    end: When | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> list[SamplePublic]:
    """Values in [start, end), oldest first; defaults to the last 24 hours."""
    if point_id not in ctx.site.point_ids():
        raise NotFound(f"no point {point_id!r}")
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=24)
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid(
            "start and end need a time zone (e.g. 2026-11-01T00:00:00+08:00)", field="start"
        )
    if start >= end:
        raise Invalid("start must be before end", field="start")
    samples = await ctx.telemetry.history(point_id, start, end, limit=limit)
    return [SamplePublic(ts=s.ts, value=s.value, quality=s.quality.value) for s in samples]


@router.post("/{point_id}/write", summary="Write a setpoint or command (read back, audited)")
async def write(
    ctx: Ctx,
    point_id: str,
    body: WriteRequest,
    who: Annotated[Principal, allow(Role.ADMIN, Role.TECHNICIAN)],
) -> CommandPublic:
    """Write a value to a writable point; the device's value is read back and compared.

    422: read-only point or value out of range; 409: the device refused or the read-back
    differs; 503: the device doesn't answer.
    """
    if point_id not in ctx.site.point_ids():
        raise NotFound(f"no point {point_id!r}")
    result = await ctx.commands.write(who.name, point_id, body.value)
    return CommandPublic(ok=result.ok, value=result.value, detail=result.detail)
