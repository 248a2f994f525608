"""Repair tickets through the running hub: a fault in the simulated air handler (Modbus)
becomes one ticket for the HVAC technician however often it flaps; staff reports reach the
right technician; the figures, exports and QR label sheet show it."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from PIL import Image

from hub.demo.runner import demo_simulators, free_udp_port, with_free_ports
from hub.identity import Role
from hub.runtime import Hub, adapter_components
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.waiting import wait_for

PASSWORD = "ticket test password"
USERS = {
    "tech-hvac": Role.TECHNICIAN,  # site person t-hvac, skill hvac
    "tech-elec": Role.TECHNICIAN,  # site person t-elec, skills electrical, plumbing, general
    "dispatcher": Role.DISPATCHER,  # the facility manager
    "staff": Role.STAFF,
    "other-staff": Role.STAFF,
}
# A small PNG, as a phone's photo stands in (a real image: the hub decodes what it keeps)
_png = io.BytesIO()
Image.new("RGB", (8, 8), "red").save(_png, "PNG")
PNG = base64.b64encode(_png.getvalue()).decode()


def fast_air_handler(site: Site) -> Site:
    """The demo site with the Modbus air handler polled every 0.2 s (flaps show quickly)."""
    devices = [
        d.model_copy(update={"connection": {**d.connection, "interval_s": 0.2}})
        if d.id == "ahu-b2"
        else d
        for d in site.devices
    ]
    return site.model_copy(update={"devices": devices})


@pytest.fixture(scope="module")
def hub_client(
    tmp_path_factory: pytest.TempPathFactory, demo_site: Site
) -> Iterator[tuple[Hub, TestClient]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("tickets"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        bacnet={"address": f"127.0.0.1/8:{free_udp_port()}"},
    )
    site = fast_air_handler(with_free_ports(demo_site))
    hub = Hub(settings, site, factories=(demo_simulators(), adapter_components))
    with TestClient(hub.app()) as client:
        for name, role in USERS.items():
            unit = "u-office" if name == "staff" else "u-logistics"
            hub.ctx.identity.ensure_user(name, PASSWORD, [role], work_unit=unit)
        yield hub, client


def auth(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_flapping_air_handler_fault_is_one_ticket_resolved_rated_and_counted(
    hub_client: tuple[Hub, TestClient],
) -> None:
    hub, client = hub_client
    tech, boss = auth(client, "tech-hvac"), auth(client, "dispatcher")
    sim = next(c for c in hub.components if c.name == "modbus_simulator")
    modbus = hub.ctx.components["modbus"]

    def ahu_tickets() -> list[dict[str, Any]]:
        r = client.get("/api/tickets", headers=boss)
        assert r.status_code == 200, r.text
        return [t for t in r.json() if t["asset_id"] == "ahu-b2"]

    for _ in range(20):  # the fault comes and goes 20 times
        sim.set_fault("ahu-b2", "bit")
        wait_for(lambda: "ahu-b2" in modbus()["faults"])
        sim.clear_fault("ahu-b2")
        wait_for(lambda: "ahu-b2" not in modbus()["faults"])
    wait_for(lambda: ahu_tickets() and ahu_tickets()[0]["occurrences"] == 20)
    tickets = ahu_tickets()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert (ticket["source"], ticket["category"], ticket["skill"]) == ("alarm", "hvac", "hvac")
    assert (ticket["status"], ticket["assignee"]) == ("assigned", "t-hvac")
    tid = ticket["id"]

    # the technician sees it on their list; the electrician may not see it, nor work it
    mine = client.get("/api/tickets?mine=true", headers=tech).json()
    assert [t["id"] for t in mine] == [tid]
    assert (
        client.post(f"/api/tickets/{tid}/accept", headers=auth(client, "tech-elec")).status_code
        == 404
    )
    assert (
        client.post(f"/api/tickets/{tid}/rate", json={"rating": 5}, headers=boss).status_code == 409
    )

    for step in ("accept", "start"):
        r = client.post(f"/api/tickets/{tid}/{step}", headers=tech)
        assert r.status_code == 200, r.text
    r = client.post(f"/api/tickets/{tid}/hold", json={"reason": "等风机皮带"}, headers=tech)
    assert r.json()["status"] == "on_hold"
    r = client.post(
        f"/api/tickets/{tid}/resolve",
        json={
            "notes": "更换风机皮带，复位故障",
            "parts": [{"name": "风机皮带 B-52", "quantity": 1}],
        },
        headers=tech,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    assert (
        client.post(f"/api/tickets/{tid}/resolve", json={"notes": "x"}, headers=tech).status_code
        == 409
    )

    r = client.post(f"/api/tickets/{tid}/rate", json={"rating": 5, "comment": "很快"}, headers=boss)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["rating"]) == ("closed", 5)
    again = client.post(f"/api/tickets/{tid}/rate", json={"rating": 4}, headers=boss)
    assert again.status_code == 409

    history = [
        h["action"] for h in client.get(f"/api/tickets/{tid}", headers=boss).json()["history"]
    ]
    assert history.count("occurred") == 19
    assert history[:2] == ["opened", "assigned"]
    assert history[-4:] == ["started", "held", "resolved", "rated"]

    figures = client.get("/api/tickets/figures", headers=boss).json()
    hvac = next(r for r in figures["rows"] if r["group"] == "category" and r["key"] == "hvac")
    assert (hvac["tickets"], hvac["resolved"], hvac["rated"], hvac["rating_mean"]) == (1, 1, 1, 5.0)
    assert hvac["response_sla_pct"] == 100.0
    assert hvac["ack_min_mean"] is not None
    by_tech = next(
        r for r in figures["rows"] if r["group"] == "technician" and r["key"] == "t-hvac"
    )
    assert by_tech["satisfied_pct"] == 100.0
    csv_text = client.get("/api/tickets/figures?format=csv", headers=boss).text
    assert "category,hvac,1,1,0" in csv_text
    xlsx = client.get("/api/tickets/figures?format=xlsx", headers=boss).content
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["group", "key", "tickets"]
    assert ["category", "hvac", 1] in [r[:3] for r in rows]
    assert client.get("/api/tickets/figures", headers=tech).status_code == 403


def test_a_staff_report_from_an_asset_label_reaches_the_right_technician(
    hub_client: tuple[Hub, TestClient],
) -> None:
    _hub, client = hub_client
    staff = auth(client, "staff")
    body = {
        "asset_id": "light-b1-3f-corridor",
        "description": "走廊灯不亮",
        "photo": f"data:image/png;base64,{PNG}",
        "source": "qr",
    }
    r = client.post("/api/tickets", json=body, headers=staff)
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["category"], t["assignee"], t["status"]) == ("electrical", "t-elec", "assigned")
    assert t["reporter_unit"] == "u-office"
    # a double tap is merged, not a second ticket
    again = client.post("/api/tickets", json=body, headers=staff)
    assert (again.status_code, again.json()["id"], again.json()["merged"]) == (200, t["id"], True)
    photo = client.get(t["photo"], headers=staff)
    assert photo.status_code == 200
    assert photo.content.startswith(b"\xff\xd8\xff")  # decoded and kept as a clean JPEG
    assert photo.headers["x-content-type-options"] == "nosniff"
    # others' reports are not theirs to see or rate
    other = auth(client, "other-staff")
    assert client.get(f"/api/tickets/{t['id']}", headers=other).status_code == 404
    elec = auth(client, "tech-elec")
    for step in ("accept", "start"):
        assert client.post(f"/api/tickets/{t['id']}/{step}", headers=elec).status_code == 200
    r = client.post(f"/api/tickets/{t['id']}/resolve", json={"notes": "换灯管"}, headers=elec)
    assert r.status_code == 200
    assert (
        client.post(f"/api/tickets/{t['id']}/rate", json={"rating": 4}, headers=other).status_code
        == 404
    )
    r = client.post(f"/api/tickets/{t['id']}/reopen", json={"reason": "还是闪"}, headers=staff)
    assert (r.json()["status"], r.json()["assignee"], r.json()["reopened"]) == (
        "assigned",
        "t-elec",
        1,
    )


def test_reports_without_an_asset_need_a_place_and_a_known_category(
    hub_client: tuple[Hub, TestClient],
) -> None:
    _, client = hub_client
    staff = auth(client, "staff")
    bad = [
        ({"description": "漏水", "category": "plumbing"}, 422),  # where?
        ({"description": "漏水", "category": "nuclear", "location": "B2"}, 422),
        ({"description": "漏水", "asset_id": "no-such-asset"}, 404),
        ({"description": "坏了", "asset_id": "wc-b2-2f", "photo": "bm90IGFuIGltYWdl"}, 422),
    ]
    for body, status in bad:
        r = client.post("/api/tickets", json=body, headers=staff)
        assert r.status_code == status, (body, r.text)
    r = client.post(
        "/api/tickets",
        json={"description": "水龙头漏水", "category": "plumbing", "location": "2号楼2层"},
        headers=staff,
    )
    assert r.status_code == 201
    assert r.json()["assignee"] == "t-elec"  # plumbing is one of the electrician's skills


def test_asset_qr_labels_render_as_a_pdf(hub_client: tuple[Hub, TestClient]) -> None:
    _, client = hub_client
    r = client.get("/api/assets/labels.pdf", headers=auth(client, "dispatcher"))
    assert r.status_code == 200
    assert r.content.startswith(b"%PDF")
    assert client.get("/api/assets/labels.pdf", headers=auth(client, "staff")).status_code == 403
    page = client.get("/report.html")
    assert page.status_code == 200
    assert "报修" in page.text
