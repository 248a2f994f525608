"""Visitors and the gate end to end, in chromium against the hub on loopback:

a host registers a visitor with a car on the visitors page; the gate camera's read of the
plate with an O for a 0 lets the car in; the visitor opens the pass link on a phone and the
QR code opens the pedestrian gate once, a second entry without an exit is refused, a forged
QR is refused; the wall display shows the gate events; the guard sees them on the gate page;
the retention purge removes the visitor's ID data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.services.gate import passes
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import ARTIFACTS, serve, sign_in

PASSWORD = "gate page password"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_site: Site) -> Iterator[tuple[Hub, str]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("gate-web"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        live={"rate_hz": 10, "summary_s": 1},
    )
    hub = Hub(settings, demo_site, factories=())
    with serve(hub) as url:
        for name, unit, roles in (
            ("staff", "u-office", [Role.STAFF]),
            ("guard", "u-security", [Role.SECURITY]),
            ("wall", "u-security", [Role.DISPLAY]),
        ):
            hub.ctx.identity.ensure_user(name, PASSWORD, roles, work_unit=unit)
        yield hub, url


def test_a_registered_visitor_and_car_get_in_once_and_the_wall_shows_it(
    served: tuple[Hub, str], browser: Browser
) -> None:
    hub, url = served
    assert hub.ctx.gate is not None
    assert hub.ctx.visits is not None
    terminal = hub.ctx.identity.create_api_key("gate-main-1", Role.GATE_TERMINAL, actor="test")[0]
    api = httpx.Client(base_url=url, headers={"X-API-Key": terminal}, timeout=10)

    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(wall, url, "wall", PASSWORD, "/wall.html", display=True)
    wall.wait_for_selector("body[data-ready='1']", timeout=20_000)

    host = browser.new_context(timezone_id="Asia/Shanghai").new_page()
    sign_in(host, url, "staff", PASSWORD, "/visits.html")
    today = datetime.now(UTC).astimezone(hub.ctx.gate.tz)
    host.fill("input[name=purpose]", "项目洽谈")
    host.fill("input[name=date]", today.strftime("%Y-%m-%d"))
    host.fill("input[name=from]", "00:01")
    host.fill("input[name=to]", "23:59")
    host.fill("input[name=name]", "王小明")
    host.fill("input[name=phone]", "13800000000")
    host.fill("input[name=id_number]", "330102199001011234")
    host.fill("input[name=company]", "某某科技公司")
    host.fill("input[name=plate]", "浙A10315")
    host.click("#invite button[type=submit]")
    host.wait_for_selector("#message.good")
    link = host.locator("#visits a", has_text="通行码链接").first
    link.wait_for()
    pass_link = link.get_attribute("href") or ""
    token = pass_link.split("#", 1)[1]

    # the car: the camera reads an O where the plate has a 0
    car = api.post(
        "/api/gate/decide", json={"gate_id": "gate-main", "direction": "in", "plate": "浙A1O315"}
    )
    assert car.status_code == 200, car.text
    assert (car.json()["decision"], car.json()["reason"]) == ("allow", "visitor car")

    # the visitor's phone shows the pass; the gate's scanner reads the token from its QR code
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(pass_link)
    phone.wait_for_selector("#qr[src^='data:image/']")
    assert phone.text_content("#who") == "王**"
    first = api.post(
        "/api/gate/decide", json={"gate_id": "gate-main", "direction": "in", "qr": token}
    )
    assert first.json()["decision"] == "allow"
    again = api.post(
        "/api/gate/decide", json={"gate_id": "gate-main", "direction": "in", "qr": token}
    )
    assert (again.json()["decision"], again.json()["reason"]) == (
        "deny",
        "already inside: no exit since the last entry",
    )
    claims = passes.verify(
        hub.ctx.visits.key.public_key(), token, datetime.now(UTC), timedelta(seconds=60)
    )
    forged = passes.issue(Ed25519PrivateKey.generate(), claims)
    refused = api.post(
        "/api/gate/decide", json={"gate_id": "gate-main", "direction": "in", "qr": forged}
    )
    assert (refused.json()["decision"], refused.json()["reason"]) == (
        "deny",
        "forged pass (bad signature)",
    )
    # nobody but a terminal decides
    staff_token = httpx.post(
        f"{url}/api/auth/token", data={"username": "staff", "password": PASSWORD}
    ).json()["access_token"]
    assert (
        httpx.post(
            f"{url}/api/gate/decide",
            json={"gate_id": "gate-main", "direction": "in", "qr": token},
            headers={"Authorization": f"Bearer {staff_token}"},
        ).status_code
        == 403
    )

    # the wall display lists the four passages, the refusals marked
    wall.wait_for_function(  # a function, not an expression: the page's CSP forbids eval
        "() => document.querySelectorAll('#gates li').length >= 4", timeout=15_000
    )
    assert wall.locator("#gates li.denied").count() == 2
    assert "王**" in (wall.text_content("#gates") or "")
    assert "王小明" not in (wall.text_content("#gates") or "")  # labels only on the big screen
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(ARTIFACTS / "wall-display-gate.png"))

    guard = browser.new_page()
    sign_in(guard, url, "guard", PASSWORD, "/gate.html")
    guard.wait_for_function("() => document.querySelectorAll('#decisions tbody tr').length >= 4")
    decisions = guard.text_content("#decisions") or ""  # in words, the gate by its name
    assert "伪造的通行证（签名不符）" in decisions
    assert "已在院内：上次进入后没有出门记录" in decisions
    assert "gate-main" not in decisions
    assert "王**" in (guard.text_content("#roster") or "")

    # a month later the retention purge removes the personal data
    visit_id = hub.ctx.visits.find(Principal("guard", frozenset({Role.SECURITY})))[0]["id"]
    real = hub.ctx.visits.clock
    hub.ctx.visits.clock = lambda: real() + timedelta(days=32)
    try:
        assert hub.ctx.gate.sweep() >= 1
    finally:
        hub.ctx.visits.clock = real
    guard_token = httpx.post(
        f"{url}/api/auth/token", data={"username": "guard", "password": PASSWORD}
    ).json()["access_token"]
    visit = httpx.get(
        f"{url}/api/visits/{visit_id}", headers={"Authorization": f"Bearer {guard_token}"}
    ).json()
    (visitor,) = visit["visitors"]
    assert visitor["purged"]
    assert (visitor["name"], visitor["phone"], visitor["id_last4"], visitor["plate"]) == (
        "（已清除）",
        "",
        None,
        None,
    )
    for page in (wall, host, phone, guard):
        page.close()
