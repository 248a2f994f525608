"""The canteen over HTTP: a counter terminal's API key serves orders, refusals carry their
codes in both languages' catalogue, the OpenMensa feed is read with a feed token (and not
without one), and a dish's photo is re-encoded."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from PIL import Image

from hub.identity import Role
from hub.runtime import Hub

SH = ZoneInfo("Asia/Shanghai")


def test_a_counter_terminal_serves_an_order_once_and_apps_read_the_feed(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    cook = {"Authorization": f"Bearer {tokens[Role.CANTEEN]}"}
    staff = {"Authorization": f"Bearer {tokens[Role.STAFF]}"}
    day = (datetime.now(SH) + timedelta(days=2)).date()
    published = client.post(
        "/api/canteens/main/menu",
        json={
            "items": [
                {
                    "day": day.isoformat(),
                    "meal": "dinner",
                    "name": "饺子",
                    "category": "noodles",
                    "price": 12.5,
                    "portions": 50,
                    "allergens": ["小麦"],
                }
            ]
        },
        headers=cook,
    )
    assert published.status_code == 201, published.text
    (dumplings,) = published.json()
    assert (
        client.post(
            "/api/canteens/main/menu",
            json={"items": [{"day": day.isoformat(), "meal": "dinner", "name": "x", "price": -1}]},
            headers=cook,
        ).json()["code"]
        == "canteen.price"
    )
    assert (
        client.post("/api/canteens/main/menu", json={"items": []}, headers=staff).status_code == 403
    )

    ordered = client.put(
        f"/api/canteens/main/orders/{day}/dinner",
        json={"lines": [{"item_id": dumplings["id"], "portions": 2}]},
        headers=staff,
    )
    assert ordered.status_code == 200, ordered.text
    code = ordered.json()["code"]
    mine = client.get("/api/canteen/orders/mine", headers=staff).json()
    assert mine[0]["qr"].startswith("data:image/svg+xml;base64,")

    # the counter's scanner terminal: an API key of the canteen role, at dinner time
    key = hub.ctx.identity.create_api_key("counter-1", Role.CANTEEN, actor="test")[0]
    terminal = {"X-API-Key": key}
    real = hub.ctx.canteen.orders.clock
    dinner = datetime.combine(day, datetime.min.time(), SH).replace(hour=17, minute=45)
    hub.ctx.canteen.orders.clock = lambda: dinner
    try:
        served = client.post(
            "/api/canteens/main/pickups", json={"code": f"DYCANTEEN:{code}"}, headers=terminal
        )
        assert served.status_code == 200, served.text
        assert served.json()["served_by"] == "key:counter-1"
        again = client.post("/api/canteens/main/pickups", json={"code": code}, headers=terminal)
        assert (again.status_code, again.json()["code"]) == (409, "canteen.served")
        assert again.json()["params"]["by"] == "key:counter-1"
        unknown = client.post(
            "/api/canteens/main/pickups", json={"code": "ZZZZZZZZZZ"}, headers=terminal
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "canteen.unknown_code")
    finally:
        hub.ctx.canteen.orders.clock = real

    # OpenMensa: with the person's feed token in the URL, not without
    feed = client.get("/api/calendars/token", headers=staff).json()["token"]
    assert client.get("/api/canteens/main/openmensa.xml").status_code in (401, 422)
    xml = client.get(f"/api/canteens/main/openmensa.xml?token={feed}")
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/xml")
    assert "<name>饺子</name>" in xml.text  # two days ahead: this week or the next
    assert "<note>含小麦</note>" in xml.text


def test_a_dishs_photo_is_an_image_and_only_that(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    cook = {"Authorization": f"Bearer {tokens[Role.CANTEEN]}"}
    day = (datetime.now(SH) + timedelta(days=3)).date()
    (item,) = client.post(
        "/api/canteens/main/menu",
        json={
            "items": [{"day": day.isoformat(), "meal": "lunch", "name": "糖醋排骨", "price": 18}]
        },
        headers=cook,
    ).json()
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(png, "PNG")
    data = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    put = client.put(f"/api/canteen/items/{item['id']}/photo", json={"photo": data}, headers=cook)
    assert put.status_code == 200, put.text
    assert put.json()["photo"] is True
    got = client.get(f"/api/canteen/items/{item['id']}/photo", headers=cook)
    assert got.headers["content-type"] == "image/jpeg"
    not_image = "data:image/png;base64," + base64.b64encode(b"<script>").decode()
    refused = client.put(
        f"/api/canteen/items/{item['id']}/photo", json={"photo": not_image}, headers=cook
    )
    assert refused.status_code == 422
