"""The pages under the hub's Content-Security-Policy in a real browser: every page loads with
no script refused (no inline script is left), answers carry the security headers, a sign-in
link cannot send a person to another site, and a link with someone's token does not replace
the signed-in person."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.support.web import serve, sign_in

PASSWORD = "browser test password"
WEB = Path(__file__).resolve().parents[2] / "web"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[tuple[Hub, str]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("web"), secret_key="k" * 48)
    hub = Hub(settings, quiet_site, factories=())
    with serve(hub) as url:
        hub.ctx.identity.ensure_user("admin", PASSWORD, [Role.ADMIN], work_unit="u-office")
        hub.ctx.identity.ensure_user("staff", PASSWORD, [Role.STAFF], work_unit="u-office")
        yield hub, url


def test_every_page_loads_without_a_csp_violation(
    served: tuple[Hub, str], browser: Browser
) -> None:
    _, url = served
    page = browser.new_page(viewport={"width": 390, "height": 844})
    refused: list[str] = []

    def watch(msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text or "Refused to" in msg.text:
            refused.append(f"{page.url}: {msg.text}")

    page.on("console", watch)
    sign_in(page, url, "admin", PASSWORD, "/console.html")
    pages = sorted(p.name for p in WEB.glob("*.html"))
    assert len(pages) >= 15
    for name in pages:
        answer = page.goto(f"{url}/{name}")
        assert answer is not None
        assert answer.ok, name
        headers = answer.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert (
            "unsafe-inline"
            not in headers["content-security-policy"].split("script-src")[1].split(";")[0]
        )
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        page.wait_for_load_state("networkidle")
    assert refused == []
    docs = page.goto(f"{url}/api/docs")
    assert docs is not None
    page.wait_for_selector(".swagger-ui .info")  # Swagger UI, served by the hub itself
    assert refused == []


def test_a_sign_in_link_never_leads_to_another_site(
    served: tuple[Hub, str], browser: Browser
) -> None:
    _, url = served
    page = browser.new_page()
    for evil in ("/%5Cevil.example", "//evil.example", "https://evil.example/", "/\\evil.example"):
        page.goto(f"{url}/login.html?next={evil}")
        page.fill("input[name=username]", "staff")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_load_state("load")
        assert page.url.startswith(url), (evil, page.url)


def test_a_link_with_a_token_does_not_replace_the_signed_in_person(
    served: tuple[Hub, str], browser: Browser
) -> None:
    hub, url = served
    page = browser.new_page()
    sign_in(page, url, "staff", PASSWORD, "/rooms.html")
    mine = page.evaluate("localStorage.getItem('hub.token')")
    theirs = hub.ctx.identity.login("admin", PASSWORD)
    page.goto(f"{url}/rooms.html#token={theirs}")  # not a display page: ignored
    page.goto(f"{url}/wall.html#token={theirs}")  # a display page, but a working session
    page.wait_for_load_state("networkidle")
    assert page.evaluate("localStorage.getItem('hub.token')") == mine
    assert "token" not in page.url
