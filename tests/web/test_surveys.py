"""Questionnaires end to end in chromium at phone size: the office makes an anonymous
questionnaire for one work unit; a member finds it on her home, saves a draft, comes back to
it and submits it; she cannot answer a second time, not even from another browser; a colleague
answers too; the office watches the results and exports them — and the export holds nothing of
who answered."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from hub.identity import Role
from hub.runtime import Hub
from hub.site import Site
from tests.support.web import accounts, demo_hub, on_phone, serve

PASSWORD = "surveys test password"
TITLE = "食堂满意度调查<img src=x onerror=window.hacked=1>"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, quiet_site: Site) -> Iterator[tuple[Hub, str]]:
    hub = demo_hub(tmp_path_factory.mktemp("surveys"), quiet_site)
    with serve(hub) as url:
        people = {
            "office": ([Role.MANAGER], "u-office"),
            "li": ([Role.STAFF], "u-edu"),
            "wang": ([Role.STAFF], "u-edu"),
        }
        accounts(hub, PASSWORD, people)
        yield hub, url


def phone(browser: Browser, url: str, user: str, path: str) -> Page:
    return on_phone(browser, url, user, PASSWORD, path, timezone_id="Asia/Shanghai")


def answer(page: Page, often: str, taste: str) -> None:
    page.locator("#q-q1").get_by_label(often).check()
    page.locator("#q-q2").get_by_label(taste, exact=True).check()


def test_an_anonymous_questionnaire_takes_one_answer_each_and_its_export_names_nobody(
    served: tuple[Hub, str], browser: Browser
) -> None:
    _, url = served
    office = phone(browser, url, "office", "/surveys.html")
    office.fill("#f-title", TITLE)
    office.get_by_label("区教育局").check()
    office.check("#f-anon")
    closes = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(days=2)
    office.fill("#f-closes", closes.strftime("%Y-%m-%dT%H:%M"))
    first = office.locator("#f-questions fieldset").nth(0)
    first.locator("[name=title]").fill("多久来一次食堂")
    first.locator("[name=options]").fill("每天\n每周几次\n很少")
    first.locator("[name=required]").check()
    office.click("#add-q")
    second = office.locator("#f-questions fieldset").nth(1)
    second.locator("[name=type]").select_option("scale")
    second.locator("[name=title]").fill("口味打几分")
    office.click("#publish")
    expect(office.locator("#f-said")).to_have_text("已发布，2 个问题")

    li = phone(browser, url, "li", "/")
    item = li.locator("#items li", has_text="食堂满意度调查")
    expect(item).to_contain_text("去填写")
    item.click()
    li.wait_for_url("**/surveys.html#survey=*")
    expect(li.locator("#s-title")).to_have_text(TITLE)  # as text
    assert li.evaluate("window.hacked") is None
    answer(li, "很少", "2")
    li.click("#save")
    expect(li.locator("#a-said")).to_have_text("已保存，可稍后继续")
    li.reload()  # later: the draft is there (its token is in this browser)
    li.wait_for_selector("body[data-ready='1']")
    expect(li.locator("#q-q1").get_by_label("很少")).to_be_checked()
    li.locator("#q-q2").get_by_label("4", exact=True).check()
    li.click("#submit")
    expect(li.locator("#a-said")).to_have_text("已提交，谢谢！")
    li.reload()
    li.wait_for_selector("body[data-ready='1']")
    expect(li.locator("#submit")).to_be_hidden()

    # a second answer from another browser (no token there): refused, nothing to submit
    elsewhere = phone(browser, url, "li", "/surveys.html")
    elsewhere.locator("#surveys li").first.click()
    expect(elsewhere.locator("#a-said")).to_contain_text("另一个浏览器参与过")
    expect(elsewhere.locator("#submit")).to_be_hidden()

    wang = phone(browser, url, "wang", "/surveys.html")
    wang.locator("#surveys li").first.click()
    answer(wang, "每天", "5")
    wang.click("#submit")
    expect(wang.locator("#a-said")).to_have_text("已提交，谢谢！")

    office.reload()
    office.wait_for_selector("body[data-ready='1']")
    office.locator("#authored li").first.click()
    expect(office.locator("#r-meta")).to_contain_text("2 人已提交")
    bars = office.locator("#tally section").first.locator(".bar")
    expect(bars.nth(0)).to_contain_text("每天")
    expect(bars.nth(0).locator(".n")).to_have_text("1")
    expect(bars.nth(2).locator(".n")).to_have_text("1")
    expect(office.locator("#tally section").nth(1)).to_contain_text("平均 4.5")
    with office.expect_download() as got:
        office.click("#csv")
    text = got.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    assert rows[0][:2] == ["编号 id", "日期 day"]
    assert "填写人 person" not in rows[0]
    assert not any(name in text for name in ("li", "wang", "u-edu", "区教育局"))
    assert sorted(r[2] for r in rows[1:]) == ["很少", "每天"]
