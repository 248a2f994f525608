"""Guard tours that prove presence, with the acceptance-style traffic: ESPresense gateways over
a real Mosquitto, the hub served on loopback, guards' phones in headless chromium at phone size
(the camera filming a checkpoint's display), the security room's console and wall.

- a badge reported far from a checkpoint (the issue's 15.2 m, -88 dBm, "close": false) does not
  visit it; a close one does;
- a checkpoint's code scanned at once visits, scanned twice is a replay, and a photo of an
  earlier code is refused;
- the guard's phone shows the tour, the next checkpoint and its deadline, and checks in by
  scanning the display's QR code with the camera;
- the console and the wall speak Chinese (and English by the switch).
"""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho
import pytest
import segno
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Browser, Page, expect

from hub.domain.patrol import Evidence, Method, TourRecord, Visit
from hub.identity import Role
from hub.runtime import Hub, adapter_components
from hub.settings import Settings
from hub.site import Site
from hub.site.patrol import PatrolSettings
from hub.site.rules import MissedPatrolRule
from hub.storage.patrol import keep_tour
from tests.conftest import DEMO_SITE
from tests.support.servers import mosquitto_server
from tests.support.waiting import wait_for
from tests.support.web import ARTIFACTS, chromium, filmed, serve, sign_in

PASSWORD = "patrol test password"
G1_BADGE = "fda50693-a4e2-4fb1-afcf-c6eb07647825-1-1"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def compound(
    tmp_path_factory: pytest.TempPathFactory, demo_site: Site
) -> Iterator[tuple[Hub, str, int]]:
    """The demo compound without devices; the west round's tour starts two seconds in, every
    checkpoint due at once with ten minutes' grace but the switch room (missed in seconds)."""
    tz = ZoneInfo(demo_site.site.timezone)
    start = (datetime.now(UTC) + timedelta(seconds=2)).astimezone(tz)
    route = next(r for r in demo_site.patrol_routes if r.id == "route-west")
    rule = MissedPatrolRule(
        id="west-tour",
        kind="missed_patrol",
        route="route-west",
        schedule=f"FREQ=DAILY;BYHOUR={start.hour};BYMINUTE={start.minute};BYSECOND={start.second}",
        windows={
            cp: {"at_min": 0, "grace_min": 0.05 if cp == "cp-plant" else 10}
            for cp in route.checkpoints
        },
        late_min=30,
    )
    # checkpoints reached within seconds of each other (a test's pace): the walking-speed
    # check is tested on its own (tests/rules/test_patrol_proof.py)
    site_info = demo_site.site.model_copy(update={"patrol": PatrolSettings(slack_m=500)})
    site = demo_site.model_copy(update={"devices": [], "rules": [rule], "site": site_info})
    with mosquitto_server() as broker:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("patrol"),
            secret_key="k" * 48,
            site_file=DEMO_SITE,
            mqtt={"embedded": False, "host": "127.0.0.1", "port": broker.port},
            live={"rate_hz": 4, "summary_s": 1},
        )
        hub = Hub(settings, site, factories=(adapter_components,))
        with serve(hub) as url:
            for name, roles in (
                ("guard1", [Role.SECURITY]),
                ("guard-room", [Role.SECURITY]),
                ("wall", [Role.DISPLAY]),
                ("manager", [Role.MANAGER]),
            ):
                hub.ctx.identity.ensure_user(name, PASSWORD, roles)
            yield hub, url, broker.port


def token(url: str, user: str) -> dict[str, str]:
    form = urllib.parse.urlencode({"username": user, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{url}/api/auth/token", data=form, timeout=10) as r:
        return {"Authorization": f"Bearer {json.loads(r.read())['access_token']}"}


def api(url: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{url}{path}", data=data, headers={**headers, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def checkpoints(url: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    _, me = api(url, "/api/patrol/me", headers)
    (west,) = [r for r in me["routes"] if r["route"] == "route-west"]
    return {c["id"]: c for c in west["checkpoints"]}


def gateway(port: int) -> paho.Client:
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id="espresense-gw"
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def report(client: paho.Client, room: str, **fields: Any) -> None:
    payload = {"id": f"iBeacon:{G1_BADGE}", "ts": datetime.now(UTC).timestamp(), **fields}
    client.publish(
        f"espresense/devices/iBeacon:{G1_BADGE}/{room}", json.dumps(payload), qos=1
    ).wait_for_publish(10)


def test_a_badge_far_from_a_checkpoint_does_not_visit_it_and_a_close_one_does(
    compound: tuple[Hub, str, int],
) -> None:
    _, url, port = compound
    guard = token(url, "guard1")
    wait_for(lambda: checkpoints(url, guard) or None, "the west round's tour to open")
    gw = gateway(port)
    try:
        for _ in range(10):  # through a wall, from the corridor: reported again and again
            report(gw, "cp-parking", rssi=-88, distance=15.2, close=False)
        for _ in range(3):
            report(gw, "cp-main-gate", rssi=-61, distance=1.4, close=True)
    finally:
        gw.disconnect()
        gw.loop_stop()
    gate = wait_for(
        lambda: checkpoints(url, guard)["cp-main-gate"]["visited_at"] and checkpoints(url, guard),
        "the close badge's visit",
    )
    assert gate["cp-main-gate"]["proof"] == ["ble"]
    assert gate["cp-main-gate"]["by"] == "g1"
    assert gate["cp-parking"]["visited_at"] is None  # ten far reports: no visit


def test_a_scanned_code_visits_once_and_a_photo_of_an_earlier_one_is_refused(
    compound: tuple[Hub, str, int],
) -> None:
    hub, url, _ = compound
    guard, wall = token(url, "guard1"), token(url, "wall")
    status, shown = api(url, "/api/patrol/checkpoints/cp-b3/code", wall)
    assert status == 200
    assert shown["payload"] == f"DYP1:cp-b3:{shown['code']}"
    assert shown["qr"].startswith("data:image/svg+xml;base64,")
    status, first = api(url, "/api/patrol/scans", guard, {"payload": shown["payload"]})
    assert (status, first["accepted"], first["name"]) == (201, True, "综合服务楼后门")
    status, again = api(url, "/api/patrol/scans", guard, {"payload": shown["payload"]})
    assert (status, again["reason"]) == (409, "replayed")
    photo = hub.ctx.patrol.codes.show("cp-b3", datetime.now(UTC) - timedelta(minutes=3))
    status, old = api(url, "/api/patrol/scans", guard, {"payload": photo.payload})
    assert (status, old["reason"]) == (410, "expired")
    status, wrong = api(url, "/api/patrol/scans", guard, {"payload": "DYP1:cp-b3:00000000"})
    assert (status, wrong["reason"]) == (422, "wrong")
    visited = wait_for(
        lambda: checkpoints(url, guard)["cp-b3"]["visited_at"] and checkpoints(url, guard),
        "the code's visit",
    )
    assert visited["cp-b3"]["proof"] == ["code"]
    # the desk sees the refusals as the report will count them
    desk = token(url, "guard-room")
    status, _ = api(url, "/api/patrol/scans", desk, {"payload": shown["payload"]})
    assert status == 404  # the desk's account is nobody's on a round


def test_the_guards_phone_shows_the_tour_and_checks_in_with_the_camera(
    compound: tuple[Hub, str, int], tmp_path: Path
) -> None:
    hub, url, _ = compound
    guard = token(url, "guard1")
    wait_for(lambda: checkpoints(url, guard)["cp-plant"]["missed"], "the switch room to be missed")
    shown = hub.ctx.patrol.codes.show("cp-b1-north", datetime.now(UTC))
    link = f"{url}/guard.html#scan={shown.payload}"
    png = io.BytesIO()
    segno.make(link, error="m").save(png, kind="png", scale=6, border=4)
    camera = filmed(png.getvalue(), tmp_path / "display.y4m")
    with chromium(camera=camera) as phone_browser:
        context = phone_browser.new_context(**PHONE)
        context.grant_permissions(["camera"], origin=url)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, url, "guard1", PASSWORD, "/guard.html")
        page.wait_for_selector("body[data-ready='1']")
        west = page.locator("#route-route-west")
        expect(west).to_contain_text("西线巡逻")
        expect(west.locator(".next")).to_contain_text("下一点")
        expect(page.locator("#cp-cp-main-gate")).to_contain_text("✓")  # the badge's visit
        expect(page.locator("#cp-cp-main-gate")).to_contain_text("蓝牙")
        page.click("#scan")
        expect(page.locator("#result")).to_contain_text("已签到", timeout=20_000)
        expect(page.locator("#result")).to_contain_text("1号楼北侧")
        expect(page.locator("#cp-cp-b1-north")).to_contain_text("扫码", timeout=20_000)
        expect(page.locator("#cp-cp-plant")).to_contain_text("漏巡")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "guard-phone.png"), full_page=True)
        # a code typed by hand when the camera fails: an old one is refused in words
        photo = hub.ctx.patrol.codes.show("cp-parking", datetime.now(UTC) - timedelta(minutes=5))
        page.select_option("#typed-cp", "cp-parking")
        page.fill("#typed-code", photo.code)
        page.click("#typed button[type=submit]")
        expect(page.locator("#error")).to_contain_text("已过期")
        assert errors == []
        context.close()


def console(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, url, "guard-room", PASSWORD, "/console.html")
    return page


def test_the_console_and_the_wall_speak_chinese_and_english_by_the_switch(
    compound: tuple[Hub, str, int], browser: Browser
) -> None:
    _, url, _ = compound
    page = console(browser, url)
    row = page.locator("#alarms tbody tr", has_text="巡更漏检").first
    expect(row).to_contain_text("西线巡逻：配电房 未在", timeout=20_000)
    expect(row).to_contain_text("西线巡逻/配电房")
    page.click("#lang")
    row = page.locator("#alarms tbody tr", has_text="patrol missed").first
    expect(row).to_contain_text("West round: Switch room not visited by")
    expect(row).to_contain_text("West round/Switch room")
    page.click("#lang")  # back to Chinese for the next page
    page.close()
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(wall, url, "wall", PASSWORD, "/wall.html", display=True)
    wall.wait_for_selector("body[data-ready='1']", timeout=20_000)
    progress = wall.locator("#route-route-west")
    expect(progress).to_contain_text("西线巡逻")
    expect(progress).to_contain_text("下一点 停车场")
    expect(progress).to_contain_text("漏检 1")
    missed = wall.locator("#alarms li", has_text="巡更漏检").first
    expect(missed).to_contain_text("配电房")  # where the alarm is, by its name
    expect(missed).to_have_attribute(
        "title", re.compile("^西线巡逻：配电房 未在 \\d\\d:\\d\\d 前巡到$")
    )
    wall.screenshot(path=str(ARTIFACTS / "wall-patrol.png"))
    wall.close()


def test_a_manager_reads_last_months_patrol_report_and_downloads_it(
    compound: tuple[Hub, str, int], browser: Browser
) -> None:
    hub, url, _ = compound
    tz = ZoneInfo(hub.ctx.site.site.timezone)
    first = datetime.now(tz).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    start = (first - timedelta(days=3)).astimezone(UTC)  # a tour in last month
    month = (first - timedelta(days=3)).strftime("%Y-%m")
    gate = Evidence(
        Method.BLE, start + timedelta(minutes=1), {"distance_m": 1.2, "reports": 3, "seconds": 4.0}
    )
    record = TourRecord(
        rule="west-tour",
        route="route-west",
        start=start,
        end=start + timedelta(minutes=55),
        checkpoints=("cp-main-gate", "cp-parking"),
        guards=("g1",),
        visits=(Visit("cp-main-gate", start + timedelta(minutes=1), "g1", False, (gate,)),),
    )
    with hub.ctx.db.session() as s:
        keep_tour(s, record)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, url, "manager", PASSWORD, f"/patrol.html?period={month}")
    guard = page.locator("#by-guard-g1")
    expect(guard).to_contain_text("王保安")
    expect(guard.locator(".compliance")).to_have_text("50%")
    expect(guard.locator(".missed")).to_have_text("1")
    page.locator("#tours details").first.click()
    expect(page.locator("#tours")).to_contain_text("蓝牙 1.2 m，3 次/4.0 秒")
    with page.expect_download() as download:
        page.click("[data-format=pdf]")
    assert download.value.suggested_filename == f"patrol-{month}.pdf"
    page.close()
