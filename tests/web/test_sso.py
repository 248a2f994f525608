"""Single sign-on against a real OpenID Connect provider (the certified `oidc-provider` from
npm, run by node on a free loopback port): a person taps the provider's button on a phone,
signs in at the provider (its own login and consent pages), and lands on their home in the
hub, their roles and work unit taken from the ID token's claims by the settings' mapping;
local accounts still sign in. A forged or replayed callback does not sign anyone in."""

from __future__ import annotations

import contextlib
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.servers import free_port, terminate, wait_for_port
from tests.support.web import serve

PROVIDER = Path(__file__).parents[1] / "support" / "oidc"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SECRET = "client secret for the hub, in tests only"


@pytest.fixture(scope="module")
def hub_and_provider(
    tmp_path_factory: pytest.TempPathFactory, quiet_site: Site
) -> Iterator[tuple[Hub, str]]:
    if not (PROVIDER / "node_modules" / "oidc-provider").exists():
        pytest.fail("the OpenID Connect provider is missing: run scripts/setup.sh --test")
    port = free_port()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("sso"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
        oidc={
            "issuer": f"http://127.0.0.1:{port}",
            "client_id": "dayuan-hub",
            "client_secret": SECRET,
            "scopes": ["openid", "profile", "email"],
            "username_claim": "sub",
            "role_map": {"hub-security": ["security"], "hub-staff": ["staff"]},
        },
    )
    hub = Hub(settings, quiet_site, factories=())
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(serve(hub))
        node = subprocess.Popen(
            [
                "node",
                "provider.mjs",
                str(port),
                "dayuan-hub",
                SECRET,
                f"{url}/api/auth/oidc/callback",
            ],
            cwd=PROVIDER,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(terminate, node)
        wait_for_port(port, 30)
        hub.ctx.identity.ensure_user("admin-local", "break glass password", [Role.ADMIN])
        yield hub, url


def test_a_person_signs_in_through_the_provider_and_lands_home_with_mapped_roles(
    hub_and_provider: tuple[Hub, str], browser: Browser
) -> None:
    hub, url = hub_and_provider
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{url}/login.html?next=/inbox.html")
    sso = page.locator("#sso")
    expect(sso).to_have_text("统一身份认证登录")
    sso.click()
    # the provider's own pages: login (any password in its development mode), then consent
    page.wait_for_url("http://127.0.0.1:*/interaction/*")
    page.fill("input[name=login]", "wang.bao")
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")
    page.wait_for_selector("button[type=submit]")
    page.click("button[type=submit]")  # consent: the hub may read the profile
    page.wait_for_url(f"{url}/inbox.html*")
    page.wait_for_selector("body[data-ready='1']")
    me = page.evaluate(
        "fetch('/api/auth/me', {headers: {Authorization: 'Bearer ' + localStorage.getItem('hub.token')}}).then((r) => r.json())"
    )
    assert me["name"] == "wang.bao"
    assert me["roles"] == ["security"]  # from the `groups` claim by the role map
    assert me["work_unit"] == "u-security"
    user = hub.ctx.identity.get_user("wang.bao")
    assert user.display_name == "王保安"
    context.close()


def test_a_callback_not_begun_here_signs_nobody_in_and_local_accounts_still_work(
    hub_and_provider: tuple[Hub, str],
) -> None:
    _, url = hub_and_provider
    forged = urllib.request.Request(f"{url}/api/auth/oidc/callback?code=stolen&state=guess")
    opener = urllib.request.build_opener(_NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(forged, timeout=10)
    assert answer.value.code == 302
    location = answer.value.headers["location"]
    assert location.startswith("/login.html#sso_error=")
    assert "token=" not in location
    form = urllib.parse.urlencode(
        {"username": "admin-local", "password": "break glass password"}
    ).encode()
    with urllib.request.urlopen(f"{url}/api/auth/token", data=form, timeout=10) as r:
        assert r.status == 200  # the break-glass account beside the provider


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None
