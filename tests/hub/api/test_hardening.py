"""What a security review of the running hub found, each as its user would meet it: objects
of other units, the door's code, money that is not a number, a revoked user's open feed."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from hub.identity import Role
from hub.runtime import Hub
from tests.hub.api.conftest import PASSWORD, auth


def sign_in(client: TestClient, name: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return auth(r.json()["access_token"])


@pytest.mark.timeout(60)
def test_another_units_car_request_is_not_found_by_id(hub: Hub, client: TestClient) -> None:
    hub.ctx.identity.ensure_user("office-clerk", PASSWORD, [Role.STAFF], work_unit="u-office")
    hub.ctx.identity.ensure_user("edu-clerk", PASSWORD, [Role.STAFF], work_unit="u-edu")
    mine, theirs = sign_in(client, "office-clerk"), sign_in(client, "edu-clerk")
    start = datetime.now(UTC) + timedelta(days=1)
    r = client.post(
        "/api/vehicle-requests",
        json={
            "purpose": "调研",
            "destination": "区政务中心",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=2)).isoformat(),
        },
        headers=mine,
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert client.get(f"/api/vehicle-requests/{rid}", headers=mine).status_code == 200
    # another unit's staff: the same answer as for a number that does not exist
    for method, path in (
        ("GET", f"/api/vehicle-requests/{rid}"),
        ("POST", f"/api/vehicle-requests/{rid}/cancel"),
        ("POST", f"/api/vehicle-requests/{rid}/approve"),
        ("GET", "/api/vehicle-requests/999999"),
    ):
        answer = client.request(method, path, headers=theirs, json={})
        assert answer.status_code == 404, (path, answer.text)


def test_a_trip_costs_nothing_that_is_not_a_number(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    for extras in ('{"tolls": NaN}', '{"parking": Infinity}', '{"fuel": -5}'):
        r = client.post(
            "/api/vehicle-requests/1/return",
            content=f'{{"odometer_km": 10, "extras": {extras}}}',
            headers={**auth(tokens[Role.DISPATCHER]), "Content-Type": "application/json"},
        )
        assert r.status_code == 422, (extras, r.text)


def drain(ws: WebSocketTestSession) -> None:
    """Read frames until the socket closes."""
    while True:
        ws.receive_json()


@pytest.mark.timeout(60)
def test_a_deactivated_users_open_feed_is_closed(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    hub.ctx.identity.ensure_user("night-guard", PASSWORD, [Role.SECURITY])
    token = sign_in(client, "night-guard")["Authorization"][7:]
    admin = auth(tokens[Role.ADMIN])
    with client.websocket_connect(f"/ws?token={token}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        r = client.post("/api/users/night-guard/deactivate", headers=admin)
        assert r.status_code == 200, r.text
        with pytest.raises(WebSocketDisconnect) as closed:
            drain(ws)  # deltas may still arrive until the check closes the socket
        assert closed.value.code == 4401
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(f"/ws?token={token}") as ws:
        ws.receive_json()  # and it cannot open another


def test_oversized_and_deeply_nested_bodies_are_refused_early(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    admin = {**auth(tokens[Role.ADMIN]), "Content-Type": "application/json"}
    big = client.post("/api/users", content=b" " * (9 * 1024 * 1024), headers=admin)
    assert big.status_code == 413
    assert big.headers["content-type"] == "application/problem+json"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b" " * (1024 * 1024)

    streamed = client.post("/api/users", content=chunks(), headers=admin)
    assert streamed.status_code == 413
    deep = b"[" * 5000 + b"]" * 5000
    device = {**auth(tokens[Role.ADMIN]), "Content-Type": "application/json"}
    assert client.post("/api/osmand", content=deep, headers=device).status_code == 400
    assert client.post("/api/users", content=deep, headers=admin).status_code in (400, 422)


def test_the_sqlite_database_is_private_to_its_owner(hub: Hub) -> None:
    path = Path(hub.ctx.db.engine.url.database or "")
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
