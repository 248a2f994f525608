"""Notices end to end in chromium at phone size: the office publishes a notice that must be
acknowledged to one work unit; one of its people finds it on the home, reads and acknowledges
it; the office sees who has not, reminds them once, and the straggler finds both messages in
the inbox. What the author typed as markup is shown as text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hub.identity import Role
from hub.runtime import Hub
from hub.site import Site
from tests.support.web import demo_hub, on_phone, serve, sign_in

PASSWORD = "notices test password"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[tuple[Hub, str]]:
    hub = demo_hub(tmp_path_factory.mktemp("notices"), quiet_site)
    with serve(hub) as url:
        ids = hub.ctx.identity
        ids.ensure_user("office", PASSWORD, [Role.MANAGER, Role.STAFF], work_unit="u-office")
        for name, unit in (("li", "u-edu"), ("wang", "u-edu"), ("zhao", "u-finance")):
            ids.ensure_user(name, PASSWORD, [Role.STAFF], work_unit=unit)
        ids.ensure_user("door", PASSWORD, [Role.DISPLAY], work_unit="u-logistics")
        yield hub, url


def phone(browser: Browser, url: str, user: str, path: str) -> Page:
    return on_phone(browser, url, user, PASSWORD, path, timezone_id="Asia/Shanghai")


def test_a_notice_to_acknowledge_reaches_its_unit_and_the_author_reminds_the_stragglers(
    served: tuple[Hub, str], browser: Browser
) -> None:
    _, url = served
    office = phone(browser, url, "office", "/notices.html")
    office.fill("#f-title", "关于周五消防演练的通知")
    office.fill("#f-body", "请于周五 15:00 到广场集合。\n\n<script>window.hacked = 1</script>")
    office.get_by_label("区教育局").check()
    office.check("#f-ack")
    office.click("#publish")
    expect(office.locator("#f-said")).to_have_text("已发布，2 人将收到")
    expect(office.locator("#authored li").first).to_contain_text("2 人中 0 人已读")

    li = phone(browser, url, "li", "/")
    item = li.locator("#items li", has_text="关于周五消防演练的通知")
    expect(item).to_contain_text("去确认")
    item.click()
    li.wait_for_url("**/notices.html#notice=*")
    expect(li.locator("#n-title")).to_have_text("关于周五消防演练的通知")
    expect(li.locator("#n-body")).to_contain_text("<script>window.hacked = 1</script>")
    assert li.evaluate("window.hacked") is None  # shown as text, never run
    li.click("#ack")
    expect(li.locator("#acked")).to_contain_text("已确认")
    li.goto(f"{url}/")
    li.wait_for_selector("body[data-ready='1']")
    expect(li.locator("#items li", has_text="关于周五消防演练的通知")).to_have_count(0)

    zhao = phone(browser, url, "zhao", "/notices.html")  # another unit: not for them
    expect(zhao.locator("#notices")).to_contain_text("没有通知")

    office.reload()
    office.wait_for_selector("body[data-ready='1']")
    office.locator("#authored li").first.click()
    expect(office.locator("#r-counts")).to_have_text("2 人中 1 人已读，1 人已确认")
    expect(office.locator("#stragglers li")).to_have_count(1)
    expect(office.locator("#stragglers li")).to_contain_text("wang")
    expect(office.locator("#stragglers li")).to_contain_text("未读")
    office.click("#remind")
    expect(office.locator("#r-said")).to_have_text("已提醒 1 人")
    expect(office.locator("#remind")).to_be_disabled()

    wang = phone(browser, url, "wang", "/inbox.html")
    messages = wang.locator("#messages li")
    expect(messages.filter(has_text="【提醒】关于周五消防演练的通知")).to_have_count(1)
    expect(messages.filter(has_text="【请确认】关于周五消防演练的通知")).to_have_count(1)


def test_a_notice_with_an_attachment_for_a_building_is_downloaded_and_shown_on_the_doors(
    served: tuple[Hub, str], browser: Browser, tmp_path: Path
) -> None:
    _, url = served
    plan = tmp_path / "停水安排.pdf"
    plan.write_bytes(b"%PDF-1.4 water off on Saturday")
    office = phone(browser, url, "office", "/notices.html")
    office.fill("#f-title", "2号楼周六停水")
    office.fill("#f-body", "周六 8:00-12:00 停水，安排见附件。")
    office.locator("#f-buildings").get_by_label("2号办公楼").check()
    office.set_input_files("#f-files", str(plan))
    office.check("#f-display")
    office.click("#publish")
    expect(office.locator("#f-said")).to_have_text(
        "已发布，2 人将收到"
    )  # li and wang: 区教育局 is in 2号办公楼

    li = phone(browser, url, "li", "/notices.html")
    li.locator("#notices li", has_text="2号楼周六停水").click()
    link = li.locator("#n-files a")
    expect(link).to_contain_text("停水安排.pdf")
    with li.expect_download() as got:
        link.click()
    assert got.value.suggested_filename == "停水安排.pdf"
    assert Path(got.value.path()).read_bytes() == plan.read_bytes()

    door = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(door, url, "door", PASSWORD, "/door.html?room=r-101", display=True)
    expect(door.locator("#notices")).to_contain_text("2号楼周六停水")
