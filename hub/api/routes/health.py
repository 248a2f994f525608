"""Health (public) and Prometheus metrics (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub import __version__
from hub.api.deps import PUBLIC, Ctx, allow
from hub.identity.roles import Principal, Role

router = APIRouter(tags=["health"])

_RANK = {"ok": 0, "degraded": 1, "down": 2}
# A hub without these can't do its job: their failure makes the whole hub "down".
_CRITICAL = {"database", "pipeline"}


@router.get("/api/health", openapi_extra=PUBLIC, summary="Health of each component (no auth)")
def health(ctx: Ctx) -> JSONResponse:
    """Each component's state; 503 when a critical one is down."""
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
    body = {
        "status": overall,
        "version": __version__,
        "site": ctx.site.site.id,
        "components": components,
    }
    return JSONResponse(body, status_code=503 if overall == "down" else 200)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request, _: Annotated[Principal, allow(Role.ADMIN)]) -> Response:
    """Pipeline, telemetry and live-view counters in Prometheus text format."""
    registry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/docs", openapi_extra=PUBLIC, include_in_schema=False)
def api_docs() -> RedirectResponse:
    """The OpenAPI document in Swagger UI (web/api-docs.html, served by the hub: no CDN)."""
    return RedirectResponse("/api-docs.html")
