"""The energy report page in a real browser (Debian's chromium, Playwright) against a hub
with the demo's meter history: a manager sees last month's figures per building, the charts
the server drew and the data quality, switches to English and downloads the PDF; a staff
member is told the reports are not for them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Browser

from hub.cli import _demo_history
from hub.identity import Role
from hub.runtime import Hub
from hub.services.periods import last_complete
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import ARTIFACTS, serve, sign_in

PASSWORD = "energy page password"
MONTH = last_complete("month", datetime.now(UTC), ZoneInfo("Asia/Shanghai")).label


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_site: Site) -> Iterator[tuple[Hub, str]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("energy-web"), secret_key="k" * 48, site_file=DEMO_SITE
    )
    asyncio.run(_demo_history(settings, demo_site))
    hub = Hub(settings, demo_site, factories=())
    with serve(hub) as url:
        hub.ctx.identity.ensure_user("manager", PASSWORD, [Role.MANAGER], work_unit="u-logistics")
        hub.ctx.identity.ensure_user("staff", PASSWORD, [Role.STAFF], work_unit="u-office")
        yield hub, url


def test_a_manager_reads_last_months_report_and_downloads_the_pdf(
    served: tuple[Hub, str], browser: Browser
) -> None:
    _, url = served
    context = browser.new_context(
        timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 1000}, accept_downloads=True
    )
    page = context.new_page()
    sign_in(page, url, "manager", PASSWORD, "/energy.html")
    page.wait_for_selector("#report:not([hidden])")
    assert page.input_value("input[name=period]") == MONTH
    assert MONTH in (page.text_content("#heading") or "")
    assert "1号办公楼 · 电" in (page.text_content("#row-b1") or "")
    assert "kWh" in (page.text_content("#row-compound .total") or "")
    for chart in ("#chart-windows", "#chart-buildings"):
        assert page.get_attribute(chart, "src", timeout=5000).startswith("data:image/png")  # type: ignore[union-attr]
        assert page.evaluate(f"document.querySelector('{chart}').naturalWidth") > 300
    assert page.locator("#quality li").count() >= 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "energy-page.png"), full_page=True)

    page.click("#lang")
    page.wait_for_function(
        "() => document.querySelector('#row-b1').textContent.includes('Office Building 1')"
    )
    with page.expect_download() as download:
        page.click("button[data-format=pdf]")
    pdf = download.value.path().read_bytes()
    assert len(pdfium.PdfDocument(pdf)) == 3
    context.close()


def test_staff_are_told_energy_reports_are_not_for_them(
    served: tuple[Hub, str], browser: Browser
) -> None:
    _, url = served
    page = browser.new_page()
    sign_in(page, url, "staff", PASSWORD, "/energy.html")
    notice = page.locator("#not-for-you")  # every page says so the same way (app.js)
    notice.wait_for()
    assert "这个页面供管理层、调度、维修技师、管理员使用" in (notice.text_content() or "")
    page.close()
