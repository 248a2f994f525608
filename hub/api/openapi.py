"""What the app's routes declare: every route's full path, its role guard or public mark (the
app refuses a route with neither), and the OpenAPI document's security schemes built from them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute, APIWebSocketRoute

from hub.api.deps import RoleGuard, WsGuard

# How a client authenticates (hub.api.deps.credentials reads both from the headers)
SCHEMES: dict[str, Any] = {
    "OAuth2PasswordBearer": {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/api/auth/token", "scopes": {}}},
        "description": "A person's token from /api/auth/token (or single sign-on).",
    },
    "APIKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A device's or terminal's API key (an administrator issues it).",
    },
}


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


def document_security(app: FastAPI) -> None:
    """Name the security schemes in the app's OpenAPI document and, on every guarded
    operation, the schemes it takes and the roles it admits (`x-roles`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {})["securitySchemes"] = SCHEMES
        roles: dict[tuple[str, str], list[str]] = {}
        for path, route in api_routes(app):
            guards = route_guards(route)
            if isinstance(route, APIRoute) and guards:
                admitted = sorted({r.value for g in guards for r in g.roles})
                for method in route.methods or ():
                    roles[(path, method.lower())] = admitted
        for path, operations in schema.get("paths", {}).items():
            for method, op in operations.items():
                if (path, method) in roles:
                    op["security"] = [{name: []} for name in SCHEMES]
                    op["x-roles"] = roles[(path, method)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
