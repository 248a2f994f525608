"""Alarm changes reach webhooks (generic JSON, WeCom and DingTalk robot formats) through a
real HTTP server; a failing endpoint is retried, and one that keeps failing is counted
without holding anything up."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from hub.site.model import Person
from tests.conftest import DEMO_SITE
from tests.support.workapps import (
    CORP_ID,
    DING_AGENT,
    DING_KEY,
    DING_SECRET,
    WECOM_AGENT,
    WECOM_SECRET,
    work_apps,
)

WECOM = "/wecom?key=s3cret"


class Robot(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.calls: dict[str, int] = {}


class Handler(BaseHTTPRequestHandler):
    server: Robot

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        calls = self.server.calls[self.path] = self.server.calls.get(self.path, 0) + 1
        if self.path == "/wecom?key=s3cret" and calls == 1:
            self.send_response(502)  # a hiccup: the hub retries
            self.end_headers()
            return
        self.server.received.setdefault(self.path, []).append(body)
        answer = {"errcode": 310000, "errmsg": "keywords not in content"}
        if self.path != "/dingtalk":
            answer = {"errcode": 0, "errmsg": "ok"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def robot() -> Iterator[Robot]:
    server = Robot()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_alarms_reach_webhooks_in_their_formats_with_retries(
    tmp_path: Path, quiet_site: Site, robot: Robot
) -> None:
    base = f"http://127.0.0.1:{robot.server_address[1]}"
    settings = Settings(
        data_dir=tmp_path,
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        notify={
            "webhooks": [
                {"url": f"{base}/json", "name": "ops-system"},
                {"url": f"{base}/wecom?key=s3cret", "format": "wecom", "min_severity": "major"},
                {"url": f"{base}/dingtalk", "format": "dingtalk"},
            ],
            "attempts": 3,
            "backoff_s": 0.05,
        },
    )
    hub = Hub(settings, quiet_site, factories=())
    with TestClient(hub.app()):
        alarms = hub.ctx.alarms
        now = datetime.now(UTC)
        common = {"rule": "plant-faults", "originator": "ahu-b2", "type": "equipment_fault"}
        alarms.raise_alarm(**common, severity="major", message="送风机故障", ticket=True, now=now)
        alarms.raise_alarm(  # minor: below the WeCom hook's threshold
            rule="meters-silent",
            originator="meter-b1",
            type="silence",
            severity="minor",
            message="no data",
            ticket=False,
            now=now,
        )
        deadline = time.monotonic() + 20
        while len(robot.received.get("/json", [])) < 2 or WECOM not in robot.received:
            assert time.monotonic() < deadline, robot.received
            time.sleep(0.05)
        ding = f"dingtalk 127.0.0.1:{robot.server_address[1]}/dingtalk"
        while hub.ctx.components["notifications"]()["webhooks"][ding].get("failed", 0) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        health = hub.ctx.components["notifications"]()
    generic = robot.received["/json"]
    assert [(m["originator"], m["action"], m["state"]) for m in generic] == [
        ("ahu-b2", "raised", "ACTIVE_UNACK"),
        ("meter-b1", "raised", "ACTIVE_UNACK"),
    ]
    (wecom,) = robot.received[WECOM]
    assert wecom["msgtype"] == "markdown"
    content = wecom["markdown"]["content"]
    assert "【新告警】设备故障 · 重要" in content
    assert "ahu-b2" in content
    assert "送风机故障" in content
    assert robot.calls[WECOM] == 2  # the 502, then the delivery
    assert robot.calls["/dingtalk"] == 6  # two alarms, three attempts each, all refused
    assert health["status"] == "degraded"
    hooks = health["webhooks"]
    assert hooks["ops-system"]["sent"] == 2
    assert hooks[f"wecom 127.0.0.1:{robot.server_address[1]}/wecom"]["retried"] == 1
    dingtalk = hooks[ding]
    assert dingtalk["failed"] == 2
    assert dingtalk["last_error"] == "robot errcode 310000"
    assert "key=" not in json.dumps(health)  # robot keys in URLs never show


def test_alarm_changes_are_published_on_the_brokers_alarm_topic(
    tmp_path: Path, quiet_site: Site
) -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from tests.support.servers import mosquitto_server

    with mosquitto_server() as broker:
        received: list[tuple[str, dict[str, Any]]] = []
        sub = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="ops")
        sub.on_message = lambda _c, _u, m: received.append((m.topic, json.loads(m.payload)))
        subscribed = threading.Event()
        sub.on_subscribe = lambda *_: subscribed.set()
        sub.on_connect = lambda c, *_: c.subscribe("hub/alarms/#", qos=1)
        sub.connect("127.0.0.1", broker.port)
        sub.loop_start()
        assert subscribed.wait(10)
        settings = Settings(
            data_dir=tmp_path,
            secret_key="k" * 48,
            site_file=DEMO_SITE,
            mqtt={"port": broker.port, "ingest": False},
        )
        hub = Hub(settings, quiet_site, factories=())
        with TestClient(hub.app()):
            deadline = time.monotonic() + 10
            while not hub.ctx.components["notifications"]()["mqtt"]["connected"]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            now = datetime.now(UTC)
            hub.ctx.alarms.raise_alarm(
                rule="cars-leave-district",
                originator="car-3",
                type="geofence_exit",
                severity="major",
                message="car-3 left gf-district",
                ticket=False,
                now=now,
            )
            hub.ctx.alarms.clear_alarm(
                rule="cars-leave-district",
                originator="car-3",
                type="geofence_exit",
                message="back",
                now=now,
            )
            while len(received) < 2:
                assert time.monotonic() < deadline, received
                time.sleep(0.05)
            assert hub.ctx.components["notifications"]()["mqtt"]["sent"] == 2
        sub.loop_stop()
    assert [(t, m["originator"], m["action"], m["state"]) for t, m in received] == [
        ("hub/alarms/geofence_exit", "car-3", "raised", "ACTIVE_UNACK"),
        ("hub/alarms/geofence_exit", "car-3", "cleared", "CLEARED_UNACK"),
    ]


def test_alarm_emails_go_to_the_people_each_rule_names(tmp_path: Path, demo_site: Site) -> None:
    from hub.identity import Role
    from hub.site.rules import EquipmentFaultRule
    from tests.support.mail import smtp_inbox

    with smtp_inbox() as inbox:
        rules = [
            EquipmentFaultRule(
                id="plant-faults", kind="equipment_fault", notify=["role:security", "user:wang"]
            ),
            EquipmentFaultRule(id="quiet", kind="equipment_fault", devices=["meter-b1"]),
        ]
        settings = Settings(
            data_dir=tmp_path,
            secret_key="k" * 48,
            site_file=DEMO_SITE,
            notify={"email": {"host": "127.0.0.1", "port": inbox.port, "security": "none"}},
        )
        site = demo_site.model_copy(update={"devices": [], "rules": rules})
        hub = Hub(settings, site, factories=())
        with TestClient(hub.app()):
            identity = hub.ctx.identity
            identity.ensure_user("li", "li password 123", [Role.SECURITY], email="li@x.gov.cn")
            identity.ensure_user("zhao", "zhao password 123", [Role.SECURITY])  # no address
            identity.ensure_user("wang", "wang password 12", [Role.TECHNICIAN], email="w@x.gov.cn")
            identity.ensure_user("chen", "chen password 12", [Role.STAFF], email="c@x.gov.cn")
            now = datetime.now(UTC)
            for rule, originator, severity in (
                ("plant-faults", "ahu-b2", "major"),
                ("plant-faults", "rc-101", "minor"),  # below the e-mail threshold
                ("quiet", "meter-b1", "major"),  # a rule that names nobody
            ):
                hub.ctx.alarms.raise_alarm(
                    rule=rule,
                    originator=originator,
                    type="equipment_fault",
                    severity=severity,
                    message="送风机故障",
                    ticket=True,
                    now=now,
                )
            health = hub.ctx.components["notifications"]
            label = f"email 127.0.0.1:{inbox.port}"
            deadline = time.monotonic() + 10
            while health()["webhooks"][label].get("no_recipients", 0) < 1 or not inbox.mails:
                assert time.monotonic() < deadline, health()
                time.sleep(0.05)
    (mail,) = inbox.mails
    recipients, message = mail
    assert sorted(recipients) == ["li@x.gov.cn", "w@x.gov.cn"]
    assert message["Subject"] == "【新告警】设备故障 · 重要 · ahu-b2"
    assert "送风机故障" in message.get_content()


def test_each_persons_messages_reach_their_wecom_and_dingtalk(
    tmp_path: Path, quiet_site: Site
) -> None:
    # leader's DingTalk id differs from the username (the site file names it)
    people = [
        *quiet_site.people,
        Person(id="p-leader", name="李主任", role="staff", username="leader", dingtalk="ding-0042"),
    ]
    site = quiet_site.model_copy(update={"people": people})
    with work_apps({"staff", "leader"}) as apps:
        settings = Settings(
            data_dir=tmp_path,
            secret_key="k" * 48,
            site_file=DEMO_SITE,
            public_url="https://hub.example.gov.cn",
            notify={
                "apps": [
                    {
                        "kind": "wecom",
                        "corp_id": CORP_ID,
                        "secret": WECOM_SECRET,
                        "agent_id": WECOM_AGENT,
                        "base_url": apps.url,
                    },
                    {
                        "kind": "dingtalk",
                        "app_key": DING_KEY,
                        "secret": DING_SECRET,
                        "agent_id": DING_AGENT,
                        "base_url": apps.url,
                        "name": "钉钉",
                    },
                ],
                "backoff_s": 0.05,
            },
        )
        hub = Hub(settings, site, factories=())
        with TestClient(hub.app()):
            for name in ("staff", "leader"):
                hub.ctx.identity.ensure_user(
                    name, "a work app password", [Role.STAFF], work_unit="u-office"
                )
            staff = Principal("staff", frozenset({Role.STAFF}), "u-office")
            start = datetime.now(UTC) + timedelta(days=1)
            assert hub.ctx.vehicles is not None
            asked = hub.ctx.vehicles.request(
                staff,
                purpose="调研",
                destination="区政务中心",
                passengers=2,
                start=start,
                end=start + timedelta(hours=2),
            )
            wait = time.monotonic() + 20
            while len(apps.wecom) < 1 or len(apps.dingtalk) < 1:
                assert time.monotonic() < wait, (apps.wecom, apps.dingtalk)
                time.sleep(0.05)
            # two hours on: the tokens expire; the next message fetches a new one
            apps.expire_tokens()
            leader = Principal("leader", frozenset({Role.STAFF}), "u-office")
            hub.ctx.vehicles.decide(leader, asked["id"], True)
            while len(apps.wecom) < 2 or len(apps.dingtalk) < 2:
                assert time.monotonic() < wait, (apps.wecom, apps.dingtalk)
                time.sleep(0.05)
            health = hub.ctx.components["notifications"]()["webhooks"]
    # the approver is told a request waits, by WeCom under their username, by DingTalk under
    # the id the site file gives; then the requester hears the decision
    waiting, decided = apps.wecom
    assert (waiting["touser"], waiting["msgtype"]) == ("leader", "textcard")
    assert "区政务中心" in waiting["textcard"]["title"]
    assert waiting["textcard"]["url"] == "https://hub.example.gov.cn/vehicles.html"
    assert decided["touser"] == "staff"
    ding_waiting, ding_decided = apps.dingtalk
    assert ding_waiting["userid_list"] == "ding-0042"
    card = ding_waiting["msg"]["action_card"]
    assert card["single_url"] == "https://hub.example.gov.cn/vehicles.html"
    assert ding_decided["userid_list"] == "staff"
    assert apps.token_calls == 4  # one per app, and one each after the expiry
    assert health[f"wecom app {WECOM_AGENT}"]["sent"] == 2
    assert health["钉钉"]["sent"] == 2
    assert WECOM_SECRET not in json.dumps(health)


def test_a_notice_reaches_its_audience_by_email_each_blind_copied(
    tmp_path: Path, quiet_site: Site
) -> None:
    from hub.services.audience import Audience
    from tests.support.mail import smtp_inbox

    with smtp_inbox() as inbox:
        settings = Settings(
            data_dir=tmp_path,
            secret_key="k" * 48,
            site_file=DEMO_SITE,
            public_url="https://hub.example.gov.cn",
            notify={"email": {"host": "127.0.0.1", "port": inbox.port, "security": "none"}},
        )
        hub = Hub(settings, quiet_site, factories=())
        with TestClient(hub.app()):
            ids = hub.ctx.identity
            ids.ensure_user(
                "li", "li password 123", [Role.STAFF], work_unit="u-edu", email="li@x.gov.cn"
            )
            ids.ensure_user(
                "wang", "wang password 12", [Role.STAFF], work_unit="u-edu", email="w@x.gov.cn"
            )
            ids.ensure_user(
                "zhao", "zhao password 12", [Role.STAFF], work_unit="u-finance", email="z@x.gov.cn"
            )
            office = Principal("office", frozenset({Role.MANAGER}), "u-office")
            n = hub.ctx.notices.publish(
                office,
                title="停水通知",
                body="<p>周六 8:00-12:00 停水。</p>",
                audience=Audience(units=("u-edu",)),
            )
            inbox.wait(1)
    (mail,) = inbox.mails
    recipients, message = mail
    assert sorted(recipients) == ["li@x.gov.cn", "w@x.gov.cn"]
    assert message["Subject"] == "【通知】停水通知"
    assert "x.gov.cn" not in str(message["To"])  # nobody sees the others' addresses
    assert message["Bcc"] is None
    assert f"https://hub.example.gov.cn/notices.html#notice={n['id']}" in message.get_content()
