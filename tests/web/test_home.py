"""The front door on a phone (chromium at 390×844): a person signs in once and lands on their
home — their services a tap away, their things, what waits for them — and each item opens
where it can be acted on, signed in (no second sign-in)."""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import ARTIFACTS, on_phone, serve

PASSWORD = "home page password"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("home"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
    )
    hub = Hub(settings, quiet_site, factories=())
    with serve(hub) as url:
        hub.ctx.identity.ensure_user("staff", PASSWORD, [Role.STAFF], work_unit="u-office")
        hub.ctx.identity.ensure_user("leader", PASSWORD, [Role.STAFF], work_unit="u-office")
        yield url


def call(url: str, user: str, path: str, body: Any) -> Any:
    form = urllib.parse.urlencode({"username": user, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{url}/api/auth/token", data=form, timeout=10) as r:
        token = json.loads(r.read())["access_token"]
    req = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def sign_in_plainly(browser: Browser, url: str, user: str) -> Any:
    """Sign in as a person would: the login page, no `next`."""
    return on_phone(browser, url, user, PASSWORD)


def test_staff_land_on_their_home_and_approvers_see_what_waits(
    served: str, browser: Browser
) -> None:
    url = served
    tomorrow = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    slot = {"start": tomorrow.isoformat(), "end": (tomorrow + timedelta(hours=1)).isoformat()}
    call(url, "staff", "/api/bookings", {"room_id": "r-101", "title": "周例会", **slot})
    car = call(
        url,
        "staff",
        "/api/vehicle-requests",
        {"purpose": "调研", "destination": "区政务中心", "passengers": 2, **slot},
    )

    page = sign_in_plainly(browser, url, "staff")
    expect(page.locator("h1")).to_have_text("我的大院")
    for tile in ("会议室", "用车", "访客", "报修", "消息"):
        expect(page.locator("#services")).to_contain_text(tile)
    expect(page.locator("#tile-console")).to_have_count(0)  # not a staff member's page
    expect(page.locator("#items")).to_contain_text("会议 · 第一会议室 · 周例会")
    expect(page.locator(f"#car-{car['id']}")).to_contain_text("待审批")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home-staff.png"), full_page=True)
    page.click("#tile-rooms")
    page.wait_for_url(f"{url}/rooms.html*")  # signed in: no second sign-in
    assert "login" not in page.url
    page.context.close()

    page = sign_in_plainly(browser, url, "leader")
    waiting = page.locator(f"#approval-car\\:{car['id']}")
    expect(waiting).to_contain_text("区政务中心")
    expect(waiting).to_contain_text("去审批")
    waiting.click()
    page.wait_for_url(f"{url}/vehicles.html*")
    page.context.close()


def test_every_page_has_the_same_menu_for_the_persons_roles_and_says_when_a_page_is_not_theirs(
    served: str, browser: Browser
) -> None:
    page = sign_in_plainly(browser, served, "staff")
    page.click("#tile-vehicles")
    page.wait_for_url(f"{served}/vehicles.html*")
    page.click("#menu summary")
    links = page.locator("#menu-links a")
    expect(links).to_have_text(
        [
            "首页",
            "会议室",
            "用车",
            "访客",
            "食堂",
            "报修",
            "消息",
            "通知公告",
            "建议投诉",
            "问卷调查",
            "卡证办理",
        ]
    )
    expect(page.locator("#nav-vehicles")).to_have_attribute("aria-current", "page")
    page.click("#nav-visits")  # from one service to another without typing an address
    page.wait_for_url(f"{served}/visits.html*")
    expect(page.locator("h1")).to_have_text("访客预约")

    page.goto(f"{served}/tickets.html")  # the technicians' board, typed in by hand
    expect(page.locator("#not-for-you")).to_contain_text("这个页面供维修技师、调度、管理员使用")
    page.click("#not-for-you a")
    page.wait_for_url(f"{served}/")
    page.click("#lang")
    page.click("#menu summary")
    expect(page.locator("#menu-links a").first).to_have_text("Home")
    page.context.close()


def test_cancelling_the_rest_of_a_series_asks_first_and_can_be_undone(
    served: str, browser: Browser
) -> None:
    monday = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=8)
    monday = monday.replace(hour=16, minute=0, second=0, microsecond=0)
    series = call(
        served,
        "staff",
        "/api/bookings",
        {
            "room_id": "r-101",
            "title": "季度例会",
            "start": monday.isoformat(),
            "end": (monday + timedelta(hours=1)).isoformat(),
            "rrule": "FREQ=WEEKLY;COUNT=3",
        },
    )
    first = series["bookings"][0]["id"]
    page = sign_in_plainly(browser, served, "staff")
    page.goto(f"{served}/rooms.html")
    row = page.locator(f"#mine-{first}")
    row.get_by_role("button", name="取消此后全部").click()
    expect(row.locator(".confirm")).to_contain_text("确定取消此后的 3 场会议？")
    row.get_by_role("button", name="不取消").click()  # changed their mind: nothing happens
    expect(row.locator(".confirm")).to_have_count(0)
    expect(row).to_contain_text("已确认")
    row.get_by_role("button", name="取消此后全部").click()
    row.get_by_role("button", name="确定取消").click()
    expect(page.locator("#message")).to_contain_text("已取消 3 场会议")
    page.click("#undo")
    expect(page.locator("#message")).to_contain_text("已恢复 3 场会议")
    expect(page.locator(f"#mine-{first}")).to_contain_text("已确认")
    page.context.close()


def test_one_registration_brings_a_delegation_and_its_passes_scan_black_on_white(
    served: str, browser: Browser
) -> None:
    page = sign_in_plainly(browser, served, "staff")
    page.goto(f"{served}/visits.html")
    page.fill("input[name=purpose]", "检查指导")
    page.fill("input[name=from]", "00:01")
    page.fill("input[name=to]", "23:59")
    page.locator("#people input[name=name]").nth(0).fill("张三")
    page.click("#add-person")
    second = page.locator("#people .person").nth(1)
    expect(second.locator("legend")).to_have_text("来访人 2")
    second.locator("input[name=name]").fill("李四")
    second.locator("input[name=plate]").fill("浙A12345")
    page.click("#invite button[type=submit]")
    expect(page.locator("#message")).to_have_text("已登记")
    visit = page.locator("#visits article", has_text="检查指导").first
    expect(visit).to_contain_text("张三")
    expect(visit).to_contain_text("李四 浙A12345")
    expect(page.locator("#people .person")).to_have_count(1)  # a fresh form
    # the passes' QR codes are black on white with a quiet zone, on the dark page
    qr = visit.locator("img.pass-qr").first
    qr.wait_for()
    src = qr.get_attribute("src") or ""
    svg = base64.b64decode(src.split(",", 1)[1]).decode()
    assert 'fill="#fff"' in svg or "#ffffff" in svg
    page.context.close()
