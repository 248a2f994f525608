"""Generic HTTP ingest of readings, for systems that speak neither Modbus nor BACnet nor MQTT."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import AwareDatetime, BaseModel, Field

from hub.api.deps import Ctx, allow
from hub.api.schemas import In
from hub.domain import Quality, Reading
from hub.identity.roles import Principal, Role

router = APIRouter(prefix="/api/ingest", tags=["ingest"])


class ReadingIn(In):
    """One value of a point the site knows."""

    point_id: Annotated[str, Field(min_length=1, max_length=200)]
    value: Annotated[float, Field(strict=True)]  # a JSON number; "12" is refused
    ts: AwareDatetime | None = None  # default: when the hub received it
    quality: Quality = Quality.GOOD


class IngestResult(BaseModel):
    """What the hub took: accepted count and each refusal with its index and reason."""

    accepted: int
    rejected: list[dict[str, int | str]]


@router.post("/readings", status_code=status.HTTP_202_ACCEPTED, summary="Push readings")
async def ingest_readings(
    ctx: Ctx,
    body: Annotated[list[ReadingIn], Field(max_length=5000)],
    _: Annotated[Principal, allow(Role.DEVICE, Role.ADMIN)],
) -> IngestResult:
    """Readings of known points; each is validated (NaN, time, range) and counted on refusal.

    202 means accepted into the pipeline, in order. Unknown points are refused
    (`unknown_point`), so a typo doesn't create a series nobody looks at.
    """
    points = ctx.site.point_ids()
    now = datetime.now(UTC)
    rejected: list[dict[str, int | str]] = []
    readings, positions = [], []
    for i, r in enumerate(body):
        known = points.get(r.point_id)
        if known is None:
            ctx.pipeline.reject("http", "unknown_point")
            rejected.append({"index": i, "reason": "unknown_point"})
            continue
        readings.append(Reading(r.point_id, r.value, known[1].unit, r.ts or now, r.quality))
        positions.append(i)
    verdicts = await ctx.pipeline.publish_many("http", readings)
    for i, verdict in zip(positions, verdicts, strict=True):
        if not verdict:
            rejected.append({"index": i, "reason": verdict.reason})
    rejected.sort(key=lambda r: int(r["index"]))
    accepted = sum(1 for v in verdicts if v)
    return IngestResult(accepted=accepted, rejected=rejected)
