"""The repair report page in a real browser (Debian's chromium, driven by Playwright): a staff
member scans an asset's label, signs in, describes the fault, and the ticket reaches the
technician with the asset's skill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import serve, sign_in

PASSWORD = "browser test password"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_site: Site) -> Iterator[tuple[Hub, str]]:
    """The hub (no devices) on a free loopback port."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("web"), secret_key="k" * 48, site_file=DEMO_SITE
    )
    hub = Hub(settings, demo_site, factories=())
    with serve(hub) as url:
        hub.ctx.identity.ensure_user("staff", PASSWORD, [Role.STAFF], work_unit="u-office")
        hub.ctx.identity.ensure_user(
            "tech-hvac", PASSWORD, [Role.TECHNICIAN], work_unit="u-logistics"
        )
        yield hub, url


def test_a_report_from_an_asset_label_reaches_the_electrician(
    served: tuple[Hub, str], browser: Browser, tmp_path: Path
) -> None:
    hub, url = served
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(f"{url}/report.html?asset=light-b1-3f-corridor")
    page.fill("#login input[name=username]", "staff")
    page.fill("#login input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#asset-name:has-text('1号楼三层走廊灯')")
    page.fill("textarea[name=description]", "走廊灯一闪一闪")
    page.select_option("select[name=priority]", "high")
    page.click("#report button[type=submit]")
    page.wait_for_selector("#done:not([hidden])")
    number = page.text_content("#ticket-no") or ""
    assert number.startswith("#")
    assert (page.text_content("#ticket-who") or "").endswith("刘师傅")  # by name, not "t-elec"
    page.screenshot(path=str(tmp_path / "report.png"))

    staff = Principal("staff", frozenset({Role.STAFF}), "u-office")
    assert hub.ctx.tickets is not None
    ticket = hub.ctx.tickets.get(int(number[1:]), staff)
    assert (ticket["asset_id"], ticket["source"], ticket["priority"]) == (
        "light-b1-3f-corridor",
        "qr",
        "high",
    )
    assert (ticket["assignee"], ticket["status"]) == ("t-elec", "assigned")
    # the page lists the reporter's own reports
    page.wait_for_selector(f"#my-list li:has-text('{number}')")
    # and speaks English when asked
    page.click("#lang")
    assert page.text_content("#again") == "Report another"
    page.close()


def test_a_phone_photo_is_made_small_and_the_reporter_confirms_and_rates_the_repair(
    served: tuple[Hub, str], browser: Browser, tmp_path: Path
) -> None:
    hub, url = served
    photo = tmp_path / "IMG_20261204.jpg"  # what a phone takes: 4000×3000, several MB
    noise = Image.effect_noise((4000, 3000), 90).convert("RGB")
    noise.save(photo, quality=97)
    assert photo.stat().st_size > 4_000_000
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, url, "staff", PASSWORD, "/report.html")  # the one sign-in: no form of its own
    page.wait_for_selector("select[name=category] option", state="attached")
    page.select_option("select[name=category]", "hvac")
    page.fill("input[name=location]", "1号楼第一会议室")
    page.fill("textarea[name=description]", "空调不制冷")
    page.set_input_files("input[name=photo]", str(photo))
    page.click("#report button[type=submit]")
    page.wait_for_selector("#done:not([hidden])")
    number = int((page.text_content("#ticket-no") or "#0")[1:])
    staff = Principal("staff", frozenset({Role.STAFF}), "u-office")
    ticket = hub.ctx.tickets.get(number, staff)
    assert ticket["photo"] == f"/api/tickets/{number}/photo"
    stored = hub.ctx.tickets.photo(number, staff)
    assert stored.stat().st_size < 1_500_000  # made small on the phone (1600 px JPEG)
    tech = Principal("tech-hvac", frozenset({Role.TECHNICIAN}), "u-logistics")
    for step in ("accept", "start"):
        getattr(hub.ctx.tickets, step)(number, tech)
    hub.ctx.tickets.resolve(number, tech, notes="更换了温控器", parts=[])
    page.reload()
    mine = page.locator(f"#my-{number}")
    expect(mine).to_contain_text("已修复，待确认")
    mine.locator("button", has_text="确认修好").click()
    expect(mine).to_contain_text("已关闭")
    mine.locator("select[name=rating]").select_option("5")
    mine.locator("input[name=comment]").fill("师傅很快")
    mine.locator("button", has_text="评价").click()
    expect(mine).to_contain_text("已评价 5 星")
    assert hub.ctx.tickets.get(number, staff)["rating"] == 5
    page.close()
