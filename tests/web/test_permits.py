"""Cards and permits end to end in chromium at phone size, with the gate's decision API and
the canteen's counter: a staff member applies for a parking permit with a photo of the driving
licence; her unit's approver and security approve it; the window issues it; her car's plate
opens the gate, and no longer once the permit is revoked. Her phone's staff card passes the
gate and collects her lunch at the counter; the code she showed, presented again a minute
later, is refused. The window's register and the year's figures show all of it."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.services.canteen import ItemIn
from hub.site import Site
from tests.support.clock import Clock
from tests.support.web import demo_hub, on_phone, serve

PASSWORD = "permits test password"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, quiet_site: Site
) -> Iterator[tuple[Hub, str, Clock]]:
    hub = demo_hub(tmp_path_factory.mktemp("permits"), quiet_site)
    # the canteen's day: lunch today is being served
    lunch = datetime.now(UTC).astimezone(SH).replace(hour=12, minute=0, second=0, microsecond=0)
    clock = Clock(lunch.replace(hour=7))
    for part in (hub.ctx.canteen.menu, hub.ctx.canteen.orders, hub.ctx.canteen.kitchen):
        part.clock = clock
    with serve(hub) as url:
        ids = hub.ctx.identity
        ids.ensure_user("li", PASSWORD, [Role.STAFF], work_unit="u-office")
        ids.ensure_user("leader", PASSWORD, [Role.STAFF], work_unit="u-office")
        ids.ensure_user("guard-chief", PASSWORD, [Role.SECURITY], work_unit="u-security")
        ids.ensure_user("cook", PASSWORD, [Role.CANTEEN], work_unit="u-logistics")
        yield hub, url, clock


def phone(browser: Browser, url: str, user: str, path: str) -> Page:
    return on_phone(browser, url, user, PASSWORD, path, timezone_id="Asia/Shanghai")


def call(url: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as err:
        return {"status": err.code, **json.loads(err.read() or b"{}")}


def test_a_parking_permit_and_the_phone_as_the_staff_card(
    served: tuple[Hub, str, Clock], browser: Browser, tmp_path: Path
) -> None:
    hub, url, clock = served
    licence = tmp_path / "licence.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (80, 50), "navy").save(buffer, "JPEG")
    licence.write_bytes(buffer.getvalue())
    gate = {
        "X-API-Key": hub.ctx.identity.create_api_key("gate-t", Role.GATE_TERMINAL, actor="test")[0]
    }

    def decide(**presented: str) -> dict[str, Any]:
        return call(
            url, "/api/gate/decide", {"gate_id": "gate-main", "direction": "in", **presented}, gate
        )

    li = phone(browser, url, "li", "/permits.html")
    li.click("[data-tab=apply]")
    li.select_option("#a-kind", "parking")
    expect(li.locator("#a-chain")).to_contain_text("本单位审批人 → 安保")
    li.fill("#a-plate", "浙A·D12345")
    li.set_input_files("input[name=doc-driving_licence]", str(licence))
    li.click("#a-send")
    expect(li.locator("#a-said")).to_contain_text("已提交：审批中")

    leader = phone(browser, url, "leader", "/")
    leader.locator("#waiting li", has_text="停车证").click()
    leader.wait_for_url("**/permits.html#permit=*")
    expect(leader.locator("#p-docs img")).to_have_count(1)
    leader.click("[data-do=approve]")
    expect(leader.locator("#p-meta")).to_contain_text("审批中")

    chief = phone(browser, url, "guard-chief", "/permits.html")
    chief.click("[data-tab=approve]")
    chief.locator("#waiting li", has_text="停车证").click()
    chief.click("[data-do=approve]")
    expect(chief.locator("#p-meta")).to_contain_text("待制证")
    chief.click("[data-do=issue]")
    expect(chief.locator("#p-meta")).to_contain_text("待领取")

    opened = decide(plate="浙AD12345")
    assert (opened["decision"], opened["reason"]) == ("allow", "staff permit")

    # her lunch, ordered this morning; now it is noon at the canteen
    cook = Principal("cook", frozenset({Role.CANTEEN}), "u-logistics")
    today = clock.now.date()
    (dish,) = hub.ctx.canteen.menu.publish(
        cook,
        "main",
        [ItemIn(day=today, meal="lunch", name="红烧肉", price_cents=1500, portions=30)],
    )
    mine = Principal("li", frozenset({Role.STAFF}), "u-office")
    hub.ctx.canteen.orders.order(mine, "main", today, "lunch", {dish["id"]: 1})
    clock.now = clock.now.replace(hour=12)

    li.click("[data-tab=card]")
    qr = li.locator("#card-qr")
    expect(qr).to_have_attribute("data-token", re.compile(r"^ey.{40,}"))
    shown = qr.get_attribute("data-token")
    assert shown
    passed = decide(qr=shown)
    assert (passed["decision"], passed["reason"]) == ("allow", "staff credential")
    later = hub.ctx.permits.credentials.codes("li", 1)[0]["token"]  # type: ignore[union-attr]
    counter = on_phone(browser, url, "cook", PASSWORD, "/counter.html", timezone_id="Asia/Shanghai")
    token = counter.evaluate("localStorage.getItem('hub.token')")
    pickup = call(
        url,
        "/api/canteens/main/pickups",
        {"code": later},
        {"Authorization": f"Bearer {token}"},
    )
    assert pickup.get("status") == "served", pickup

    # the code she showed at the gate, presented again a minute later: refused
    visits = hub.ctx.visits  # the gate's clock is the visits'
    real = visits.clock
    visits.clock = lambda: real() + timedelta(minutes=1, seconds=10)
    try:
        replayed = decide(qr=shown)
    finally:
        visits.clock = real
    assert replayed["decision"] == "deny"
    assert replayed["reason"] in ("the pass has expired",) or "used already" in replayed["reason"]

    chief.goto(f"{url}/permits.html")
    chief.wait_for_selector("body[data-ready='1']")
    chief.click("[data-tab=window]")
    row = chief.locator("#register li", has_text="浙AD12345")
    expect(row).to_contain_text("待领取")
    row.click()
    chief.fill("#p-note", "车辆已更换")
    chief.click("[data-do=revoke]")
    expect(chief.locator("#p-meta")).to_contain_text("已注销")
    assert decide(plate="浙AD12345")["decision"] == "deny"

    chief.click("#back")
    year = chief.locator("#figures tr.total").first
    expect(year).to_contain_text("1")
    expect(chief.locator("#figures")).to_contain_text("停车证")
