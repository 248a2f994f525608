"""The pages as an installable app on a phone (chromium at 390×844): a manifest with icons, a
service worker keeping the app shell, and — the hub gone — the page still opens and says
plainly that it is offline; a person's data is never served from the cache."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import chromium, serve, sign_in

PASSWORD = "pwa test password"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_the_app_installs_and_opens_offline_saying_so(
    tmp_path_factory: pytest.TempPathFactory, quiet_site: Site, browser: Browser
) -> None:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("pwa"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
    )
    hub = Hub(settings, quiet_site, factories=())
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(serve(hub))
        hub.ctx.identity.ensure_user("staff", PASSWORD, [Role.STAFF], work_unit="u-office")
        with urllib.request.urlopen(f"{url}/manifest.webmanifest", timeout=10) as r:
            assert r.headers["content-type"].startswith("application/manifest+json")
            manifest = json.loads(r.read())
        assert manifest["display"] == "standalone"
        for icon in manifest["icons"]:
            with urllib.request.urlopen(f"{url}{icon['src']}", timeout=10) as r:
                assert r.headers["content-type"] == "image/png"
        context = browser.new_context(**PHONE)
        page = context.new_page()
        sign_in(page, url, "staff", PASSWORD, "/inbox.html")
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("link[rel=manifest]").get_attribute("href") == "/manifest.webmanifest"
        assert (
            page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)")
            == "activated"
        )
        page.reload()
        assert page.evaluate("Boolean(navigator.serviceWorker.controller)")
        expect(page.locator("#offline")).to_be_hidden()
        stack.close()  # the hub goes away (a phone out of reach, a server down)
        page.reload()
        expect(page.locator("h1")).to_have_text("消息")  # the shell, from the cache
        expect(page.locator("#offline")).to_be_visible()
        expect(page.locator("#offline")).to_contain_text("离线")
        expect(page.locator("#messages li")).to_have_count(0)  # no data from the cache
        context.close()
