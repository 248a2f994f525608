"""The inbox on a staff member's phone (chromium at 390×844): a repair they reported is
accepted by the technician, the badge in the page's header counts it live, the inbox lists it
in Chinese, and opening it marks it read."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import ARTIFACTS, serve, sign_in

PASSWORD = "inbox page password"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("inbox"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
        live={"rate_hz": 10},
    )
    hub = Hub(settings, quiet_site, factories=())
    with serve(hub) as url:
        hub.ctx.identity.ensure_user("staff", PASSWORD, [Role.STAFF], work_unit="u-office")
        hub.ctx.identity.ensure_user(
            "tech-hvac", PASSWORD, [Role.TECHNICIAN], work_unit="u-logistics"
        )
        yield url


def call(url: str, path: str, user: str, body: Any) -> Any:
    form = urllib.parse.urlencode({"username": user, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{url}/api/auth/token", data=form, timeout=10) as r:
        token = json.loads(r.read())["access_token"]
    req = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as err:
        raise AssertionError(f"{path}: {err.code} {err.read().decode()}") from err


def test_a_reporter_is_told_live_when_the_repair_is_accepted(
    served: str, browser: Browser, tmp_path: Path
) -> None:
    url = served
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, url, "staff", PASSWORD, "/inbox.html")
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#messages")).to_contain_text("没有消息")
    badge = page.locator("#inbox-badge")
    expect(badge).to_be_hidden()
    ticket = call(
        url,
        "/api/tickets",
        "staff",
        {"description": "空调不制冷", "category": "hvac", "location": "1号楼第一会议室"},
    )
    call(url, f"/api/tickets/{ticket['id']}/accept", "tech-hvac", {})
    expect(badge).to_have_text("1", timeout=15_000)  # live, over the page's own websocket
    first = page.locator("#messages li").first
    expect(first).to_contain_text("已接单")
    expect(first).to_have_class("unread")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox-phone.png"), full_page=True)
    first.click()
    page.wait_for_url(f"{url}/report.html*")  # where the reporter confirms and rates
    expect(page.locator("#inbox-badge")).to_be_hidden()  # read now, on every page's header
    assert errors == []
    context.close()
