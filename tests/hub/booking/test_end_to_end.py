"""Booking end to end through the API, with the demo's simulated BACnet room controller and
its HVAC commands, and a car driven by the location simulator reporting over OsmAnd:

- a recurring meeting is booked; the room controller goes to comfort before it (read back
  from the simulated BACnet device); the first meeting is checked in with the door's
  rotating code; the second is a no-show: released, and the room set back to economy;
- a car is requested, approved by the unit's approver, dispatched, driven, returned: its GPS
  kilometres are within a few percent of the simulated route and the month's settlement
  lists it.

The room bookings run on a shifted clock (so the test meets the room's opening hours at any
time of day); the BACnet device, the ingest and the car run on real time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from adapters.location_sim.simulator import Walker
from hub.demo.runner import demo_simulators, free_udp_port, with_free_ports
from hub.identity import Role
from hub.runtime import Hub, adapter_components
from hub.services.booking.trips import metres
from hub.settings import Settings
from hub.site import Site
from hub.storage.models import AuditEntry
from tests.conftest import DEMO_SITE
from tests.support.health import full_health
from tests.support.waiting import wait_for

PASSWORD = "booking test password"
SH = ZoneInfo("Asia/Shanghai")


class ShiftedClock:
    """Real time moved to a fixed local time of day, and moved on by the test."""

    def __init__(self, local: datetime) -> None:
        self.offset = local - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, local: datetime) -> None:
        self.offset = local - datetime.now(UTC)


@pytest.fixture(scope="module")
def compound(
    tmp_path_factory: pytest.TempPathFactory, demo_site: Site
) -> Iterator[tuple[Hub, TestClient]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("booking"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        bacnet={"address": f"127.0.0.1/8:{free_udp_port()}"},
        mqtt={"ingest": False},
        booking={"sweep_s": 1, "release_after_min": 15},
    )
    hub = Hub(
        settings, with_free_ports(demo_site), factories=(demo_simulators(), adapter_components)
    )
    with TestClient(hub.app()) as client:
        for name, unit, roles in (
            ("staff", "u-office", [Role.STAFF]),
            ("leader", "u-office", [Role.STAFF]),
            ("colleague", "u-office", [Role.STAFF]),
            ("dispatcher", "u-logistics", [Role.DISPATCHER]),
            ("driver1", "u-logistics", [Role.STAFF]),
            ("door-101", "u-logistics", [Role.DISPLAY]),
        ):
            hub.ctx.identity.ensure_user(name, PASSWORD, roles, work_unit=unit)
        yield hub, client


def auth(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_recurring_meeting_heats_checks_in_and_a_no_show_is_released_and_set_back(
    compound: tuple[Hub, TestClient],
) -> None:
    hub, client = compound
    assert hub.ctx.rooms is not None
    today = datetime.now(SH).date() + timedelta(days=1)
    clock = ShiftedClock(datetime.combine(today, datetime.min.time(), SH).replace(hour=9))
    hub.ctx.rooms.clock = clock
    sim = next(c for c in hub.components if c.name == "bacnet_simulator")
    staff = auth(client, "staff")
    first = datetime.combine(today, datetime.min.time(), SH).replace(hour=9, minute=20)
    r = client.post(
        "/api/bookings",
        json={
            "room_id": "r-101",
            "start": first.isoformat(),
            "end": (first + timedelta(minutes=40)).isoformat(),
            "title": "每日碰头会",
            "attendees": 8,
            "rrule": "FREQ=DAILY;COUNT=3",
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    series = r.json()
    meetings = [b["id"] for b in series["bookings"]]
    assert len(meetings) == 3
    # taken: the same room at 09:50 (inside the meeting and its buffer) is refused
    clash = client.post(
        "/api/bookings",
        json={
            "room_id": "r-101",
            "start": (first + timedelta(minutes=30)).isoformat(),
            "end": (first + timedelta(minutes=90)).isoformat(),
            "title": "插一个",
        },
        headers=auth(client, "colleague"),
    )
    assert clash.status_code == 409
    assert "taken" in clash.json()["detail"]
    late = client.post(
        "/api/bookings",
        json={
            "room_id": "r-101",
            "start": (first.replace(hour=21, minute=30)).isoformat(),
            "end": (first.replace(hour=22, minute=30)).isoformat(),
            "title": "太晚了",
        },
        headers=staff,
    )
    assert late.status_code == 422  # the room closes at 22:00
    assert "07:00-22:00" in late.json()["detail"]

    # 09:00, 20 minutes ahead: the room controller goes to comfort (2), read back from BACnet
    wait_for(
        lambda: (
            client.get(f"/api/bookings/{meetings[0]}", headers=staff).json()["hvac"] == "comfort"
        ),
        "comfort",
    )
    assert sim.value("rc-101", "mode") == 2  # type: ignore[attr-defined]

    # 09:15: the door shows a code; an old one (a photo of the door) is refused
    clock.set(first - timedelta(minutes=5))
    # the code is for the door's display: staff cannot read it and check in from their desk
    assert client.get("/api/rooms/r-101/door", headers=staff).status_code == 403
    door = client.get("/api/rooms/r-101/door", headers=auth(client, "door-101")).json()
    # five minutes early the room is not "in use" yet: the meeting is starting, check-in open
    assert door["now"] is None
    assert door["soon"]["id"] == meetings[0]
    assert door["qr"].startswith("data:image/svg+xml;base64,")
    assert f"code={door['code']}" in door["checkin_url"]
    old = hub.ctx.checkin.code("r-101", clock() - timedelta(minutes=2))  # type: ignore[union-attr]
    assert (
        client.post("/api/rooms/r-101/checkin", json={"code": old}, headers=staff).status_code
        == 403
    )
    signed = client.post("/api/rooms/r-101/checkin", json={"code": door["code"]}, headers=staff)
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "checked_in"
    other = client.post(
        "/api/rooms/r-101/checkin", json={"code": door["code"]}, headers=auth(client, "colleague")
    )
    assert other.json()["signed_in"] == 2

    # the next day nobody comes: at 09:36 it is released and the room set back to economy (3)
    clock.set(first + timedelta(days=1) - timedelta(minutes=10))
    wait_for(
        lambda: (
            client.get(f"/api/bookings/{meetings[1]}", headers=staff).json()["hvac"] == "comfort"
        ),
        "comfort again",
    )
    assert sim.value("rc-101", "mode") == 2  # type: ignore[attr-defined]
    clock.set(first + timedelta(days=1, minutes=16))
    wait_for(
        lambda: (
            client.get(f"/api/bookings/{meetings[1]}", headers=staff).json()["status"] == "released"
        ),
        "release",
    )
    wait_for(
        lambda: (
            client.get(f"/api/bookings/{meetings[1]}", headers=staff).json()["hvac"] == "setback"
        ),
        "setback",
    )
    assert sim.value("rc-101", "mode") == 3  # type: ignore[attr-defined]
    health = full_health(client)["components"]["booking_jobs"]
    assert health["status"] == "ok"
    assert health["released"] >= 1
    # every command went through the audited, read-back command path
    with hub.ctx.db.session() as s:
        q = select(AuditEntry).where(
            AuditEntry.actor == "booking", AuditEntry.action == "command.write"
        )
        writes = [
            (a.target, a.detail["value"], a.detail["ok"])
            for a in s.scalars(q.order_by(AuditEntry.id))
        ]
    assert writes == [("rc-101.mode", 2, True), ("rc-101.mode", 2, True), ("rc-101.mode", 3, True)]

    # the report: one meeting held with two people, one no-show
    report = client.get(
        "/api/bookings/report",
        params={
            "start": (first - timedelta(days=1)).isoformat(),
            "end": (first + timedelta(days=3)).isoformat(),
        },
        headers=auth(client, "dispatcher"),
    ).json()
    (office,) = report["units"]
    assert (office["held"], office["no_shows"], office["signed_in"]) == (1, 1, 2)
    csv = client.get(
        "/api/bookings/report",
        params={"start": (first - timedelta(days=1)).isoformat(), "format": "csv"},
        headers=auth(client, "dispatcher"),
    )
    assert csv.headers["content-type"].startswith("text/csv")

    # the calendar feed: the series in the organiser's calendar app, by a read-only token
    feed = client.get("/api/calendars/token", headers=staff).json()
    ics = client.get("/api/calendars/me.ics", params={"token": feed["token"]})
    assert ics.status_code == 200
    assert ics.text.count("BEGIN:VEVENT") == 2  # the released meeting left the calendar
    assert "每日碰头会" in ics.text
    assert (
        client.get(
            "/api/bookings", headers={"Authorization": f"Bearer {feed['token']}"}
        ).status_code
        == 401
    )


def test_a_car_is_requested_approved_dispatched_driven_returned_and_settled(
    compound: tuple[Hub, TestClient],
) -> None:
    hub, client = compound
    staff, leader, dispatcher, driver = (
        auth(client, u) for u in ("staff", "leader", "dispatcher", "driver1")
    )
    now = datetime.now(UTC).replace(microsecond=0)
    r = client.post(
        "/api/vehicle-requests",
        json={
            "purpose": "现场调研",
            "destination": "城西新区",
            "passengers": 3,
            "start": (now + timedelta(minutes=1)).isoformat(),
            "end": (now + timedelta(hours=2)).isoformat(),
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["status"] == "pending"
    assert (
        client.post(f"/api/vehicle-requests/{rid}/approve", json={}, headers=staff).status_code
        == 403
    )
    assert (
        client.post(f"/api/vehicle-requests/{rid}/approve", json={}, headers=leader).json()[
            "status"
        ]
        == "approved"
    )
    options = client.get(f"/api/vehicle-requests/{rid}/options", headers=dispatcher).json()
    car = options["vehicles"][0]["id"]
    d = client.post(
        f"/api/vehicle-requests/{rid}/dispatch",
        json={"vehicle_id": car, "driver_id": "d1"},
        headers=dispatcher,
    )
    assert d.status_code == 200, d.text
    tracker = next(v.tracker for v in hub.site.vehicles if v.id == car)

    # the simulator drives a loop out in the district for 8 minutes, reporting every 5 s
    departed = now - timedelta(minutes=10)
    dep = client.post(
        f"/api/vehicle-requests/{rid}/depart",
        json={"odometer_km": 20_000, "at": departed.isoformat()},
        headers=driver,
    )
    assert dep.status_code == 200, dep.text
    c = hub.site.site.center
    walker = Walker(
        tracker or car,
        [
            (c.lat, c.lon),
            (c.lat + 0.012, c.lon),
            (c.lat + 0.012, c.lon + 0.015),
            (c.lat, c.lon + 0.015),
        ],
        12.0,
        "car",
    )
    key = hub.ctx.identity.create_api_key(
        "test-tracker", Role.DEVICE, actor="test", trackers=[tracker]
    )[0]
    sent = []
    for i in range(97):
        lat, lon, _, _ = walker.at()
        ts = departed + timedelta(minutes=1, seconds=5 * i)
        r = client.get(
            "/api/osmand",
            params={
                "key": key,
                "id": tracker,
                "lat": lat,
                "lon": lon,
                "timestamp": int(ts.timestamp()),
            },
        )
        assert r.status_code == 200, r.text
        sent.append((lat, lon))
        walker.step(5.0)
    driven_km = (len(sent) - 1) * 5.0 * 12.0 / 1000  # the simulated route: 8 min at 12 m/s
    sampled_km = sum(metres(*a, *b) for a, b in itertools.pairwise(sent)) / 1000
    assert sampled_km < driven_km  # fixes every 5 s cut the loop's corners a little
    wait_for(
        lambda: (
            len(
                client.get(
                    f"/api/positions/{car}/track",
                    params={"start": departed.isoformat(), "end": now.isoformat()},
                    headers=dispatcher,
                ).json()
            )
            == 97
        ),
        "the fixes in the telemetry store",
    )
    back = client.post(
        f"/api/vehicle-requests/{rid}/return",
        json={"odometer_km": 20_000 + driven_km * 1.02, "extras": {"parking": 10}},
        headers=driver,
    )
    assert back.status_code == 200, back.text
    trip = back.json()
    print(f"simulated route {driven_km:.3f} km, GPS {trip['gps_km']:.3f} km")
    assert trip["gps_km"] == pytest.approx(driven_km, rel=0.03)
    assert not trip["trip"]["flagged"]
    vehicle = next(v for v in hub.site.vehicles if v.id == car)
    assert trip["cost"] == pytest.approx(
        driven_km * 1.02 * vehicle.rate_per_km + vehicle.fixed_fee + 10, rel=1e-3
    )

    month = datetime.now(SH).strftime("%Y-%m")
    settlement = client.get(f"/api/vehicle-settlements/{month}", headers=dispatcher).json()
    (row,) = [t for t in settlement["trips"] if t["request"] == rid]
    assert row["unit"] == "u-office"
    assert row["gps_km"] == trip["gps_km"]
    xlsx = client.get(f"/api/vehicle-settlements/{month}?format=xlsx", headers=dispatcher)
    assert xlsx.content[:2] == b"PK"  # a zip: the workbook
    assert client.get(f"/api/vehicle-settlements/{month}", headers=staff).status_code == 403
