"""The main tasks walked from the home page on a phone (chromium, 390×844), counting taps and
seconds, as the platform this replaces is measured (a room booked in 5 minutes, a car
dispatched in 30 seconds): book a room, ask for a car, register a visitor with a car, report
a repair with a photo, rate it, approve a request.

A tap is a click or the touch that focuses a field to type in it; the seconds are the
browser's from the first tap to the page saying it is done (the hub's and the page's share of
the task, not a person's reading and typing). The counts are asserted where the issue set a
goal (a room in at most 4 taps); the seconds are measured and written to
test-artifacts/tasks.json, never asserted."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import ARTIFACTS, on_phone, serve

PASSWORD = "tasks password"
RESULTS: dict[str, dict[str, Any]] = {}


class Walk:
    """A person's walk through one task: taps counted, seconds from the first tap."""

    def __init__(self, page: Page, task: str) -> None:
        self.page, self.task, self.taps = page, task, 0
        self.started: float | None = None

    def _tap(self) -> None:
        self.taps += 1
        if self.started is None:
            self.started = time.perf_counter()

    def tap(self, selector: str) -> None:
        self._tap()
        self.page.locator(selector).first.tap()

    def type(self, selector: str, text: str) -> None:
        """Touch a field, then type (typing is not a tap)."""
        self._tap()
        field = self.page.locator(selector).first
        field.tap()
        field.fill(text)

    def choose_photo(self, selector: str, photo: bytes) -> None:
        self._tap()  # the file picker: one tap to take or pick the photo
        self.page.set_input_files(
            selector, files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo}]
        )

    def done(self) -> dict[str, Any]:
        assert self.started is not None
        result = {"taps": self.taps, "seconds": round(time.perf_counter() - self.started, 2)}
        RESULTS[self.task] = result
        return result


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[tuple[Hub, str]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("tasks"),
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
    )
    hub = Hub(settings, quiet_site, factories=())
    with serve(hub) as url:
        for name, roles in (("staff", [Role.STAFF]), ("leader", [Role.STAFF])):
            hub.ctx.identity.ensure_user(name, PASSWORD, roles, work_unit="u-office")
        hub.ctx.identity.ensure_user(
            "tech-elec", PASSWORD, [Role.TECHNICIAN], work_unit="u-logistics"
        )
        yield hub, url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "tasks.json").write_text(json.dumps(RESULTS, ensure_ascii=False, indent=1))


def home(browser: Browser, url: str, user: str) -> Page:
    """Signed in once, on the home page (the phone keeps the session)."""
    return on_phone(browser, url, user, PASSWORD, timezone_id="Asia/Shanghai")


def phone_photo() -> bytes:
    """A photo as a phone takes it: 4000×3000, a few megabytes of JPEG."""
    picture = Image.effect_noise((4000, 3000), 60).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95)
    return out.getvalue()


def test_book_a_room_in_at_most_four_taps(served: tuple[Hub, str], browser: Browser) -> None:
    hub, url = served
    page = home(browser, url, "staff")
    walk = Walk(page, "book a room")
    walk.tap("#tile-rooms")
    page.wait_for_selector("#rooms tbody tr")
    walk.type("input[name=title]", "项目推进会")  # room, day and an hour ahead are preset
    walk.tap("#book button[type=submit]")
    expect(page.locator("#message")).to_have_class("good")
    result = walk.done()
    assert result["taps"] <= 4
    booked = hub.ctx.rooms.find(organiser="staff")  # type: ignore[union-attr]
    assert [b["title"] for b in booked] == ["项目推进会"]
    page.context.close()


def test_ask_for_a_car_and_its_approver_approves_from_the_home(
    served: tuple[Hub, str], browser: Browser
) -> None:
    hub, url = served
    page = home(browser, url, "staff")
    walk = Walk(page, "ask for a car")
    walk.tap("#tile-vehicles")
    walk.type("input[name=purpose]", "调研")
    walk.type("input[name=destination]", "区政务中心")
    walk.tap("#ask button[type=submit]")
    expect(page.locator("#message")).to_contain_text("已提交")
    walk.done()
    page.context.close()

    page = home(browser, url, "leader")
    walk = Walk(page, "approve a request")
    walk.tap("#waiting li")
    request = page.locator("#requests article", has_text="区政务中心").first
    walk.tap("#requests article:has-text('区政务中心') button:has-text('同意')")
    expect(request).to_contain_text("待派车")
    walk.done()
    leader = Principal("leader", frozenset({Role.STAFF}), "u-office")
    (mine,) = hub.ctx.vehicles.find(leader, status="open")  # type: ignore[union-attr]
    assert mine["status"] == "approved"
    page.context.close()


def test_register_a_visitor_with_a_car(served: tuple[Hub, str], browser: Browser) -> None:
    _, url = served
    page = home(browser, url, "staff")
    walk = Walk(page, "register a visitor with a car")
    walk.tap("#tile-visits")
    walk.type("input[name=purpose]", "商务洽谈")
    walk.type("#people input[name=name]", "王小明")
    walk.type("#people input[name=phone]", "13800000000")
    walk.type("#people input[name=plate]", "浙A12345")
    walk.tap("#invite button[type=submit]")
    expect(page.locator("#message")).to_have_text("已登记")
    walk.done()
    expect(page.locator("#visits article").first).to_contain_text("王小明 浙A12345")
    page.context.close()


def test_report_a_repair_with_a_photo_then_rate_it(
    served: tuple[Hub, str], browser: Browser
) -> None:
    hub, url = served
    page = home(browser, url, "staff")
    walk = Walk(page, "report a repair with a photo")
    walk.tap("#tile-report")
    walk.type("input[name=location]", "1号楼3层东侧走廊")
    walk.type("textarea[name=description]", "走廊灯不亮")
    walk.choose_photo("input[name=photo]", phone_photo())
    walk.tap("#report button[type=submit]")
    page.wait_for_selector("#done:not([hidden])", timeout=30_000)
    walk.done()
    number = int((page.text_content("#ticket-no") or "#0").lstrip("#"))
    page.context.close()

    technician = Principal("tech-elec", frozenset({Role.TECHNICIAN}), "u-logistics")
    dispatcher = Principal("dispatcher", frozenset({Role.DISPATCHER}), "u-logistics")
    tickets = hub.ctx.tickets
    ticket = tickets.get(number, dispatcher)
    assert ticket["photo"], "the photo was kept"
    tickets.assign(number, dispatcher, "t-elec")
    tickets.accept(number, technician)
    tickets.start(number, technician)
    tickets.resolve(number, technician, "换了灯管", [])

    page = home(browser, url, "staff")
    walk = Walk(page, "rate a repair")
    walk.tap(f"#repair-{number}")  # "去评价" on the home
    walk.tap(f"#my-{number} button:has-text('评价')")  # five stars preset
    expect(page.locator(f"#my-{number}")).to_contain_text("已评价")
    walk.done()
    page.context.close()
