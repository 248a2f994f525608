"""The FastAPI application: routers, error handlers, static web pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.staticfiles import StaticFiles

from hub import __version__
from hub.api import errors
from hub.api.deps import RoleGuard, WsGuard
from hub.api.metrics import make_registry
from hub.api.routes import (
    alarms,
    auth,
    booking,
    canteen,
    energy,
    gate,
    health,
    home,
    inbox,
    ingest,
    live,
    patrol,
    positions,
    site,
    telemetry,
    tickets,
    users,
    vehicles,
)
from hub.api.shield import MiB, Shield, content_security_policy
from hub.context import HubContext

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute | APIWebSocketRoute]]:
    """Every HTTP and websocket route of the app with its full path, included routers too.

    FastAPI 0.165 keeps included routers as lazy wrappers; `iter_route_contexts` is how its
    own OpenAPI generator walks them.
    """
    out: list[tuple[str, APIRoute | APIWebSocketRoute]] = []
    iterate = getattr(routing, "iter_route_contexts", None)
    if iterate is None:  # older FastAPI: routes are flat
        return [(r.path, r) for r in app.routes if isinstance(r, APIRoute | APIWebSocketRoute)]
    for context in iterate(app.routes):
        original = context.original_route
        if isinstance(original, APIRoute | APIWebSocketRoute):
            out.append((str(context.path or original.path), original))
    return out


def route_guards(route: Any) -> list[Any]:
    """The RoleGuard / WsGuard objects among a route's dependencies (searched recursively)."""
    found: list[Any] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RoleGuard | WsGuard):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def is_public(route: APIRoute) -> bool:
    """Whether a route is marked as needing no authentication."""
    return bool((route.openapi_extra or {}).get("x-public"))


def check_routes(app: FastAPI) -> None:
    """Refuse an app with a route that declares neither roles nor being public."""
    unguarded = [
        path
        for path, r in api_routes(app)
        if not route_guards(r) and not (isinstance(r, APIRoute) and is_public(r))
    ]
    if unguarded:
        raise RuntimeError(f"routes without a role guard or PUBLIC mark: {unguarded}")


_VENDOR = re.compile(r'(?:src|href)="/(vendor/node_modules/[^"]+)"')


def missing_web_libraries(web_dir: Path) -> list[str]:
    """The npm files the pages load from /vendor/ that are not installed (scripts/setup.sh
    installs them with `npm ci` in web/vendor; the image copies them in)."""
    wanted = {m for page in web_dir.glob("*.html") for m in _VENDOR.findall(page.read_text())}
    return sorted(w for w in wanted if not (web_dir / w).is_file())


def create_app(ctx: HubContext, *, lifespan: Lifespan | None = None) -> FastAPI:
    """Build the app for a hub context; `lifespan` starts and stops the hub's machinery."""

    @asynccontextmanager
    async def no_lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="dayuan hub",
        version=__version__,
        summary="Smart-building and security supervision hub (智慧后勤)",
        lifespan=lifespan or no_lifespan,
        docs_url=None,  # /api/docs: web/api-docs.html, Swagger UI served by the hub
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.ctx = ctx
    app.state.metrics = make_registry(ctx)
    errors.install(app)
    for module in (
        health,
        gate,  # first after health: terminals call it most, and routes match in order
        canteen,  # then the lunchtime rush (1,000 orders in the minute before the cut-off)
        auth,
        users,
        site,
        telemetry,
        ingest,
        positions,
        live,
        alarms,
        tickets,
        booking,
        vehicles,
        energy,
        patrol,
        inbox,
        home,
    ):
        app.include_router(module.router)
    tiles = ctx.settings.live.tile_url
    app.add_middleware(
        Shield,
        csp=content_security_policy(tile_url=tiles, frame_ancestors="'none'"),
        wall_csp=content_security_policy(
            tile_url=tiles, frame_ancestors=ctx.settings.wall_frame_ancestors
        ),
        max_body=ctx.settings.max_request_mib * MiB,
        max_upload=ctx.settings.max_upload_mib * MiB,
    )
    check_routes(app)
    if not api_routes(app):
        raise RuntimeError("no API routes found: is this FastAPI version supported?")
    if ctx.settings.web_dir.is_dir():
        app.mount("/", StaticFiles(directory=ctx.settings.web_dir, html=True), name="web")
    return app
