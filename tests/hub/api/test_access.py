"""Every route × every role: 401 without credentials, 403 for a role not allowed, through otherwise.

The routes are read from the app itself, so a new route can't escape this test, and the app
refuses to start with a route that declares no roles.
"""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from hub.api.openapi import api_routes, check_routes, is_public, route_guards
from hub.identity import Role
from tests.hub.api.conftest import auth


def http_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    out = []
    for path, r in api_routes(app):
        if isinstance(r, APIRoute):
            out.extend((m, path, r) for m in sorted(r.methods))
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    kwargs: dict[str, object] = {"headers": headers or {}}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.request(method, concrete(path), **kwargs)  # type: ignore[arg-type]


def test_every_http_route_answers_each_role_as_it_declares(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    routes = http_routes(client.app)  # type: ignore[arg-type]
    assert len(routes) >= 15
    failures = []
    for method, path, route in routes:
        if is_public(route):
            r = call(client, method, path)
            if r.status_code in (401, 403) or r.status_code >= 500:
                failures.append(f"{method} {path} public but answered {r.status_code}")
            continue
        (guard,) = route_guards(route)
        r = call(client, method, path)
        if r.status_code != 401:
            failures.append(f"{method} {path} anonymous -> {r.status_code}, expected 401")
        r = call(client, method, path, {"Authorization": "Bearer forged.token.here"})
        if r.status_code != 401:
            failures.append(f"{method} {path} forged token -> {r.status_code}, expected 401")
        for role, token in tokens.items():
            r = call(client, method, path, auth(token))
            if role in guard.roles:
                if r.status_code in (401, 403) or r.status_code >= 500:
                    failures.append(f"{method} {path} as {role} -> {r.status_code}, allowed")
            elif r.status_code != 403:
                failures.append(f"{method} {path} as {role} -> {r.status_code}, expected 403")
    assert not failures, "\n".join(failures)


def test_every_websocket_route_refuses_strangers_and_admits_its_roles(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    ws_routes = [(p, r) for p, r in api_routes(app) if isinstance(r, APIWebSocketRoute)]
    assert ws_routes
    for path, route in ws_routes:
        (guard,) = route_guards(route)
        with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect(path):
            pass
        assert denied.value.status_code == 401
        for role, token in tokens.items():
            if role in guard.roles:
                with client.websocket_connect(f"{path}?token={token}") as ws:
                    assert ws.receive_json()["type"] == "snapshot"
            else:
                with (
                    pytest.raises(WebSocketDenialResponse) as denied,
                    client.websocket_connect(f"{path}?token={token}"),
                ):
                    pass
                assert denied.value.status_code == 403, role


def test_an_app_with_an_unguarded_route_refuses_to_build() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/api/oops")
    def oops() -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(RuntimeError, match="/api/oops"):
        check_routes(app)


def test_api_keys_authenticate_machines_with_their_one_role(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    r = client.post(
        "/api/api-keys",
        json={"name": "wall-1", "role": "display"},
        headers=auth(tokens[Role.ADMIN]),
    )
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert client.get("/api/site", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/api/users", headers={"X-API-Key": key}).status_code == 403
    with client.websocket_connect("/ws", headers={"X-API-Key": key}) as ws:
        assert ws.receive_json()["user"] == "key:wall-1"
    client.delete(f"/api/api-keys/{r.json()['id']}", headers=auth(tokens[Role.ADMIN]))
    assert client.get("/api/site", headers={"X-API-Key": key}).status_code == 401


def test_the_api_document_says_how_to_authenticate_and_who_may_call_each_route(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    """Swagger UI's "Authorize" and client generators read this; the credentials themselves
    are read from the headers, not by FastAPI security dependencies."""
    doc = client.get("/api/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["APIKeyHeader"]["description"],
    }
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/auth/token"
    decide = doc["paths"]["/api/gate/decide"]["post"]
    assert decide["x-roles"] == ["admin", "gate_terminal"]
    assert {name for s in decide["security"] for name in s} == set(schemes)
    assert "security" not in doc["paths"]["/api/auth/token"]["post"]  # signing in needs none
    for path, r in api_routes(client.app):  # type: ignore[arg-type]
        if isinstance(r, APIRoute) and r.include_in_schema and not is_public(r):
            for method in r.methods:
                assert doc["paths"][path][method.lower()]["x-roles"], (method, path)
    # a key in the header and a bearer token in any letter case both authenticate
    assert (
        client.get(
            "/api/site", headers={"authorization": f"bearer {tokens[Role.STAFF]}"}
        ).status_code
        == 200
    )
