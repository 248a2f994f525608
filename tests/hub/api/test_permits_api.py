"""Cards and permits over HTTP, against the gate's decision API: a parking permit applied
for with its document, approved by the unit's approver and by security (nobody else), issued;
its plate opens the gate ("staff permit") until it is revoked, at once. The phone credential:
a code passes the gate once (anti-passback kept), is refused at a second gate and once stale,
and a suspended person's codes are refused."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from PIL import Image

from hub.identity import Role
from hub.runtime import Hub
from tests.hub.api.conftest import PASSWORD, auth


def photo() -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def token_of(client: TestClient, name: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": name, "password": PASSWORD})
    return auth(r.json()["access_token"])


def test_a_parking_permit_opens_the_gate_while_valid_and_not_after_revocation(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    ids = hub.ctx.identity
    ids.ensure_user("leader", PASSWORD, [Role.STAFF], work_unit="u-office")  # u-office approver
    ids.ensure_user("driver-li", PASSWORD, [Role.STAFF], work_unit="u-office")
    li, leader = token_of(client, "driver-li"), token_of(client, "leader")
    security, other = auth(tokens[Role.SECURITY]), auth(tokens[Role.DISPATCHER])
    gate = {"X-API-Key": ids.create_api_key("gate-1", Role.GATE_TERMINAL, actor="test")[0]}

    def decide(plate: str) -> dict[str, str]:
        body = {"gate_id": "gate-east", "direction": "in", "plate": plate}
        r = client.post("/api/gate/decide", json=body, headers=gate)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    assert decide("浙A8P888")["decision"] == "deny"
    missing = client.post("/api/permits", json={"kind": "parking", "plate": "浙A8P888"}, headers=li)
    assert missing.status_code == 422
    assert missing.json()["code"] == "permit.document"
    applied = client.post(
        "/api/permits",
        json={"kind": "parking", "plate": "浙A·8P888", "documents": {"driving_licence": photo()}},
        headers=li,
    )
    assert applied.status_code == 201, applied.text
    pid = applied.json()["id"]
    assert applied.json()["plate"] == "浙A8P888"
    assert applied.json()["waiting_for"] == ["leader"]
    assert [p["id"] for p in client.get("/api/permits/waiting", headers=leader).json()] == [pid]
    home = client.get("/api/home", headers=leader).json()
    assert f"permit:{pid}" in [i["id"] for i in home["waiting"]]
    not_yours = client.post(f"/api/permits/{pid}/decide", json={"action": "approve"}, headers=other)
    assert not_yours.status_code == 403
    own = client.post(f"/api/permits/{pid}/decide", json={"action": "approve"}, headers=li)
    assert own.status_code == 403
    assert client.post(
        f"/api/permits/{pid}/decide", json={"action": "approve"}, headers=leader
    ).json()["waiting_for"] == ["security"]
    assert (
        client.post(f"/api/permits/{pid}/issue", headers=security).status_code == 409
    )  # not yet approved
    approved = client.post(
        f"/api/permits/{pid}/decide", json={"action": "approve"}, headers=security
    )
    assert approved.json()["status"] == "approved"
    taken = client.post(
        "/api/permits",
        json={"kind": "parking", "plate": "浙A8P888", "documents": {"driving_licence": photo()}},
        headers=leader,
    )
    assert taken.status_code == 409  # the plate holds a permit
    issued = client.post(f"/api/permits/{pid}/issue", headers=security).json()
    assert issued["status"] == "issued"
    assert issued["number"].startswith("PAR-")

    allowed = decide("浙A8P888")
    assert (allowed["decision"], allowed["reason"]) == ("allow", "staff permit")
    assert allowed["evidence"]["permit"] == issued["number"]
    assert (
        client.post(
            f"/api/permits/{pid}/act", json={"action": "revoke"}, headers=security
        ).status_code
        == 422
    )
    revoked = client.post(
        f"/api/permits/{pid}/act", json={"action": "revoke", "note": "车辆已转让"}, headers=security
    )
    assert revoked.json()["status"] == "revoked"
    assert decide("浙A8P888")["decision"] == "deny"  # at once: the gate asks at every decision

    register = client.get(
        "/api/permits/register", params={"q": "driver-li"}, headers=security
    ).json()
    assert [p["id"] for p in register] == [pid]
    year = client.get("/api/permits/figures", headers=security).json()
    total = next(r for r in year["rows"] if r["month"] == 0 and r["kind"] == "parking")
    assert (total["applied"], total["issued"]) == (1, 1)  # the refused plate left nothing
    assert client.get("/api/permits/register", headers=auth(tokens[Role.STAFF])).status_code == 403


def test_the_phone_credential_passes_the_gate_once_and_is_refused_stale_reused_or_suspended(
    hub: Hub, client: TestClient, tokens: dict[Role, str]
) -> None:
    ids = hub.ctx.identity
    ids.ensure_user("wang-phone", PASSWORD, [Role.STAFF], work_unit="u-edu")
    wang = token_of(client, "wang-phone")
    gate = {"X-API-Key": ids.create_api_key("gate-2", Role.GATE_TERMINAL, actor="test")[0]}

    def decide(qr: str, direction: str = "in", gate_id: str = "gate-main") -> dict[str, str]:
        body = {"gate_id": gate_id, "direction": direction, "qr": qr}
        return client.post("/api/gate/decide", json=body, headers=gate).json()  # type: ignore[no-any-return]

    def code() -> str:  # what the phone shows now (a fresh batch: each code is good once)
        card = client.get("/api/credential", headers=wang).json()
        assert len(card["codes"]) == 10
        return card["codes"][0]["token"]  # type: ignore[no-any-return]

    shown = code()
    later = client.get("/api/credential", headers=wang).json()["codes"][1]["token"]
    assert decide(later)["reason"] == "the pass is not valid yet"  # next minute's
    first = decide(shown)
    assert (first["decision"], first["reason"]) == ("allow", "staff credential")
    assert first["evidence"]["staff"] == "wang-phone"
    again = decide(shown, gate_id="gate-east")  # the same code at a second gate
    assert again["decision"] == "deny"
    assert "used already" in again["reason"]
    assert decide(code())["reason"] == "already inside: no exit since the last entry"
    assert decide(code(), "out")["decision"] == "allow"

    cards = hub.ctx.permits.credentials
    assert cards is not None
    real = cards.clock
    cards.clock = lambda: real() - timedelta(minutes=3)  # a screenshot of three minutes ago
    try:
        stale = cards.codes("wang-phone", 1)[0]["token"]
    finally:
        cards.clock = real
    assert decide(stale)["reason"] == "the pass has expired"
    # wang's staff card suspended: his phone is refused too
    admin, dispatcher = auth(tokens[Role.ADMIN]), auth(tokens[Role.DISPATCHER])
    applied = client.post(
        "/api/permits", json={"kind": "staff_card", "documents": {"photo": photo()}}, headers=wang
    ).json()
    client.post(f"/api/permits/{applied['id']}/decide", json={"action": "approve"}, headers=admin)
    client.post(f"/api/permits/{applied['id']}/issue", headers=dispatcher)
    assert decide(code(), "out")["decision"] == "review"  # not suspended yet: a code is good
    suspended = client.post(
        f"/api/permits/{applied['id']}/act",
        json={"action": "suspend", "note": "核查中"},
        headers=dispatcher,
    )
    assert suspended.json()["status"] == "suspended"
    assert decide(code())["reason"] == "the person's staff card is suspended"
