"""The wall display and the staff pages in a real browser (Debian's chromium, Playwright)
against the demo compound's simulated devices, with Mosquitto carrying the guards' phones.

The wall loads the compound, a fix published over MQTT moves a guard's marker, a fault in the
simulated air handler flashes its pin and lists the alarm, and acknowledging it on the
alarm console stops the flashing; the technician accepts the repair on the ticket board on a
phone; the device list shows live values; a dropped websocket reconnects and resynchronises.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho
import pytest
from playwright.sync_api import Browser, Page, expect

from hub.demo.runner import demo_simulators, free_udp_port, with_free_ports
from hub.identity import Role
from hub.runtime import Hub, adapter_components
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.servers import mosquitto_server
from tests.support.web import ARTIFACTS, serve, sign_in

PASSWORD = "wall test password"


@pytest.fixture(scope="module")
def compound(
    tmp_path_factory: pytest.TempPathFactory, demo_site: Site
) -> Iterator[tuple[Hub, str, int]]:
    """The demo compound's hub (simulated Modbus and BACnet devices, Mosquitto for location)
    served on loopback; yields the hub, its URL and the broker's port."""
    with mosquitto_server() as broker:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("wall"),
            secret_key="k" * 48,
            site_file=DEMO_SITE,
            bacnet={"address": f"127.0.0.1/8:{free_udp_port()}"},
            mqtt={"embedded": False, "host": "127.0.0.1", "port": broker.port},
            live={"rate_hz": 4, "summary_s": 1},
        )
        hub = Hub(
            settings,
            with_free_ports(demo_site),
            factories=(demo_simulators(), adapter_components),
        )
        with serve(hub) as url:
            for name, roles in (
                ("wall", [Role.DISPLAY]),
                ("guard-room", [Role.SECURITY]),
                ("tech-hvac", [Role.TECHNICIAN]),
            ):
                hub.ctx.identity.ensure_user(name, PASSWORD, roles)
            yield hub, url, broker.port


@pytest.fixture(scope="module")
def wall(compound: tuple[Hub, str, int], browser: Browser) -> Iterator[Page]:
    """The wall display, signed in with a long-lived display token, on a 1080p screen."""
    _, url, _ = compound
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, url, "wall", PASSWORD, "/wall.html", display=True)
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    yield page
    assert not errors, errors
    page.close()


def publish_fix(port: int, phone: str, lat: float, lon: float, later_s: int = 0) -> None:
    """An OwnTracks location from a guard's phone, published to Mosquitto (QoS 1), taken
    `later_s` seconds from now."""
    user, device = phone.split("/")
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-{device}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    body = {
        "_type": "location",
        "lat": lat,
        "lon": lon,
        "tst": int(time.time()) + later_s,
        "acc": 5,
    }
    client.publish(f"owntracks/{user}/{device}", json.dumps(body), qos=1).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def marker_at(page: Page, subject: str) -> Any:
    return page.evaluate(
        "(s) => { const m = window.wall.markers[s]; if (!m) return null;"
        " const p = m.getLatLng(); return [p.lat, p.lng]; }",
        subject,
    )


def wait_until(page: Page, check: Any, what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}")


def feature_classes(page: Page, feature: str) -> list[str]:
    return page.evaluate(  # type: ignore[no-any-return]
        "(f) => Array.from(window.wall.features[f].getElement().classList)", feature
    )


def test_the_wall_draws_the_compound_and_a_published_fix_moves_a_guard(
    compound: tuple[Hub, str, int], wall: Page
) -> None:
    _, _, port = compound
    # the site's layers: the boundary, three buildings, checkpoints, gates, zones
    features = wall.evaluate("Object.keys(window.wall.features)")
    layers = {f.split(":")[0] for f in features}
    assert layers >= {"boundary", "building", "zone", "geofence", "checkpoint", "gate"}
    assert {"building:b1", "building:b2", "building:b3", "checkpoint:cp-plant"} <= set(features)
    assert wall.locator("img.leaflet-image-layer").count() == 1  # b1's ground-floor plan
    # the buildings carry their names; devices are squares, not the people's round markers
    assert wall.locator(".leaflet-tooltip.building-label", has_text="1号办公楼").count() == 1
    assert wall.locator(".leaflet-tooltip.zone-label").count() >= 1
    assert "device-icon" in feature_classes(wall, "device:ahu-b2")
    publish_fix(port, "g3/phone", 30.2598, 120.1300, later_s=-60)
    wait_until(wall, lambda: marker_at(wall, "g3"), "g3's marker")
    assert marker_at(wall, "g3") == pytest.approx([30.2598, 120.1300])
    assert wall.locator(".leaflet-tooltip:has-text('张保安')").count() == 1
    publish_fix(port, "g3/phone", 30.2604, 120.1308)  # 100 m in a minute: a walk
    wait_until(
        wall,
        lambda: marker_at(wall, "g3") == pytest.approx([30.2604, 120.1308]),
        "g3's marker to move",
    )
    # the counters come from the hub's summary: g3 is a guard inside the compound
    wait_until(
        wall,
        lambda: int(wall.text_content("#c-guards b") or "0") >= 1,
        "the guards-inside counter",
    )


def test_a_fault_flashes_on_the_wall_until_the_console_acknowledges_it(
    compound: tuple[Hub, str, int], wall: Page, browser: Browser
) -> None:
    hub, url, _ = compound
    sim = next(c for c in hub.components if c.name == "modbus_simulator")
    sim.set_fault("ahu-b2", "bit")  # type: ignore[attr-defined]
    alarm = wait_until(
        wall,
        lambda: wall.evaluate(
            "Object.values(window.wall.alarms).find(a => a.originator === 'ahu-b2') || null"
        ),
        "the fault's alarm on the wall",
    )
    assert alarm["state"] == "ACTIVE_UNACK"
    assert alarm["at"] == "device:ahu-b2"  # the air handler's pin on the map flashes
    wait_until(wall, lambda: "flash" in feature_classes(wall, "device:ahu-b2"), "the flashing")
    assert "fault" in feature_classes(wall, "device:ahu-b2")  # its status colours it too
    item = wall.locator("#alarms li", has_text="2号楼空调机组")
    assert item.count() == 1
    assert "设备故障" in (item.text_content() or "")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(ARTIFACTS / "wall-display.png"))

    console = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(console, url, "guard-room", PASSWORD, "/console.html")
    row = console.locator(f"#alarm-{alarm['key']}")
    row.wait_for()
    row.locator("input[name=note]").fill("已通知空调班组")
    row.locator("button.ack").click()
    console.wait_for_selector(f"#alarm-{alarm['key']} button.ack[disabled]")
    console.close()

    wait_until(wall, lambda: "flash" not in feature_classes(wall, "device:ahu-b2"), "steady red")
    assert "alarmed" in feature_classes(wall, "device:ahu-b2")  # still active, acknowledged
    stored = hub.ctx.alarms.get(int(alarm["key"]))
    assert (stored["acked_by"], stored["ack_comment"]) == ("guard-room", "已通知空调班组")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(ARTIFACTS / "wall-display-acknowledged.png"))


def test_the_technician_accepts_the_repair_on_the_ticket_board_on_a_phone(
    compound: tuple[Hub, str, int], browser: Browser
) -> None:
    hub, url, _ = compound
    assert hub.ctx.tickets is not None
    wait_until_ticket = time.monotonic() + 30
    while not (tickets := [t for t in _tickets(hub) if t["asset_id"] == "ahu-b2"]):
        assert time.monotonic() < wait_until_ticket, "no ticket for the fault"
        time.sleep(0.2)
    ticket = tickets[0]
    assert ticket["assignee"] == "t-hvac"
    assert ticket["response_due"] is not None  # the board shows when it must be answered
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(phone, url, "tech-hvac", PASSWORD, "/tickets.html")
    card = phone.locator(f"#col-assigned #ticket-{ticket['id']}")
    card.wait_for()
    card.locator("button", has_text="接单").click()
    accepted = phone.locator(f"#col-accepted #ticket-{ticket['id']}")
    accepted.locator("button", has_text="开始维修").click()
    working = phone.locator(f"#col-in_progress #ticket-{ticket['id']}")
    working.locator("button", has_text="修复完成").click()  # no note yet: it says so
    expect(phone.locator("#error")).to_have_text("请先写明维修说明或暂停原因")
    phone.close()
    assert next(t for t in _tickets(hub) if t["id"] == ticket["id"])["status"] == "in_progress"


def _tickets(hub: Hub) -> list[dict[str, Any]]:
    from hub.identity.roles import Principal

    assert hub.ctx.tickets is not None
    return hub.ctx.tickets.find(Principal("test", frozenset({Role.ADMIN})))


def test_the_device_list_shows_live_values(
    compound: tuple[Hub, str, int], browser: Browser
) -> None:
    _, url, _ = compound
    page = browser.new_page()
    sign_in(page, url, "guard-room", PASSWORD, "/devices.html")
    cell = page.locator("#point-meter-b1\\.total_power td.value")
    cell.wait_for()

    def value() -> str | None:
        text = cell.text_content() or ""
        return text if "—" not in text else None

    first = wait_until(page, value, "a value")
    assert first.endswith(" W")
    # the simulated meter's power changes every poll: the row follows the live feed
    wait_until(page, lambda: cell.text_content() != first, "the value to change")
    page.close()


def test_a_dropped_connection_reconnects_and_resynchronises(
    compound: tuple[Hub, str, int], wall: Page
) -> None:
    hub, _, port = compound
    wall.evaluate("Hub.socket.close()")
    # what happens while the wall is away reaches it with the new snapshot
    publish_fix(port, "g4/phone", 30.2595, 120.1296)
    wait_until(wall, lambda: wall.get_attribute("#link", "class") == "live", "the link back")
    wait_until(wall, lambda: marker_at(wall, "g4"), "g4 after reconnecting")
    assert marker_at(wall, "g4") == pytest.approx([30.2595, 120.1296])
    assert hub.ctx.live.health()["clients"] >= 1


def test_a_kiosk_is_provisioned_by_link_and_speaks_english_when_asked(
    compound: tuple[Hub, str, int], browser: Browser
) -> None:
    hub, url, _ = compound
    token = hub.ctx.identity.login("wall", PASSWORD, purpose="display")
    # a screen whose browser is set to another zone still shows the compound's time
    page = browser.new_page(
        viewport={"width": 1920, "height": 1080}, timezone_id="America/New_York"
    )
    page.goto(f"{url}/wall.html?lang=en#token={token}")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert "#token" not in page.url  # taken out of the address once stored
    assert page.text_content("#title") == "Compound security & facilities"
    assert page.text_content("#c-tickets span") == "Open tickets"
    # the alarm list speaks English too, from the same live state
    page.locator("#alarms li", has_text="equipment fault").first.wait_for()
    shown = page.text_content("#clock") or ""
    here = datetime.now(ZoneInfo(hub.ctx.site.site.timezone))
    hours = {f"{(here + timedelta(seconds=d)).hour:02d}" for d in (-5, 0, 5)}
    assert shown[:2] in hours, (shown, here)
    page.close()
