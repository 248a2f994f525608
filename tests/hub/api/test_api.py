"""What users of the API see: health, sign-in, errors as problem details, metrics, live data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from hub.domain import Reading
from hub.identity import Role
from hub.runtime import Hub
from tests.hub.api.conftest import PASSWORD, auth
from tests.support.live import next_change
from tests.support.waiting import wait_for


def publish(hub: Hub, client: TestClient, *events: Reading) -> None:
    """Publish through the real pipeline on the app's event loop and wait until stored."""
    portal = client.portal  # type: ignore[attr-defined]
    for e in events:
        verdict = portal.call(hub.pipeline.publish, "test", e)
        assert verdict, verdict.reason

    def stored() -> bool:
        sink = hub.pipeline.health()["consumers"]["telemetry"]
        return not (hub.pipeline.depth or sink["queued"] or sink["busy"])

    wait_for(stored, "the telemetry sink to store them", timeout=5)


def test_health_tells_strangers_up_or_down_and_administrators_everything(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    r = client.get("/api/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})  # no paths, counts, versions
    for role in (Role.STAFF, Role.SECURITY, Role.DISPLAY):  # not theirs either
        assert client.get("/api/health", headers=auth(tokens[role])).json() == {"status": "ok"}
    bad = client.get("/api/health", headers={"X-API-Key": "dyh_0123456789ab_nope"})
    assert bad.json() == {"status": "ok"}  # a wrong key gets the short answer, not an error
    body = client.get("/api/health", headers=auth(tokens[Role.ADMIN])).json()
    assert body["status"] == "ok"
    assert body["site"] == "demo-compound"
    assert {"database", "telemetry", "pipeline", "live"} <= set(body["components"])
    assert body["components"]["database"]["backend"] == "sqlite"


def test_sign_in_then_me(client: TestClient, tokens: dict[Role, str]) -> None:
    r = client.get("/api/auth/me", headers=auth(tokens[Role.DISPATCHER]))
    assert r.json() == {
        "name": "user-dispatcher",
        "roles": ["dispatcher"],
        "work_unit": "u-office",
        "kind": "user",
    }


def test_wrong_password_is_a_401_problem(client: TestClient) -> None:
    r = client.post("/api/auth/token", data={"username": "user-admin", "password": "nope nope"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["detail"] == "wrong username or password"


def test_display_scope_gives_a_long_lived_display_only_token(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    r = client.post(
        "/api/auth/token",
        data={"username": "user-display", "password": PASSWORD, "scope": "display"},
    )
    assert r.status_code == 200
    assert r.json()["expires_in"] >= 300 * 24 * 3600
    me = client.get("/api/auth/me", headers=auth(r.json()["access_token"])).json()
    assert me["roles"] == ["display"]
    refused = client.post(
        "/api/auth/token",
        data={"username": "user-security", "password": PASSWORD, "scope": "display"},
    )
    assert refused.status_code == 401


def test_bad_input_is_a_422_with_field_errors_never_a_500(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    admin = auth(tokens[Role.ADMIN])
    cases = [
        {"username": "x", "password": PASSWORD, "roles": ["staff"]},  # name too short
        {"username": "ok-name", "password": PASSWORD, "roles": ["wizard"]},
        {"username": "ok-name", "password": PASSWORD, "roles": []},
        {"username": "ok-name", "password": PASSWORD, "roles": ["staff"], "extra": 1},
        {"username": "ok-name", "password": "short", "roles": ["staff"]},
        {"username": "ok-name", "password": PASSWORD, "roles": ["staff"], "work_unit": "u-x"},
    ]
    for body in cases:
        r = client.post("/api/users", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        problem = r.json()
        assert problem["status"] == 422
        assert problem["errors"]
        assert problem["errors"][0]["field"]
    r = client.post("/api/users", content=b"\xff\xfe not json", headers=admin)
    assert r.status_code == 422
    r = client.get("/api/points/meter-b1.total_energy/history?start=yesterday", headers=admin)
    assert r.status_code == 422


def test_admin_creates_a_user_who_can_then_sign_in(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    body = {
        "username": "liu.tech",
        "password": "a good long password",
        "roles": ["technician"],
        "display_name": "刘师傅",
        "work_unit": "u-logistics",
    }
    r = client.post("/api/users", json=body, headers=auth(tokens[Role.ADMIN]))
    assert r.status_code == 201, r.text
    assert r.json()["roles"] == ["technician"]
    again = client.post("/api/users", json=body, headers=auth(tokens[Role.ADMIN]))
    assert again.status_code == 409
    signed_in = client.post(
        "/api/auth/token", data={"username": "liu.tech", "password": "a good long password"}
    )
    assert signed_in.status_code == 200
    audit = client.get("/api/audit?action=user.create", headers=auth(tokens[Role.ADMIN])).json()
    assert any(a["target"] == "liu.tech" and a["actor"] == "user-admin" for a in audit)


def test_site_layers_are_geojson_with_circles_as_polygons(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    body = client.get("/api/site", headers=auth(tokens[Role.DISPLAY])).json()
    features = body["layers"]["features"]
    layers = {f["properties"]["layer"] for f in features}
    assert {"boundary", "building", "zone", "geofence", "checkpoint", "gate"} <= layers
    plant = next(f for f in features if f["id"] == "zone:z-plant")
    assert plant["geometry"]["type"] == "Polygon"  # drawn by the server, not the browser
    assert body["summary"]["buildings"] == 3


def test_points_show_their_latest_value_and_history(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    publish(
        hub,
        client,
        *[
            Reading("meter-b1.total_energy", 1000.0 + i, "kWh", now - timedelta(minutes=10 - i))
            for i in range(10)
        ],
    )
    tech = auth(tokens[Role.TECHNICIAN])
    points = client.get("/api/points?device=meter-b1", headers=tech).json()
    energy = next(p for p in points if p["point_id"] == "meter-b1.total_energy")
    assert energy["value"] == 1009.0
    assert energy["unit"] == "kWh"
    hist = client.get("/api/points/meter-b1.total_energy/history", headers=tech).json()
    assert [h["value"] for h in hist] == [1000.0 + i for i in range(10)]
    assert client.get("/api/points/nope/history", headers=tech).status_code == 404


def test_metrics_expose_pipeline_counters(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    portal = client.portal  # type: ignore[attr-defined]
    bad = Reading("meter-b1.total_power", float("nan"), "W", datetime.now(UTC))
    assert portal.call(hub.pipeline.publish, "modbus", bad).reason == "value_nan"
    hub.pipeline.reject("mqtt:owntracks", "not_json")
    text = client.get("/metrics", headers=auth(tokens[Role.ADMIN])).text
    assert 'hub_events_rejected_total{reason="value_nan",source="modbus"} 1.0' in text
    assert 'hub_events_rejected_total{reason="not_json",source="mqtt:owntracks"} 1.0' in text
    assert "hub_consumer_handled_total" in text
    assert "hub_pipeline_queue_depth" in text


def test_the_websocket_sends_a_snapshot_then_live_changes(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    with client.websocket_connect(f"/ws?token={tokens[Role.SECURITY]}") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot"
        reading = Reading("ahu-b1.supply_temp", 16.5, "degC", datetime.now(UTC))
        client.portal.call(hub.pipeline.publish, "bacnet", reading)  # type: ignore[attr-defined]
        msg = next_change(
            ws, lambda m: m.get("key") == "ahu-b1.supply_temp" and m["type"] == "reading", 5
        )
        assert msg["value"] == 16.5
    with client.websocket_connect(f"/ws?token={tokens[Role.DISPLAY]}") as ws:
        snapshot = ws.receive_json()["entities"]
        assert any(e["key"] == "ahu-b1.supply_temp" for e in snapshot)


def test_the_start_page_is_served(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "大院智慧后勤中枢" in r.text


def test_machines_push_readings_and_bad_ones_are_refused_with_reasons(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    now = datetime.now(UTC)
    device = auth(tokens[Role.DEVICE])
    body = [
        {"point_id": "meter-b2.total_power", "value": 1500, "ts": now.isoformat()},
        {"point_id": "meter-b2.no_such_point", "value": 1.0},
        {
            "point_id": "meter-b2.total_power",
            "value": 1.0,
            "ts": (now + timedelta(days=1)).isoformat(),
        },
        {"point_id": "meter-b2.total_power", "value": 1.0, "ts": "1999-01-01T00:00:00Z"},
    ]
    r = client.post("/api/ingest/readings", json=body, headers=device)
    assert r.status_code == 202, r.text
    assert r.json() == {
        "accepted": 1,
        "rejected": [
            {"index": 1, "reason": "unknown_point"},
            {"index": 2, "reason": "ts_in_future"},
            {"index": 3, "reason": "ts_before_2000"},
        ],
    }
    for bad in (
        [{"point_id": "meter-b2.total_power", "value": "12"}],  # a string for a number
        [{"point_id": "meter-b2.total_power", "value": 1.0, "ts": "2026-11-01T08:00:00"}],  # naive
        {"point_id": "meter-b2.total_power", "value": 1.0},  # not a list
    ):
        assert client.post("/api/ingest/readings", json=bad, headers=device).status_code == 422
    invalid_utf8 = b'[{"point_id": "meter-b2.' + bytes([0xFF, 0xFE]) + b'", "value": 1}]'
    r = client.post(
        "/api/ingest/readings",
        content=invalid_utf8,
        headers={**device, "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422)  # a clear problem, never a 500
    assert r.headers["content-type"] == "application/problem+json"
    text = client.get("/metrics", headers=auth(tokens[Role.ADMIN])).text
    assert 'hub_events_rejected_total{reason="unknown_point",source="http"}' in text


def test_trackers_post_osmand_fixes_that_become_positions_and_tracks(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    r = client.post(
        "/api/api-keys",
        json={"name": "car-tracker-1", "role": "device", "trackers": ["860000000000001", "999"]},
        headers=auth(tokens[Role.ADMIN]),
    )
    key = r.json()["key"]
    now = int(datetime.now(UTC).timestamp())
    ok = client.get(
        "/api/osmand",
        params={
            "key": key,
            "id": "860000000000001",
            "lat": 30.2595,
            "lon": 120.1307,
            "timestamp": now - 60,
            "speed": 5,
        },
    )
    assert (ok.status_code, ok.text) == (200, "OK")
    js = client.post(
        f"/api/osmand?key={key}",
        json={
            "device_id": "860000000000001",
            "location": {
                "timestamp": datetime.fromtimestamp(now - 30, UTC).isoformat(),
                "coords": {"latitude": 30.2596, "longitude": 120.1308, "speed": 2.0},
            },
        },
    )
    assert js.status_code == 200, js.text
    stranger = client.get(
        "/api/osmand", params={"key": key, "id": "999", "lat": 30.1, "lon": 120.1}
    )
    assert (stranger.status_code, stranger.text) == (400, "unknown_device")
    mad = client.get(
        "/api/osmand",
        params={"key": key, "id": "860000000000001", "lat": 200, "lon": 120.1, "timestamp": now},
    )
    assert (mad.status_code, mad.text) == (400, "lat_out_of_range")
    assert (
        client.get("/api/osmand", params={"id": "860000000000001", "lat": 1, "lon": 1}).status_code
        == 401
    )

    viewer = auth(tokens[Role.SECURITY])
    current = {p["key"]: p for p in client.get("/api/positions", headers=viewer).json()}
    assert current["car-1"]["zone_id"] == "z-parking"
    assert current["car-1"]["lat"] == 30.2596
    track = wait_for(  # the telemetry sink writes in the background
        lambda: (
            len(t := client.get("/api/positions/car-1/track", headers=viewer).json()) == 2 and t
        ),
        "the track to be stored",
    )
    assert [p["lat"] for p in track] == [30.2595, 30.2596]
    unknown = client.get("/api/ingest/unknown", headers=auth(tokens[Role.ADMIN])).json()
    assert any(u["device_id"] == "999" and u["kind"] == "tracker" for u in unknown)
