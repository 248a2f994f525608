"""Suggestions and complaints over HTTP: an Open311 GeoReport v2 client (an API key with the
`reporter` role, sent as Open311 clients send it) lists the services, files a request in a
form and reads it back in JSON and XML; a person's token works too; what it may read is the
board and its own; bad requests get Open311's error list. An anonymous writer follows an item
with the code alone, no sign-in, and guessing at codes is throttled like signing in."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient
from PIL import Image

from hub.identity import Role
from hub.runtime import Hub
from tests.hub.api.conftest import auth

V2 = "/api/open311/v2"


def reporter_key(hub: Hub, name: str) -> str:
    return hub.ctx.identity.create_api_key(name, Role.REPORTER, actor="test")[0]


def test_an_open311_client_lists_services_files_a_request_and_reads_it_back(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    key = reporter_key(hub, "fixmystreet")
    assert client.get(f"{V2}/services.json").status_code == 401
    services = client.get(f"{V2}/services.json", params={"api_key": key})
    assert services.status_code == 200
    codes = {s["service_code"]: s for s in services.json()}
    assert {"canteen", "cleaning", "repairs", "security", "meetings", "vehicles", "other"} <= set(
        codes
    )
    assert codes["canteen"]["service_name"] == "食堂餐饮"
    assert codes["canteen"]["metadata"] is True
    xml = client.get(f"{V2}/services.xml", params={"api_key": key})
    assert xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services"
    assert {s.findtext("service_code") for s in root.iter("service")} == set(codes)
    definition = client.get(f"{V2}/services/canteen.json", params={"api_key": key}).json()
    assert [a["code"] for a in definition["attributes"]] == ["kind"]

    photo = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(photo, "JPEG")
    posted = client.post(
        f"{V2}/requests.json",
        data={
            "api_key": key,
            "service_code": "cleaning",
            "description": "3楼东侧卫生间地面积水\n已经两天了",
            "lat": "30.2601",
            "long": "120.1310",
            "email": "someone@example.org",  # accepted, not kept
            "first_name": "张",
            "attribute[kind]": "complaint",
        },
        files={"media": ("floor.jpg", photo.getvalue(), "image/jpeg")},
    )
    assert posted.status_code == 201, posted.text
    (answer,) = posted.json()
    rid = answer["service_request_id"]
    assert answer["service_notice"].startswith("answer due by ")

    one = client.get(f"{V2}/requests/{rid}.json", params={"api_key": key})
    assert one.status_code == 200
    (request,) = one.json()
    assert request["status"] == "open"
    assert request["service_code"] == "cleaning"
    assert request["description"] == "3楼东侧卫生间地面积水\n已经两天了"
    assert (request["lat"], request["long"]) == (30.2601, 120.131)
    assert request["media_url"] == f"/api/feedback/{rid}/photos/0"
    assert "someone@example.org" not in one.text
    item = hub.ctx.feedback.view(
        hub.ctx.identity.principal_from_token(tokens[Role.ADMIN]), int(rid)
    )
    assert (item["title"], item["source"], item["photos"]) == (
        "3楼东侧卫生间地面积水",
        "open311",
        1,
    )

    listed = ET.fromstring(
        client.get(f"{V2}/requests.xml", params={"api_key": key, "status": "open"}).content
    )
    assert [r.findtext("service_request_id") for r in listed.iter("request")] == [rid]

    # a dispatcher answers it; the client reads the answer as the status notes
    dispatcher = auth(tokens[Role.DISPATCHER])
    r = client.post(
        f"/api/feedback/{rid}/act",
        json={"action": "close", "note": "已清理并修好漏水的水管"},
        headers=dispatcher,
    )
    assert r.status_code == 200, r.text
    (closed,) = client.get(f"{V2}/requests/{rid}.json", params={"api_key": key}).json()
    assert (closed["status"], closed["status_notes"]) == ("closed", "已清理并修好漏水的水管")

    # someone else's request is not for another client to read (the board is)
    staff = auth(tokens[Role.STAFF])
    assert client.get(f"{V2}/requests/{rid}.json", headers=staff).status_code == 404
    mine = client.post(
        f"{V2}/requests.json",
        data={"service_code": "meetings", "description": "会议室投影仪偏色", "address_id": "r-101"},
        headers=staff,
    )
    assert mine.status_code == 201, mine.text
    (own,) = client.get(
        f"{V2}/requests/{mine.json()[0]['service_request_id']}.json", headers=staff
    ).json()
    assert own["address"] == "第一会议室"


def test_bad_open311_requests_get_its_error_list_and_nothing_is_filed(
    hub: Hub, client: TestClient
) -> None:
    key = reporter_key(hub, "dashboard")
    before = len(hub.ctx.feedback.search(hub.ctx.identity.principal_from_api_key(key)))
    for data, word in (
        ({"service_code": "parking", "description": "x", "lat": "30", "long": "120"}, "service"),
        ({"service_code": "cleaning", "description": "x"}, "where"),
        ({"service_code": "cleaning", "description": "x", "lat": "300", "long": "1"}, "earth"),
        ({"service_code": "cleaning", "description": "x", "lat": "NaN", "long": "1"}, "number"),
        ({"service_code": "cleaning", "description": "", "lat": "30", "long": "120"}, "about"),
        ({"service_code": "cleaning", "description": "x", "address_id": "nowhere"}, "place"),
    ):
        r = client.post(f"{V2}/requests.json", data={"api_key": key, **data})
        assert r.status_code == 400, (data, r.text)
        (error,) = r.json()
        assert error["code"] == 400
        assert word in error["description"], (data, error)
    r = client.post(f"{V2}/requests.xml", data={"api_key": key, "service_code": "x"})
    assert ET.fromstring(r.content).find("error/code").text == "400"  # type: ignore[union-attr]
    assert client.get(f"{V2}/requests/abc.json", params={"api_key": key}).status_code == 400
    after = len(hub.ctx.feedback.search(hub.ctx.identity.principal_from_api_key(key)))
    assert after == before
    wrong = client.get(f"{V2}/services.json", params={"api_key": "dyh_wrong"})
    assert wrong.status_code == 401


def test_an_anonymous_writer_follows_up_by_code_alone_and_guessing_is_throttled(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    staff = auth(tokens[Role.STAFF])
    r = client.post(
        "/api/feedback",
        json={
            "kind": "complaint",
            "category": "security",
            "title": "夜间东门无人值守",
            "body": "周三晚 22 点东门岗亭无人。",
            "anonymous": True,
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    code, item_id = r.json()["code"], r.json()["id"]
    assert r.json()["writer"] is None
    mine = client.get("/api/feedback/mine", headers=staff).json()
    assert item_id not in [i["id"] for i in mine]
    assert client.get(f"/api/feedback/{item_id}", headers=staff).status_code == 404

    # the code alone, no sign-in
    seen = client.post("/api/feedback/followup", json={"code": code})
    assert seen.status_code == 200
    assert seen.json()["title"] == "夜间东门无人值守"
    added = client.post("/api/feedback/followup/add", json={"code": code, "text": "周四也是"})
    assert added.json()["log"][-1]["note"] == "周四也是"
    assert added.json()["log"][-1]["actor"] == "writer"
    assert (
        client.post("/api/feedback/followup/rate", json={"code": code, "rating": 5}).status_code
        == 409
    )

    # guessing: wrong codes count against the address, and then it waits
    statuses = [
        client.post("/api/feedback/followup", json={"code": f"AAAA-BBBB-CCCC-{i:04d}"}).status_code
        for i in range(30)
    ]
    assert statuses[0] == 404
    assert 429 in statuses
    refused = client.post("/api/feedback/followup", json={"code": code})
    assert refused.status_code == 429  # even the right one, until the wait is over
    assert int(refused.headers["retry-after"]) >= 1
    hub.ctx.identity.throttle.lift("cred:testclient")
    assert client.post("/api/feedback/followup", json={"code": code}).status_code == 200


def test_machines_other_than_reporting_apps_are_refused(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    display = auth(tokens[Role.DISPLAY])
    assert client.get("/api/feedback/board", headers=display).status_code == 403
    assert client.get(f"{V2}/services.json", headers=display).status_code == 403
