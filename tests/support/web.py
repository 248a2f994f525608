"""Serving a hub on loopback for browser tests, and the browser (Debian's chromium)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.support.servers import free_port, wait_for_port

DEMO_SITE = Path(__file__).parents[2] / "hub" / "demo" / "site.yaml"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots the tests save for people to look at (CI keeps the folder).
ARTIFACTS = Path(os.environ.get("HUB_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))


def demo_hub(folder: Path, site: Site) -> Hub:
    """A hub on the demo site's settings (no adapters, no MQTT ingest), its data in `folder`."""
    settings = Settings(
        data_dir=folder, secret_key="k" * 48, site_file=DEMO_SITE, mqtt={"ingest": False}
    )
    return Hub(settings, site, factories=())


def accounts(hub: Hub, password: str, people: dict[str, tuple[list[Role], str]]) -> None:
    """The people a test signs in as: username -> (roles, work unit), one password."""
    for name, (roles, unit) in people.items():
        hub.ctx.identity.ensure_user(name, password, roles, work_unit=unit)


@contextlib.contextmanager
def serve(hub: Hub) -> Iterator[str]:
    """The hub's app under uvicorn in a thread on a free loopback port; yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(hub.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    wait_for_port(port, 30)
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@contextlib.contextmanager
def chromium(camera: Path | None = None) -> Iterator[Browser]:
    """Headless chromium driven by Playwright; with `camera` (a .y4m video), a phone camera
    that films it (chromium's fake capture device, permission granted)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: run scripts/setup.sh --test")
    args = list(ARGS)
    if camera is not None:
        args += [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
        ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            browser.close()


# A phone's browser: the screen the staff pages are made for.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}


def on_phone(
    browser: Browser, url: str, user: str, password: str, path: str = "/", **context: Any
) -> Page:
    """A phone signed in as `user`, on `path` once the page is ready (`context`: more of the
    browser context's options, e.g. its time zone). The home is reached as a person reaches
    it: the login page, no `next`."""
    page = browser.new_context(**{**PHONE, **context}).new_page()
    if path == "/":
        page.goto(f"{url}/login.html")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password)
        page.click("#login button[type=submit]")
        page.wait_for_url(f"{url}/")
    else:
        sign_in(page, url, user, password, path)
    page.wait_for_selector("body[data-ready='1']")
    return page


def sign_in(
    page: Page, url: str, user: str, password: str, next_page: str, *, display: bool = False
) -> None:
    """Sign in through the login page and land on `next_page`."""
    page.goto(f"{url}/login.html?next={next_page}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    if display:
        page.check("input[name=display]")
    page.click("#login button[type=submit]")
    page.wait_for_url(f"{url}{next_page}*")


def filmed(image_png: bytes, path: Path, *, width: int = 640, height: int = 480) -> Path:
    """A still picture (a QR code on a checkpoint's display) as the y4m video chromium's fake
    camera plays: the picture centred on white, grey in the Y plane, neutral chroma."""
    from PIL import Image

    picture = Image.open(io.BytesIO(image_png)).convert("L")
    picture.thumbnail((height - 40, height - 40))
    frame = Image.new("L", (width, height), 255)
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2)
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return path
