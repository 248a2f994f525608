"""Every page a person opens passes axe-core's WCAG 2.1 A/AA checks (labels, contrast, names
of buttons and links, landmarks, language) in chromium at phone size, in Chinese and in
English, as the role that uses it — with content on it, not empty."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.services.canteen import ItemIn
from hub.services.feedback import Draft
from hub.services.gate.visits import VisitorIn
from hub.services.notices import Audience
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import chromium, serve, sign_in

PASSWORD = "accessible password"
AXE = Path(__file__).parents[1] / "support" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# page, who opens it, what shows that it has loaded
PAGES = [
    ("/", "staff", "body[data-ready='1']"),
    ("/rooms.html", "staff", "#rooms tbody tr"),
    ("/vehicles.html", "staff", "#requests article"),
    ("/visits.html", "staff", "#visits article"),
    ("/report.html", "staff", "#my-list li"),
    ("/inbox.html", "staff", "#messages li"),
    ("/notices.html", "staff", "#notices li"),
    ("/notices.html", "manager", "#f-units input"),
    ("/feedback.html", "staff", "#w-category option"),
    ("/feedback.html?tab=queue", "dispatcher", "#queue li"),
    ("/followup.html", "", "body[data-ready='1']"),
    ("/surveys.html", "staff", "#surveys li"),
    ("/surveys.html", "manager", "#f-questions fieldset"),
    ("/permits.html", "staff", "#mine li"),
    ("/permits.html?tab=window", "security", "#register li"),
    ("/tickets.html", "tech-elec", "#board section"),
    ("/tickets.html", "dispatcher", "#board article select"),
    ("/vehicles.html", "dispatcher", "#to-dispatch article select"),
    ("/console.html", "security", "#link.live"),
    ("/gate.html", "security", "#link.live"),
    ("/guard.html", "guard1", "main"),
    ("/patrol.html", "manager", "main"),
    ("/energy.html", "manager", "main"),
    ("/devices.html", "admin", "#link.live"),
    ("/admin.html", "admin", "main"),
    ("/canteen.html", "staff", "#meal-lunch"),
    ("/kitchen.html", "cook", "body[data-ready='1']"),
    ("/counter.html", "cook", "body[data-ready='1']"),
    ("/login.html", "", "#login"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("a11y"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
    )
    hub = Hub(settings, quiet_site, factories=())
    with serve(hub) as url:
        ids = hub.ctx.identity
        for name, unit, roles in (
            ("staff", "u-office", [Role.STAFF]),
            ("tech-elec", "u-logistics", [Role.TECHNICIAN]),
            ("security", "u-security", [Role.SECURITY]),
            ("guard1", "u-security", [Role.SECURITY]),
            ("manager", "u-office", [Role.MANAGER]),
            ("admin", "u-office", [Role.ADMIN]),
            ("dispatcher", "u-logistics", [Role.DISPATCHER]),
            ("cook", "u-logistics", [Role.CANTEEN]),
        ):
            ids.ensure_user(name, PASSWORD, roles, work_unit=unit)
        content(hub)
        yield url


def content(hub: Hub) -> None:
    """Something on each page: a car request, a visit, a repair, a message."""
    staff = Principal("staff", frozenset({Role.STAFF}), "u-office")
    start = datetime.now(UTC) + timedelta(hours=3)
    assert hub.ctx.vehicles is not None
    assert hub.ctx.visits is not None
    hub.ctx.vehicles.request(
        staff,
        purpose="调研",
        destination="区政务中心",
        passengers=2,
        start=start,
        end=start + timedelta(hours=2),
    )
    hub.ctx.visits.register(
        staff,
        purpose="洽谈",
        start=start,
        end=start + timedelta(hours=2),
        visitors=[VisitorIn(name="王小明", phone="13800000000", plate="浙A12345")],
    )
    teacher = Principal("teacher", frozenset({Role.STAFF}), "u-edu")  # no approvers: to dispatch
    hub.ctx.vehicles.request(
        teacher,
        purpose="送考",
        destination="市教育考试院",
        passengers=3,
        start=start,
        end=start + timedelta(hours=2),
    )
    monday = datetime.now(UTC).date() + timedelta(days=7 - datetime.now(UTC).weekday())
    cook = Principal("cook", frozenset({Role.CANTEEN}), "u-logistics")
    hub.ctx.canteen.menu.publish(  # next week's lunch: the staff page opens on it
        cook,
        "main",
        [
            ItemIn(day=monday, meal="lunch", name="红烧肉", price_cents=1500, portions=30),
            ItemIn(day=monday, meal="lunch", name="米饭", category="staple", price_cents=100),
        ],
    )
    hub.ctx.tickets.report(
        staff, description="三楼走廊灯不亮", category="electrical", location="1号楼三层"
    )
    manager = Principal("manager", frozenset({Role.MANAGER}), "u-office")
    hub.ctx.feedback.submit(
        staff,
        Draft("complaint", "cleaning", "三楼卫生间积水", "地面积水两天了", building="b1"),
    )
    hub.ctx.permits.apply(staff, "door", doors=["r-101"], note="新入职")
    hub.ctx.notices.publish(
        manager,
        title="关于消防演练的通知",
        body="<p>周五 15:00 到广场集合。</p>",
        audience=Audience(everyone=True),
        must_ack=True,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run scripts/setup.sh --test")
    with chromium() as b:
        yield b


def violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "summary": v["nodes"][0]["failureSummary"][:300],
        }
        for v in result["violations"]
    ]


@pytest.mark.parametrize(("path", "user", "ready"), PAGES, ids=[f"{p[0]} {p[1]}" for p in PAGES])
def test_the_page_passes_the_accessibility_checks_in_both_languages(
    served: str, browser: Browser, path: str, user: str, ready: str
) -> None:
    context = browser.new_context(**PHONE, bypass_csp=True)  # axe is injected into the page
    page = context.new_page()
    if user:
        sign_in(page, served, user, PASSWORD, path)
    else:
        page.goto(f"{served}{path}")
    page.wait_for_selector(ready, state="attached", timeout=15_000)
    page.wait_for_timeout(300)  # the page's first render settles
    found = {"zh-CN": violations(page)}
    page.click("#lang")
    page.wait_for_timeout(300)
    found["en"] = violations(page)
    context.close()
    assert found == {"zh-CN": [], "en": []}, json.dumps(found, ensure_ascii=False, indent=1)
