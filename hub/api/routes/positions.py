"""Where guards and vehicles are: current positions, tracks, HTTP trackers (OsmAnd)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from hub.api.deps import Ctx, When, allow
from hub.errors import Invalid
from hub.identity.roles import VIEWERS, Principal, Role
from hub.live import to_message

router = APIRouter(tags=["positions"])

Viewer = Annotated[Principal, allow(VIEWERS)]


@router.get("/api/positions", summary="Every subject's current position")
def positions(ctx: Ctx, _: Viewer) -> list[dict[str, Any]]:
    """The last applied fix of each guard and vehicle (late fixes are history only)."""
    return [to_message(fix) for fix in ctx.location.positions()]


@router.get("/api/positions/{subject_id}/track", summary="A subject's track")
async def track(
    ctx: Ctx,
    subject_id: str,
    _: Viewer,
    start: When | None = None,
    end: When | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> list[dict[str, Any]]:
    """Fixes in [start, end), oldest first; defaults to the last 24 hours."""
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=24)
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("start and end need a time zone", field="start")
    if start >= end:
        raise Invalid("start must be before end", field="start")
    return [to_message(f) for f in await ctx.telemetry.track(subject_id, start, end, limit=limit)]


@router.get("/api/ingest/unknown", summary="Device ids seen but not registered")
def unknown(ctx: Ctx, _: Annotated[Principal, allow(Role.ADMIN)]) -> list[dict[str, Any]]:
    """Trackers, phones, badges and gateways that sent data nobody registered: adopt them by
    adding them to the site file (a vehicle's tracker, a person's phones or badges)."""
    return ctx.location.unknown_devices()


OSMAND = "Traccar OsmAnd protocol (trackers, Traccar Client)"


@router.get(
    "/api/osmand", summary=OSMAND, response_class=PlainTextResponse, operation_id="osmand_get"
)
@router.post(
    "/api/osmand", summary=OSMAND, response_class=PlainTextResponse, operation_id="osmand_post"
)
async def osmand(
    ctx: Ctx,
    request: Request,
    who: Annotated[Principal, allow(Role.DEVICE, Role.ADMIN, query_key=True)],
) -> PlainTextResponse:
    """Set the tracker's server URL to `https://<hub>/api/osmand?key=<device API key>`.

    Query string, form body or the Traccar Client's JSON. 200 when the fix was accepted,
    400 (with the reason) for an unknown device or an implausible or malformed fix.
    """
    params: dict[str, Any] = dict(request.query_params)
    params.pop("key", None)
    if request.method == "POST":
        ctype = request.headers.get("content-type", "")
        if "json" in ctype:
            try:
                body = await request.json()
            except (ValueError, RecursionError):  # [[[[… nested thousands deep too
                ctx.pipeline.reject("osmand", "not_json")
                return PlainTextResponse("not_json", status_code=400)
            if not isinstance(body, dict):
                ctx.pipeline.reject("osmand", "not_object")
                return PlainTextResponse("not_object", status_code=400)
            params.update(body)
        else:
            params.update(dict(await request.form()))
    from_format = ctx.decoders["osmand"]
    try:
        events = from_format(params)
    except ValueError as err:  # the decoder's DecodeError
        reason = getattr(err, "reason", "bad_request")
        ctx.pipeline.reject("osmand", reason)
        return PlainTextResponse(reason, status_code=400)
    # a key speaks for the trackers it was bound to, and no other (a stolen tracker's key
    # must not move a guard)
    foreign = [e for e in events if not who.may_report_for(getattr(e, "subject_id", ""))]
    if foreign:
        ctx.pipeline.reject("osmand", "not_your_tracker")
        return PlainTextResponse("not_your_tracker", status_code=403)
    verdicts = await ctx.pipeline.publish_many("osmand", events)
    refused = [v.reason for v in verdicts if not v]
    if refused:
        return PlainTextResponse(refused[0], status_code=400)
    return PlainTextResponse("OK")
