"""The repair report page in a real browser (Debian's chromium, driven by Playwright): a staff
member scans an asset's label, signs in, describes the fault, and the ticket reaches the
technician with the asset's skill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import chromium, serve

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
        yield hub, url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


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
    assert "t-elec" in (page.text_content("#ticket-who") or "")
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
