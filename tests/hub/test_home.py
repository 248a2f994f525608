"""The front door's answer for each kind of person: their meetings, car requests (a driver's
trips), visitors expected, repairs; what waits for their approval; their queues."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE

PASSWORD = "home test password"
ACCOUNTS = {
    "staff": ([Role.STAFF], "u-office"),
    "leader": ([Role.STAFF], "u-office"),
    "finance": ([Role.STAFF], "u-finance"),
    "dispatcher": ([Role.DISPATCHER], "u-logistics"),
    "driver1": ([Role.STAFF], "u-logistics"),
    "tech-hvac": ([Role.TECHNICIAN], "u-logistics"),
    "security": ([Role.SECURITY], "u-security"),
    "wall": ([Role.DISPLAY], "u-security"),
}


def test_each_account_sees_what_is_theirs_and_what_waits_for_them(
    tmp_path: Path, quiet_site: Site
) -> None:
    settings = Settings(
        data_dir=tmp_path, secret_key="k" * 48, site_file=DEMO_SITE, mqtt={"ingest": False}
    )
    hub = Hub(settings, quiet_site, factories=())
    tz = ZoneInfo(quiet_site.site.timezone)
    tomorrow = (datetime.now(tz) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    with TestClient(hub.app()) as client:
        for name, (roles, unit) in ACCOUNTS.items():
            hub.ctx.identity.ensure_user(name, PASSWORD, roles, work_unit=unit)

        def auth(user: str) -> dict[str, str]:
            r = client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        h = {name: auth(name) for name in ACCOUNTS}

        def post(user: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            r = client.post(path, json=body, headers=h[user])
            assert r.status_code in (200, 201), r.text
            return r.json()

        def home(user: str) -> dict[str, Any]:
            r = client.get("/api/home", headers=h[user])
            assert r.status_code == 200, r.text
            return r.json()

        slot = {"start": tomorrow.isoformat(), "end": (tomorrow + timedelta(hours=1)).isoformat()}
        meeting = post("staff", "/api/bookings", {"room_id": "r-101", "title": "周例会", **slot})
        borrowed = post(
            "finance", "/api/bookings", {"room_id": "r-501", "title": "财政局借用", **slot}
        )
        car = post(
            "staff",
            "/api/vehicle-requests",
            {"purpose": "调研", "destination": "区政务中心", "passengers": 2, **slot},
        )
        repair = post(
            "staff",
            "/api/tickets",
            {"description": "空调不制冷", "category": "hvac", "location": "1号楼101"},
        )

        mine = home("staff")
        kinds = {(i["kind"], i["id"]) for i in mine["items"]}
        assert ("meeting", str(meeting["id"])) in kinds
        assert ("car", str(car["id"])) in kinds
        assert ("repair", str(repair["id"])) in kinds
        assert mine["waiting"] == []
        assert mine["queues"] == {}

        leader = home("leader")  # u-office's approver: the car and the other unit's booking
        waiting = {i["id"] for i in leader["waiting"]}
        assert waiting == {f"room:{borrowed['id']}", f"car:{car['id']}"}
        assert all(i["action"] == "approve" for i in leader["waiting"])
        post("leader", f"/api/vehicle-requests/{car['id']}/approve", {})
        assert (
            home("leader")["waiting"] == [{**leader["waiting"][0]}]
            or len(home("leader")["waiting"]) == 1
        )

        assert home("dispatcher")["queues"]["cars_to_dispatch"] == 1
        post(
            "dispatcher",
            f"/api/vehicle-requests/{car['id']}/dispatch",
            {"vehicle_id": "car-1", "driver_id": "d1"},
        )
        trips = [i for i in home("driver1")["items"] if i["kind"] == "trip"]
        assert [t["id"] for t in trips] == [str(car["id"])]  # the driver sees the trip to drive
        assert home("staff")["unread"] >= 2  # approved, dispatched: in the inbox
        assert "my_tickets" in home("tech-hvac")["queues"]
        assert "gate_reviews" in home("security")["queues"]
        assert client.get("/api/home", headers=h["wall"]).status_code == 403
