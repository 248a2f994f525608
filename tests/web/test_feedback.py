"""Suggestions and complaints end to end in chromium at phone size: a staff member writes an
anonymous complaint with a photo and gets a follow-up code; it reaches the canteen's queue; it
is not answered in time, so the hub escalates it to the category's leader; the canteen
answers it late, closes it and puts it on the board; the writer — not signed in, with the code
alone — reads the answer and the escalation, and rates it; another person sees it on the board
with nobody's name. What the writer typed as markup is shown as text, never run."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from hub.identity import Role
from hub.runtime import Hub
from hub.site import Site
from tests.support.web import PHONE, accounts, demo_hub, on_phone, serve

PASSWORD = "feedback test password"
TITLE = "午餐的汤太咸<script>window.hacked = 1</script>"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[tuple[Hub, str]]:
    hub = demo_hub(tmp_path_factory.mktemp("feedback"), quiet_site)
    with serve(hub) as url:
        people = {
            "wen": ([Role.STAFF], "u-edu"),
            "zhao": ([Role.STAFF], "u-finance"),
            "cook": ([Role.CANTEEN], "u-logistics"),
            "manager": ([Role.MANAGER], "u-logistics"),
        }
        accounts(hub, PASSWORD, people)
        yield hub, url


def phone(browser: Browser, url: str, user: str, path: str) -> Page:
    return on_phone(browser, url, user, PASSWORD, path, timezone_id="Asia/Shanghai")


def test_an_anonymous_complaint_is_escalated_answered_late_and_rated_with_the_code_alone(
    served: tuple[Hub, str], browser: Browser, tmp_path: Path
) -> None:
    hub, url = served
    picture = tmp_path / "soup.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, "PNG")
    picture.write_bytes(buffer.getvalue())

    # she wrote it ten days ago (the service's clock says so while she sends it)
    service = hub.ctx.feedback
    real = service.clock
    service.clock = lambda: real() - timedelta(days=10)
    wen = phone(browser, url, "wen", "/feedback.html")
    wen.get_by_label("投诉").check()
    wen.select_option("#w-category", "canteen")
    expect(wen.locator("#w-route")).to_contain_text("机关事务管理中心")
    wen.fill("#w-title", TITLE)
    wen.fill("#w-body", "连续三天午餐的汤都很咸。")
    wen.select_option("#w-place", "building:b3")
    wen.set_input_files("#w-photos", str(picture))
    wen.check("#w-anon")
    wen.click("#w-send")
    expect(wen.locator("#w-code")).to_be_visible()
    code = wen.locator("#code").inner_text()
    assert len(code) == 19
    service.clock = real
    wen.click("[data-tab=mine]")  # anonymous: not among what she wrote under her name
    expect(wen.locator("#mine")).to_contain_text("暂无")

    cook = phone(browser, url, "cook", "/")
    expect(cook.locator("#queue-feedback_open")).to_contain_text("1")
    cook.click("#queue-feedback_open a")
    cook.wait_for_selector("body[data-ready='1']")
    row = cook.locator("#queue li").first
    expect(row).to_contain_text(TITLE)  # shown as typed
    expect(row).to_contain_text("匿名")
    assert cook.evaluate("window.hacked") is None

    # unanswered for ten days: the hub's watch (a job every minute) escalates it to the leader
    assert service.sweep() >= 1
    manager = phone(browser, url, "manager", "/inbox.html")
    expect(manager.locator("#messages li").filter(has_text="【督办】")).to_have_count(1)

    cook.reload()
    cook.wait_for_selector("body[data-ready='1']")
    cook.locator("#queue li").first.click()
    expect(cook.locator("#f-title")).to_have_text(TITLE)
    expect(cook.locator("#f-route")).to_contain_text("已超时")
    expect(cook.locator("#f-photos img")).to_have_count(1)
    cook.fill("#h-note", "汤的盐量本周核对一下")
    cook.click("[data-act=note]")  # the handlers' own note
    expect(cook.locator("#h-said")).to_have_text("已内部备注")
    cook.fill("#h-note", "已调整配方，汤减盐三成。")
    cook.click("[data-act=answer]")
    expect(cook.locator("#f-status")).to_have_text("已答复")
    cook.fill("#h-note", "已办结，欢迎继续监督。")
    cook.click("[data-act=close]")
    expect(cook.locator("#f-status")).to_have_text("已办结")
    cook.check("#h-public")
    expect(cook.locator("#h-said")).to_have_text("已上公开栏")

    # the writer, signed in nowhere, with the code alone
    stranger = browser.new_context(**PHONE, timezone_id="Asia/Shanghai").new_page()
    stranger.goto(f"{url}/followup.html")
    stranger.wait_for_selector("body[data-ready='1']")
    stranger.fill("#code", code.lower())
    stranger.click("#ask button[type=submit]")
    expect(stranger.locator("#f-reply")).to_have_text("答复: 已调整配方，汤减盐三成。")
    expect(stranger.locator("#f-log")).to_contain_text("督办")
    expect(stranger.locator("#f-log")).not_to_contain_text("盐量")  # the handlers' note
    expect(stranger.locator("#f-photos img")).to_have_count(1)
    stranger.get_by_label("4 分").check()
    stranger.fill("#rate-note", "好多了")
    stranger.click("#rate button[type=submit]")
    expect(stranger.locator("#f-rated")).to_have_text("评价 4/5 · 好多了")
    assert stranger.evaluate("localStorage.getItem('hub.token')") is None
    assert stranger.evaluate("window.hacked") is None

    # a wrong code says so, and reveals nothing
    stranger.click("#back")
    stranger.fill("#code", "AAAA-BBBB-CCCC-DDDD")
    stranger.click("#ask button[type=submit]")
    expect(stranger.locator("#error")).to_have_text("没有这个查询码，请核对")

    zhao = phone(browser, url, "zhao", "/feedback.html")
    zhao.click("[data-tab=board]")
    shown = zhao.locator("#board li").first
    expect(shown).to_contain_text("已调整配方")
    shown.click()
    expect(zhao.locator("#f-meta")).to_contain_text("匿名")
    expect(zhao.locator("#handle")).to_be_hidden()
