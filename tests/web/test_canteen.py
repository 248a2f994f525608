"""The canteen's week end to end, in chromium at phone size: the kitchen publishes next
week's lunch, staff order (one cancels), at the cut-off the kitchen prints its production
sheet, the counter serves an order by filming its QR code (a second scan is refused with who
and when), the uncollected order is a no-show, and the popularity report shows the week."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import segno
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.clock import Clock
from tests.support.web import (
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    PHONE,
    filmed,
    on_phone,
    serve,
    sign_in,
)

PASSWORD = "canteen test password"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, quiet_site: Site
) -> Iterator[tuple[Hub, str, Clock]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("canteen"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
    )
    hub = Hub(settings, quiet_site, factories=())
    clock = Clock(datetime.now(UTC))
    for part in (hub.ctx.canteen.menu, hub.ctx.canteen.orders, hub.ctx.canteen.kitchen):
        part.clock = clock
    with serve(hub) as url:
        ids = hub.ctx.identity
        ids.ensure_user("cook", PASSWORD, [Role.CANTEEN], work_unit="u-logistics")
        for name, unit in (("staff", "u-office"), ("li", "u-finance"), ("wu", "u-edu")):
            ids.ensure_user(name, PASSWORD, [Role.STAFF], work_unit=unit)
        yield hub, url, clock


def next_monday() -> date:
    today = datetime.now(SH).date()
    return today + timedelta(days=7 - today.weekday())


def phone(browser: Browser, url: str, user: str, path: str) -> Page:
    return on_phone(browser, url, user, PASSWORD, path, timezone_id="Asia/Shanghai")


def order(page: Page, monday: date, portions: dict[str, int]) -> None:
    page.click("#next")
    page.click(f"#day-{monday.isoformat()}")
    lunch = page.locator("#meal-lunch")
    for name, n in portions.items():
        plus = lunch.locator(f"li:has-text('{name}') button[aria-label$='+1']")
        for _ in range(n):
            plus.click()
    lunch.get_by_role("button", name="下单").click()
    expect(page.locator("#message")).to_have_text("已下单")


def test_a_week_of_the_canteen_from_menu_to_popularity(
    served: tuple[Hub, str, Clock], browser: Browser, tmp_path: Path
) -> None:
    hub, url, clock = served
    monday = next_monday()

    # the kitchen publishes next Monday's lunch
    kitchen = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai"
    ).new_page()
    sign_in(kitchen, url, "cook", PASSWORD, "/kitchen.html")
    kitchen.wait_for_selector("body[data-ready='1']")
    expect(kitchen.locator("#menu summary")).to_be_visible()  # the app's menu, here too
    form = kitchen.locator("#publish")
    for name, category, price, portions in (
        ("红烧肉", "dish", "15", "30"),
        ("米饭", "staple", "1", ""),
    ):
        form.locator("input[name=day]").fill(monday.isoformat())
        form.locator("select[name=meal]").select_option("lunch")
        form.locator("input[name=name]").fill(name)
        form.locator("select[name=category]").select_option(category)
        form.locator("input[name=price]").fill(price)
        form.locator("input[name=portions]").fill(portions)
        form.get_by_role("button", name="发布").click()
        expect(kitchen.locator("#message")).to_have_text("已发布")

    # next week on the kitchen's page: the braised pork gets its photo
    year, week, _ = monday.isocalendar()
    kitchen.fill("#week", f"{year}-W{week:02d}")
    kitchen.dispatch_event("#week", "change")
    pork_row = kitchen.locator("#week-menu tbody tr", has_text="红烧肉")
    photo = io.BytesIO()
    Image.new("RGB", (1200, 900), (180, 60, 30)).save(photo, "JPEG")
    pork_row.locator("input[type=file]").set_input_files(
        files=[{"name": "pork.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}]
    )
    expect(kitchen.locator("#message")).to_have_text("照片已保存")
    expect(pork_row).to_contain_text("更换照片")

    # the home shows the next meal open for ordering, with what is left of each dish
    home = phone(browser, url, "staff", "/")
    card = home.locator("#menu-box")
    expect(card).to_contain_text("午餐")
    expect(card.locator("li", has_text="红烧肉")).to_contain_text("剩 30/30")
    home.context.close()

    # staff order on their phones; li changes her mind
    staff = phone(browser, url, "staff", "/canteen.html")
    order(staff, monday, {"红烧肉": 1, "米饭": 1})
    expect(
        staff.locator("#meal-lunch li", has_text="红烧肉").locator("img.dish-photo")
    ).to_have_attribute("src", re.compile(r"^blob:"))
    mine = staff.locator("#mine li").first
    expect(mine).to_contain_text("红烧肉 ×1")
    expect(mine.locator("img.pass-qr")).to_be_visible()
    staff.screenshot(path=str(ARTIFACTS / "canteen-phone.png"), full_page=True)
    li = phone(browser, url, "li", "/canteen.html")
    order(li, monday, {"红烧肉": 1})
    li.click("#next")
    li.click(f"#day-{monday.isoformat()}")
    li.locator("#meal-lunch").get_by_role("button", name="取消订餐").click()
    expect(li.locator("#message")).to_have_text("已取消")
    wu = phone(browser, url, "wu", "/canteen.html")
    order(wu, monday, {"红烧肉": 2})
    expect(staff.locator("#message")).to_have_text("已下单")

    # 09:05 on Monday: lunch orders closed; the kitchen prints what to make
    clock.now = datetime.combine(monday, datetime.min.time(), SH).replace(hour=9, minute=5)
    kitchen.fill("#prod-day", monday.isoformat())
    kitchen.dispatch_event("#prod-day", "change")
    expect(kitchen.locator("#prod-lunch")).to_contain_text("红烧肉: 制作 3")
    with kitchen.expect_download() as got:
        kitchen.click("#prod-pdf")
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")

    # 11:40: the counter films staff's QR code and serves it, once
    clock.now = clock.now.replace(hour=11, minute=40)
    (mine_order,) = hub.ctx.canteen.orders.mine(Principal("staff", frozenset({Role.STAFF})), monday)
    png = io.BytesIO()
    segno.make(f"DYCANTEEN:{mine_order['code']}", error="m").save(
        png, kind="png", scale=8, border=4
    )
    camera = filmed(png.getvalue(), tmp_path / "order.y4m")
    counter_browser = browser.browser_type.launch(  # the counter's phone, its camera filming
        executable_path=CHROMIUM,
        args=[
            *ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
        ],
    )
    try:
        context = counter_browser.new_context(**PHONE, timezone_id="Asia/Shanghai")
        context.grant_permissions(["camera"], origin=url)
        counter = context.new_page()
        sign_in(counter, url, "cook", PASSWORD, "/counter.html")
        counter.wait_for_selector("body[data-ready='1']")
        counter.click("#scan")
        expect(counter.locator("#result")).to_contain_text("已取餐 · staff", timeout=20_000)
        expect(counter.locator("#result")).to_contain_text("请交付：红烧肉 ×1")
        # the same code held up again a few seconds later: refused, saying who and when
        expect(counter.locator("#result")).to_contain_text("取过餐", timeout=20_000)
        expect(counter.locator("#result")).to_contain_text("由 cook")
        counter.screenshot(path=str(ARTIFACTS / "canteen-counter.png"))
    finally:
        counter_browser.close()

    # 13:40: lunch is over; wu's two portions were never collected
    clock.now = clock.now.replace(hour=13, minute=40)
    assert hub.ctx.canteen.orders.sweep() == 1
    kitchen.fill("#pop-from", monday.isoformat())
    kitchen.fill("#pop-to", (monday + timedelta(days=6)).isoformat())
    kitchen.click("#pop-show")
    pork = kitchen.locator("#popularity tbody tr", has_text="红烧肉")
    expect(pork).to_contain_text("67%")  # no-shows: 2 of 3
    kitchen.locator("#week-menu tbody tr", has_text="红烧肉").locator("input[name=made]").fill("4")
    kitchen.locator("#week-menu tbody tr", has_text="红烧肉").locator(
        "input[name=made]"
    ).dispatch_event("change")
    expect(kitchen.locator("#message")).to_have_text("已记录制作份数")
    kitchen.click("#pop-show")
    expect(pork.locator("td").nth(6)).to_have_text("75%")  # cooked 4, collected 1
    cells = pork.locator("td")
    expect(cells.nth(2)).to_have_text("3")  # ordered
    expect(cells.nth(3)).to_have_text("1")  # collected
    expect(cells.nth(4)).to_have_text("2")  # not collected
    kitchen.screenshot(path=str(ARTIFACTS / "canteen-kitchen.png"), full_page=True)
    for page in (kitchen, staff, li, wu):
        page.context.close()
