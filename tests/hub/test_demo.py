"""The demo compound: its simulated meters and air handler report through the Modbus adapter."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.demo.runner import demo_simulators, free_udp_port, with_free_ports
from hub.identity import Role
from hub.runtime import Hub, adapter_components
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.health import full_health
from tests.support.live import next_change
from tests.support.waiting import wait_for

PASSWORD = "demo test password"


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, demo_site: Site
) -> Iterator[tuple[Hub, TestClient]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("demo"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        bacnet={"address": f"127.0.0.1/8:{free_udp_port()}"},
    )
    hub = Hub(
        settings, with_free_ports(demo_site), factories=(demo_simulators(), adapter_components)
    )
    with TestClient(hub.app()) as client:
        for name, role in (("tech", Role.TECHNICIAN), ("staff", Role.STAFF)):
            hub.ctx.identity.ensure_user(name, PASSWORD, [role])
        yield hub, client


def token(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_meters_and_air_handler_report_through_the_modbus_adapter(demo) -> None:  # type: ignore[no-untyped-def]
    _, client = demo
    tech = token(client, "tech")

    def values(device: str) -> dict[str, float | None]:
        r = client.get(f"/api/points?device={device}", headers=tech)
        return {p["point_id"]: p["value"] for p in r.json()}

    wait_for(
        lambda: all(
            v is not None
            for d in ("meter-b1", "meter-b2", "meter-b3", "ahu-b2")
            for v in values(d).values()
        )
    )
    meter = values("meter-b1")
    assert 200 < meter["meter-b1.voltage_l1"] < 260  # type: ignore[operator]
    assert meter["meter-b1.total_energy"] > 0  # type: ignore[operator]
    assert 10 < values("ahu-b2")["ahu-b2.supply_temp"] < 25  # type: ignore[operator]
    modbus = full_health(client)["components"]["modbus"]
    assert modbus["online"] == 4
    assert modbus["per_device"]["meter-b2"]["requests_per_poll"] < 16


def test_a_technician_writes_a_setpoint_and_it_is_read_back_and_audited(demo) -> None:  # type: ignore[no-untyped-def]
    hub, client = demo
    tech = token(client, "tech")
    r = client.post("/api/points/ahu-b2.supply_setpoint/write", json={"value": 19.5}, headers=tech)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "value": 19.5, "detail": "written and read back"}
    too_hot = client.post(
        "/api/points/ahu-b2.supply_setpoint/write", json={"value": 40}, headers=tech
    )
    assert too_hot.status_code == 422
    read_only = client.post(
        "/api/points/ahu-b2.supply_temp/write", json={"value": 20}, headers=tech
    )
    assert read_only.status_code == 422
    staff = client.post(
        "/api/points/ahu-b2.supply_setpoint/write",
        json={"value": 20},
        headers=token(client, "staff"),
    )
    assert staff.status_code == 403
    hub.ctx.identity.ensure_user("boss", PASSWORD, [Role.ADMIN])
    audit = client.get("/api/audit?action=command.write", headers=token(client, "boss")).json()
    assert [(a["actor"], a["target"], a["detail"]["ok"]) for a in audit[:3]] == [
        ("tech", "ahu-b2.supply_temp", False),
        ("tech", "ahu-b2.supply_setpoint", False),
        ("tech", "ahu-b2.supply_setpoint", True),
    ]


def test_the_air_handler_and_room_controllers_report_through_bacnet(demo) -> None:  # type: ignore[no-untyped-def]
    _hub, client = demo
    tech = token(client, "tech")

    def latest(device: str) -> dict[str, float | None]:
        r = client.get(f"/api/points?device={device}", headers=tech)
        return {p["point_id"]: p["value"] for p in r.json()}

    wait_for(
        lambda: all(
            v is not None for d in ("ahu-b1", "rc-101", "rc-501") for v in latest(d).values()
        )
    )
    assert 20 < latest("rc-101")["rc-101.room_temp"] < 26  # type: ignore[operator]
    bacnet = full_health(client)["components"]["bacnet"]
    assert bacnet["online"] == 3
    assert bacnet["per_device"]["ahu-b1"]["cov_subscriptions"] >= 1
    r = client.post("/api/points/rc-101.temp_setpoint/write", json={"value": 22.0}, headers=tech)
    assert r.status_code == 200, r.text
    assert r.json()["detail"] == "written at priority 8 and read back"


def alarms_of(client: TestClient, headers: dict[str, str], **filters: str) -> list[dict]:  # type: ignore[type-arg]
    r = client.get("/api/alarms", params=filters, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def next_alarm_message(ws, originator: str, deadline_s: float = 30.0) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Read the live feed (readings keep it flowing) until an alarm about `originator`."""
    return next_change(
        ws, lambda m: m["type"] == "alarm" and m["originator"] == originator, deadline_s
    )


def test_a_fault_in_the_modbus_simulator_raises_one_alarm_however_it_flaps(demo) -> None:  # type: ignore[no-untyped-def]
    hub, client = demo
    hub.ctx.identity.ensure_user("guard", PASSWORD, [Role.SECURITY])
    security = token(client, "guard")
    sim = next(c for c in hub.components if c.name == "modbus_simulator")
    modbus = hub.ctx.components["modbus"]
    with client.websocket_connect(f"/ws?token={security['Authorization'][7:]}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        sim.set_fault("ahu-b2", "bit")
        msg = next_alarm_message(ws, "ahu-b2")
        assert (msg["alarm_type"], msg["state"]) == ("equipment_fault", "ACTIVE_UNACK")
        assert msg["ticket"]  # the repair-ticket request the ticket service will consume
        for _ in range(2):  # flap: clear, fault again
            sim.clear_fault("ahu-b2")
            wait_for(lambda: "ahu-b2" not in modbus()["faults"])
            sim.set_fault("ahu-b2", "bit")
            wait_for(lambda: "ahu-b2" in modbus()["faults"])
    wait_for(lambda: alarms_of(client, security, originator="ahu-b2")[0]["occurrences"] == 3)
    alarms = alarms_of(client, security, originator="ahu-b2")
    assert len(alarms) == 1
    assert alarms[0]["type"] == "equipment_fault"
    assert alarms[0]["ticket_requested"]
    r = client.post(
        f"/api/alarms/{alarms[0]['id']}/ack", json={"comment": "已派维修"}, headers=security
    )
    assert r.json()["state"] == "ACTIVE_ACK"
    staff = client.get("/api/alarms", headers=token(client, "staff"))
    assert staff.status_code == 403
    sim.clear_fault("ahu-b2")


def test_a_car_leaving_the_district_raises_a_geofence_alarm(demo) -> None:  # type: ignore[no-untyped-def]
    hub, client = demo
    hub.ctx.identity.ensure_user("guard", PASSWORD, [Role.SECURITY])
    security = token(client, "guard")
    key = hub.ctx.identity.create_api_key(
        "car-3-tracker", Role.DEVICE, actor="test", trackers=["860000000000003"]
    )[0]
    now = int(time.time())
    with client.websocket_connect(f"/ws?token={security['Authorization'][7:]}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        for dt, lat, lon in (
            (-300, 30.2600, 120.1650),  # inside, near the district's east edge
            (-60, 30.2600, 120.1720),  # out: the dwell starts
            (0, 30.2600, 120.1780),  # still out a minute later: the alarm
        ):
            r = client.get(
                "/api/osmand",
                params={
                    "key": key,
                    "id": "860000000000003",
                    "lat": lat,
                    "lon": lon,
                    "timestamp": now + dt,
                },
            )
            assert r.status_code == 200, r.text
        msg = next_alarm_message(ws, "car-3")
    assert (msg["alarm_type"], msg["state"]) == ("geofence_exit", "ACTIVE_UNACK")
    # the car's key speaks for its tracker only: it cannot move a guard's phone
    moved = client.get(
        "/api/osmand",
        params={"key": key, "id": "g1/phone", "lat": 30.26, "lon": 120.13, "timestamp": now},
    )
    assert (moved.status_code, moved.text) == (403, "not_your_tracker")
    alarms = alarms_of(client, security, type="geofence_exit")
    assert [(a["originator"], a["state"]) for a in alarms] == [("car-3", "ACTIVE_UNACK")]
    rules = client.get("/api/rules", headers=security).json()
    assert {r["id"] for r in rules} >= {"plant-faults", "cars-leave-district"}
