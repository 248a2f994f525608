"""The API's contracts: every route the pages call is described, with the body it answers, in
the OpenAPI document; request bodies refuse fields they do not know."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from hub.identity import Role
from tests.hub.api.conftest import auth

WEB = Path(__file__).parents[3] / "web"
# Routes that answer files or streams, not JSON bodies
NOT_JSON = {
    "/api/tickets/{ticket_id}/photo",
    "/api/feedback/{item_id}/photos/{n}",  # JPEG
    "/api/feedback/followup/photos/{n}",
    "/api/notices/{notice_id}/attachments/{file_id}",  # the file as uploaded
    "/api/surveys/{survey_id}/export.{fmt}",  # CSV, XLSX
    "/api/permits/doors.csv",  # for the access-control system
    "/api/permits/{permit_id}/documents/{name}",  # JPEG
    "/api/energy/reports/{name}",
    "/api/patrol/reports/{name}",
    "/api/auth/oidc/start",  # a redirect to the provider
    "/api/docs",  # the API's own page (not in its document)
    "/api/openapi.json",
}
# The operators' health answers a different body to whom it may tell the details
UNDESCRIBED = {"/api/health"}


def called_by_pages() -> set[str]:
    """The API paths the pages' scripts call (a template's `${...}` as a parameter)."""
    paths: set[str] = set()
    for js in [*WEB.glob("*.js"), *WEB.glob("*.html")]:
        for m in re.finditer(r"/api/[A-Za-z0-9_/.${}-]+", js.read_text(encoding="utf-8")):
            path = re.sub(r"\$\{[^}]*\}?", "{}", m.group(0)).rstrip("/")
            paths.add(re.sub(r"\{[^/]*", "{}", path))
    return paths


def route_of(page_path: str, routes: list[str]) -> str | None:
    for route in routes:
        pattern = "^" + re.sub(r"\\\{[^/]+\\\}", r"\{\}|[^/]+", re.escape(route)) + "$"
        if re.match(pattern, page_path):
            return route
    return None


def described(schema: dict[str, object]) -> bool:
    """A model or a list of models (not `{}` or a bare object of anything)."""
    if "$ref" in schema or "anyOf" in schema:
        return True
    items = schema.get("items")
    return schema.get("type") == "array" and isinstance(items, dict) and described(items)


def test_every_route_the_pages_call_describes_what_it_answers(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    routes = sorted(doc["paths"], key=len, reverse=True)
    called = called_by_pages()
    assert len(called) > 40  # the pages were read
    undescribed = []
    for page_path in sorted(called):
        if page_path in NOT_JSON:
            continue
        route = route_of(page_path, routes)
        assert route is not None, f"the pages call {page_path}, which no route serves"
        if route in NOT_JSON | UNDESCRIBED:
            continue
        for method, op in doc["paths"][route].items():
            ok = next((r for code, r in op["responses"].items() if code.startswith("2")), None)
            if ok is None or "content" not in ok:
                continue  # 204 No Content
            schema = ok["content"]["application/json"]["schema"]
            if not described(schema):
                undescribed.append(f"{method.upper()} {route}")
    assert undescribed == [], undescribed


def test_a_request_body_with_an_unknown_field_is_refused(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    body = {"description": "水龙头漏水", "location": "1号楼 201", "category": "plumbing"}
    r = client.post(
        "/api/tickets", json={**body, "priorty": "urgent"}, headers=auth(tokens[Role.STAFF])
    )
    assert r.status_code == 422
    assert "priorty" in r.text
