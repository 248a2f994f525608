"""The booking pages in a real browser (Debian's chromium, Playwright): a staff member books
a room on the booking page, the door display shows the meeting and a QR code, a colleague's
phone opens the QR's link and is signed in; a dispatcher dispatches a car with one click."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.web import ARTIFACTS, serve, sign_in

PASSWORD = "booking page password"
SH = ZoneInfo("Asia/Shanghai")


class ShiftedClock:
    """Real time moved to 10:00 tomorrow in the site's time zone (the rooms' hours hold)."""

    def __init__(self) -> None:
        tomorrow = datetime.now(SH).date() + timedelta(days=1)
        self.local = datetime.combine(tomorrow, datetime.min.time(), SH).replace(hour=10)
        self.offset = self.local - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, demo_site: Site
) -> Iterator[tuple[Hub, str, ShiftedClock]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("booking-web"), secret_key="k" * 48, site_file=DEMO_SITE
    )
    hub = Hub(settings, demo_site, factories=())
    clock = ShiftedClock()
    assert hub.ctx.rooms is not None
    hub.ctx.rooms.clock = clock
    with serve(hub) as url:
        for name, unit, roles in (
            ("staff", "u-office", [Role.STAFF]),
            ("colleague", "u-office", [Role.STAFF]),
            ("teacher", "u-edu", [Role.STAFF]),
            ("door", "u-logistics", [Role.DISPLAY]),
            ("dispatcher", "u-logistics", [Role.DISPATCHER]),
            ("driver1", "u-logistics", [Role.STAFF]),
        ):
            hub.ctx.identity.ensure_user(name, PASSWORD, roles, work_unit=unit)
        yield hub, url, clock


def test_book_on_the_page_then_sign_in_from_the_door_qr_code(
    served: tuple[Hub, str, ShiftedClock], browser: Browser
) -> None:
    hub, url, clock = served
    context = browser.new_context(
        timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    sign_in(page, url, "staff", PASSWORD, "/rooms.html")
    page.wait_for_selector("#rooms tbody tr")
    page.select_option("select[name=room]", "r-b3-2")
    page.fill("input[name=date]", clock.local.strftime("%Y-%m-%d"))
    page.fill("input[name=from]", "10:05")
    page.fill("input[name=to]", "11:00")
    page.fill("input[name=title]", "培训：消防知识")
    page.click("#book button[type=submit]")
    page.wait_for_selector("#message.good")
    (booking,) = hub.ctx.rooms.find(room_id="r-b3-2")  # type: ignore[union-attr]
    assert (booking["organiser"], booking["title"]) == ("staff", "培训：消防知识")
    assert booking["start"] == (clock.local + timedelta(minutes=5)).astimezone(UTC).isoformat()
    # the same slot again: refused, and the page offers the waitlist
    page.click("#book button[type=submit]")
    page.wait_for_selector("#message.bad")
    refusal = page.text_content("#message") or ""  # in the page's language, the room by name
    assert "已被「培训：消防知识」占用" in refusal, refusal
    assert "r-b3-2" not in refusal
    assert page.is_visible("#wait")
    page.close()

    door = context.new_page()
    sign_in(door, url, "door", PASSWORD, "/door.html?room=r-b3-2", display=True)
    door.wait_for_selector("#qr[src^='data:image/svg+xml']")
    assert "培训：消防知识" in (door.text_content("#now") or "")
    code = door.get_attribute("#qr", "data-code")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    door.screenshot(path=str(ARTIFACTS / "door-display.png"))

    phone = browser.new_context(
        timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}
    ).new_page()
    # what the phone's camera opens: the QR code's link; signing in comes first
    phone.goto(f"{url}/checkin.html?room=r-b3-2&code={code}")
    phone.wait_for_url("**/login.html**")
    phone.fill("input[name=username]", "colleague")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("#login button[type=submit]")
    phone.wait_for_selector("#result.good")
    assert "培训：消防知识" in (phone.text_content("#result") or "")
    assert hub.ctx.rooms.get(booking["id"])["status"] == "checked_in"  # type: ignore[union-attr]
    context.close()


def test_a_dispatch_is_one_click_on_the_dispatchers_page(
    served: tuple[Hub, str, ShiftedClock], browser: Browser
) -> None:
    hub, url, _ = served
    assert hub.ctx.vehicles is not None
    teacher = Principal("teacher", frozenset({Role.STAFF}), "u-edu")
    start = datetime.now(UTC) + timedelta(hours=2)
    request = hub.ctx.vehicles.request(
        teacher,
        purpose="送考",
        destination="市教育考试院",
        passengers=3,
        start=start,
        end=start + timedelta(hours=3),
    )
    assert request["status"] == "approved"  # u-edu has no approvers: straight to dispatch
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, url, "dispatcher", PASSWORD, "/vehicles.html")
    card = page.locator(f"#dispatch-{request['id']}")
    card.wait_for()
    card.locator("button", has_text="派车").click()  # the free car and driver are preselected
    page.locator(f"#request-{request['id']}", has_text="已派车").wait_for()
    done = hub.ctx.vehicles.get(
        Principal("dispatcher", frozenset({Role.DISPATCHER})), request["id"]
    )
    assert done["status"] == "dispatched"
    assert (done["vehicle_id"], done["driver_id"]) == ("car-1", "d1")  # the smallest car that fits
    expect(page.locator(f"#request-{request['id']}")).to_contain_text("周司机")  # by name

    # a request approved while the page is open appears on the board by itself (no reload)
    later = hub.ctx.vehicles.request(
        teacher,
        purpose="取件",
        destination="区档案馆",
        passengers=1,
        start=start + timedelta(hours=4),
        end=start + timedelta(hours=5),
    )
    expect(page.locator(f"#dispatch-{later['id']}")).to_be_visible(timeout=10_000)
    page.close()

    # the driver's phone: departing without the odometer reading says what is missing
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in(phone, url, "driver1", PASSWORD, "/vehicles.html")
    trip = phone.locator(f"#request-{request['id']}")
    trip.get_by_role("button", name="出车").click()
    expect(phone.locator("#message")).to_have_text("请先填写里程表读数")
    trip.locator("input[name=odometer]").fill("12030")
    trip.get_by_role("button", name="出车").click()
    expect(phone.locator(f"#request-{request['id']}")).to_contain_text("已出车")
    # the request form starts at a time still ahead
    form_start = phone.evaluate(
        "() => new Date(`${document.forms.ask.date.value}T${document.forms.ask.from.value}`)"
        ".getTime() - Date.now()"
    )
    assert form_start > 0
    phone.close()
