"""Every staff page fits a phone: at 390 px wide nothing makes the page scroll sideways (wide
tables scroll inside their own box)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import serve, sign_in

PASSWORD = "phone widths password"
PAGES = [
    "/",
    "/inbox.html",
    "/console.html",
    "/tickets.html",
    "/devices.html",
    "/rooms.html",
    "/vehicles.html",
    "/visits.html",
    "/gate.html",
    "/energy.html",
    "/patrol.html",
    "/report.html",
    "/admin.html",
    "/canteen.html",
    "/kitchen.html",
    "/counter.html",
    "/notices.html",
    "/feedback.html",
    "/surveys.html",
    "/permits.html",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("widths"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
    )
    hub = Hub(settings, quiet_site, factories=())
    with serve(hub) as url:
        roles = [Role.ADMIN, Role.SECURITY, Role.DISPATCHER, Role.MANAGER, Role.STAFF]
        hub.ctx.identity.ensure_user("everyone", PASSWORD, roles, work_unit="u-office")
        for i in range(3):  # the console with alarms to handle (its widest rows)
            hub.ctx.alarms.raise_alarm(
                rule="threshold-b2",
                originator=f"ahu-b2.supply_temp.{i}",
                type="threshold",
                severity="major",
                message="ahu-b2.supply_temp = 31.5 (> 28) for longer than the rule allows",
                ticket=False,
                now=datetime.now(UTC),
            )
        yield url


def test_no_page_is_wider_than_a_phone(served: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    sign_in(page, served, "everyone", PASSWORD, "/inbox.html")
    wide = {}
    for path in PAGES:
        page.goto(f"{served}{path}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert wide == {}
    # the wall is made for a big screen, but a guard opening it on a phone gets a working map
    page.goto(f"{served}/wall.html")
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15_000)
    assert errors == []
    assert page.evaluate("document.getElementById('map').clientWidth") == 390
    context.close()
