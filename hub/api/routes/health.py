"""Health (public) and Prometheus metrics (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from hub import __version__
from hub.api.deps import (
    PUBLIC,
    Ctx,
    allow,
    client_of,
    credentials,
    guarded_authenticate,
)
from hub.context import HubContext
from hub.errors import HubError
from hub.identity.roles import Principal, Role

router = APIRouter(tags=["health"])

_RANK = {"ok": 0, "degraded": 1, "down": 2}
# A hub without these can't do its job: their failure makes the whole hub "down".
_CRITICAL = {"database", "pipeline"}


@router.get("/api/health", openapi_extra=PUBLIC, summary="Health: up, degraded or down")
def health(ctx: Ctx, request: Request) -> JSONResponse:
    """`{"status": "ok" | "degraded" | "down"}` for anyone (503 when a critical component is
    down: load balancers and compose's health check read this); an administrator (or the
    metrics scraper's admin key) also gets each component's state, counts and version."""
    checks = {
        "database": ctx.db.health,
        "telemetry": ctx.telemetry.health,
        "pipeline": ctx.pipeline.health,
        "live": ctx.live.health,
        **ctx.components,
    }
    components: dict[str, Any] = {}
    for name, check in checks.items():
        try:
            components[name] = check()
        except Exception as err:  # a broken health check is itself a finding
            components[name] = {"status": "down", "error": type(err).__name__}
    overall = "ok"
    for name, c in components.items():
        state = c.get("status", "down")
        if name in _CRITICAL and state == "down":
            overall = "down"
        elif _RANK.get(state, 2) > _RANK[overall]:
            overall = "degraded"
    code = 503 if overall == "down" else 200
    if not _is_admin(ctx, request):
        return JSONResponse({"status": overall}, status_code=code)
    body = {
        "status": overall,
        "version": __version__,
        "site": ctx.site.site.id,
        "components": components,
    }
    return JSONResponse(body, status_code=code)


def _is_admin(ctx: HubContext, request: Request) -> bool:
    """Whether the (optional) credential is an administrator's; a wrong one is not an error
    here, it just gets the short answer (and counts as a guess like anywhere else)."""
    bearer, api_key = credentials(request)
    credential = api_key or bearer
    if not credential:
        return False
    principal = ctx.identity.remembered(credential)
    if principal is None:
        try:
            principal = guarded_authenticate(ctx, bearer, api_key, client_of(request))
        except (HubError, SQLAlchemyError):  # the database away: no one can be checked
            return False
    return Role.ADMIN in principal.roles


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request, _: Annotated[Principal, allow(Role.ADMIN)]) -> Response:
    """Pipeline, telemetry and live-view counters in Prometheus text format."""
    registry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/docs", openapi_extra=PUBLIC, include_in_schema=False)
def api_docs() -> RedirectResponse:
    """The OpenAPI document in Swagger UI (web/api-docs.html, served by the hub: no CDN)."""
    return RedirectResponse("/api-docs.html")
