"""The FastAPI application: routers, error handlers, static web pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hub import __version__
from hub.api import errors
from hub.api.metrics import make_registry
from hub.api.openapi import api_routes, check_routes, document_security
from hub.api.routes import (
    alarms,
    auth,
    booking,
    canteen,
    canteen_reports,
    energy,
    feedback,
    gate,
    health,
    home,
    inbox,
    ingest,
    live,
    notices,
    open311,
    patrol,
    permits,
    positions,
    site,
    surveys,
    telemetry,
    tickets,
    users,
    vehicles,
)
from hub.api.shield import MiB, Shield, content_security_policy
from hub.context import HubContext

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


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
    # routes match in order, each a regular expression tried in turn: the calls made most come
    # first — the terminals' decisions, everyone's home, the lunchtime rush
    app.include_router(gate.terminals)
    for module in (
        health,
        home,
        canteen,  # the lunchtime rush: 1,000 orders in the minute before the cut-off
        canteen_reports,
        gate,
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
        notices,
        feedback,
        open311,
        surveys,
        permits,
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
    document_security(app)
    if not api_routes(app):
        raise RuntimeError("no API routes found: is this FastAPI version supported?")
    if ctx.settings.web_dir.is_dir():
        app.mount("/", StaticFiles(directory=ctx.settings.web_dir, html=True), name="web")
    return app
