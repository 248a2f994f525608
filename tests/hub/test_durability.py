"""A hub killed with SIGKILL loses nothing it had spooled: the next run ships it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import DEMO_SITE, ROOT
from tests.support.servers import InfluxServer, free_port, wait_for_port
from tests.support.waiting import wait_for as wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")


def start_hub(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "-c", str(DEMO_SITE), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, 60)
    return proc


def health(port: int, key: str) -> dict[str, Any]:
    """The hub's full health, read with an administrator's key."""
    ask = urllib.request.Request(f"http://127.0.0.1:{port}/api/health", headers={"X-API-Key": key})
    with urllib.request.urlopen(ask, timeout=5) as r:
        body: dict[str, Any] = json.loads(r.read())
        return body


def test_sigkill_with_a_full_spool_then_restart_delivers_every_point(tmp_path: Path) -> None:
    influx = InfluxServer(Path(tempfile.mkdtemp(prefix="hub-influx-")))  # not started yet
    data = tmp_path / "hub"
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(data),
        "HUB_SECRET_KEY": "k" * 48,
        "HUB_TELEMETRY_BACKEND": "influxdb",
        "HUB_INFLUX__URL": influx.url,
        "HUB_INFLUX__DATABASE": influx.database,
    }

    def new_key(name: str, role: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "hub", "key", "add", name, "--role", role],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    key = new_key("meter-gw", "device")
    admin_key = new_key("prometheus", "admin")
    port = free_port()
    hub = start_hub(env, port)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    total = 3000
    try:
        for start in range(0, total, 500):
            body = json.dumps(
                [
                    {
                        "point_id": "meter-b1.total_power",
                        "value": float(i),
                        "ts": (t0 + timedelta(seconds=i)).isoformat(),
                    }
                    for i in range(start, start + 500)
                ]
            ).encode()
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/ingest/readings",
                body,
                {"X-API-Key": key, "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=10) as r:
                assert json.loads(r.read())["accepted"] == 500
        wait_until(
            lambda: health(port, admin_key)["components"]["telemetry"]["spool_points"] == total
        )
        assert health(port, admin_key)["components"]["telemetry"]["status"] == "degraded"
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {admin_key}"}
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            metrics = r.read().decode()
        assert f'hub_telemetry_spool_points{{backend="influxdb"}} {float(total)}' in metrics
        assert 'hub_telemetry_write_failures_total{backend="influxdb"}' in metrics
        hub.send_signal(signal.SIGKILL)
        hub.wait(10)

        influx.start()
        hub = start_hub(env, port)
        wait_until(lambda: health(port, admin_key)["components"]["telemetry"]["spool_points"] == 0)
        assert influx.count("reading") == total
        values = influx.query('SELECT "value" FROM "reading" ORDER BY time')[0]["values"]
        assert [v[1] for v in values] == [float(i) for i in range(total)]  # type: ignore[index]
        assert health(port, admin_key)["components"]["telemetry"]["status"] == "ok"
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)
        influx.stop()
        shutil.rmtree(influx.root, ignore_errors=True)


def test_sigkill_mid_stream_of_qos1_fixes_loses_none_the_broker_accepted(tmp_path: Path) -> None:
    import threading

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from tests.support.servers import mosquitto_server

    total = 3000
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    with mosquitto_server() as broker:
        env = {
            **os.environ,
            "HUB_DATA_DIR": str(tmp_path / "hub"),
            "HUB_SECRET_KEY": "k" * 48,
            "HUB_ADMIN_PASSWORD": "durability test password",
            "HUB_MQTT__PORT": str(broker.port),
            "HUB_MQTT__CLIENT_ID": "hub-durability",
        }
        admin_key = subprocess.run(
            [sys.executable, "-m", "hub", "key", "add", "health-check", "--role", "admin"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        port = free_port()
        hub = start_hub(env, port)
        wait_until(lambda: health(port, admin_key)["components"]["mqtt_ingest"]["connected"])

        pub = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="phone-g1")
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        sent = threading.Event()

        def stream() -> None:
            for i in range(total):
                payload = json.dumps(
                    {
                        "_type": "location",
                        "lat": 30.2596 + i * 1e-6,
                        "lon": 120.1307,
                        "acc": 5,
                        "tid": "g1",
                        "tst": int((t0 + timedelta(seconds=i)).timestamp()),
                    }
                )
                pub.publish("owntracks/g1/phone", payload, qos=1).wait_for_publish(10)
                if i % 50 == 0:
                    time.sleep(0.02)  # a stream, not a burst
            sent.set()

        publisher = threading.Thread(target=stream)
        publisher.start()
        wait_until(
            lambda: health(port, admin_key)["components"]["mqtt_ingest"]["received"] > total // 4
        )
        hub.send_signal(signal.SIGKILL)  # in the middle of the stream
        hub.wait(10)
        publisher.join(120)
        assert sent.is_set()  # the broker accepted every fix while the hub was dead
        pub.disconnect()
        pub.loop_stop()

        hub = start_hub(env, port)
        try:
            form = b"username=admin&password=durability+test+password"
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/auth/token", form) as r:
                token = json.loads(r.read())["access_token"]

            def stored() -> int:
                url = (
                    f"http://127.0.0.1:{port}/api/positions/g1/track?limit=100000"
                    f"&start={(t0 - timedelta(minutes=1)).isoformat().replace('+', '%2B')}"
                )
                req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(req, timeout=10) as r:
                    return len(json.loads(r.read()))

            wait_until(lambda: stored() == total, timeout=90)
            assert health(port, admin_key)["components"]["mqtt_ingest"]["awaiting_storage"] == 0
        finally:
            hub.send_signal(signal.SIGTERM)
            hub.wait(30)


def call(port: int, method: str, path: str, body: Any = None, **headers: str) -> Any:
    """A JSON request to the hub; the decoded answer."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        json.dumps(body).encode() if body is not None else None,
        {"Content-Type": "application/json", **headers},
        method=method,
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_sigkill_keeps_bookings_tickets_and_alarm_states_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    """Killed right after a booking, a repair report and an acknowledged alarm, the restarted
    hub has all three as they were; the fault reading arriving again raises no second alarm,
    and nothing is booked or reported twice."""
    site_dir = tmp_path / "site"
    shutil.copytree(DEMO_SITE.parent, site_dir, ignore=shutil.ignore_patterns("*.py"))
    site_file = site_dir / "site.yaml"
    text = site_file.read_text(encoding="utf-8")
    site_file.write_text(text.replace("hysteresis: 1, for_s: 120", "hysteresis: 1, for_s: 0"))
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_SECRET_KEY": "k" * 48,
        "HUB_ADMIN_PASSWORD": "drill password 123",
        "HUB_SITE_FILE": str(site_file),
    }
    key = subprocess.run(
        [sys.executable, "-m", "hub", "key", "add", "bms-gw", "--role", "device"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "-c", str(site_file), "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(port, 60)
        return proc

    def sign_in() -> dict[str, str]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/auth/token",
            b"username=admin&password=drill+password+123",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return {"Authorization": f"Bearer {json.loads(r.read())['access_token']}"}

    def too_hot() -> None:
        reading = [{"point_id": "ahu-b2.supply_temp", "value": 35.0}]
        assert call(port, "POST", "/api/ingest/readings", reading, **{"X-API-Key": key}) == {
            "accepted": 1,
            "rejected": [],
        }

    def alarms(me: dict[str, str]) -> list[dict[str, Any]]:
        return [
            a
            for a in call(port, "GET", "/api/alarms?limit=500", **me)
            if a["rule"] == "ahu-b2-supply-hot"
        ]

    hub = start()
    try:
        me = sign_in()
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).astimezone(SHANGHAI).date()
        at = datetime.combine(tomorrow, datetime.min.time(), SHANGHAI).replace(hour=10)
        booking = call(
            port,
            "POST",
            "/api/bookings",
            {"room_id": "r-301", "title": "演练", "start": at.isoformat(),
             "end": (at + timedelta(hours=1)).isoformat()},
            **me,
        )  # fmt: skip
        ticket = call(
            port, "POST", "/api/tickets",
            {"description": "三层走廊灯不亮", "asset_id": "light-b1-3f-corridor"}, **me,
        )  # fmt: skip
        too_hot()
        wait_until(lambda: len(alarms(me)) == 1, "the alarm", timeout=30)
        (alarm,) = alarms(me)
        call(port, "POST", f"/api/alarms/{alarm['id']}/ack", {"comment": "已派人查看"}, **me)
        hub.send_signal(signal.SIGKILL)
        hub.wait(10)

        hub = start()
        me = sign_in()
        assert call(port, "GET", f"/api/bookings/{booking['id']}", **me)["title"] == "演练"
        again = call(port, "GET", f"/api/tickets/{ticket['id']}", **me)
        assert (again["status"], again["description"]) == (ticket["status"], "三层走廊灯不亮")
        (kept,) = alarms(me)
        assert kept["id"] == alarm["id"]
        assert (kept["acked_by"], kept["ack_comment"]) == ("admin", "已派人查看")
        assert kept["cleared_at"] is None
        too_hot()
        time.sleep(2)  # a second alarm would be raised by now
        assert [a["id"] for a in alarms(me)] == [alarm["id"]]
        assert len([t for t in call(port, "GET", "/api/tickets", **me)
                    if t["description"] == "三层走廊灯不亮"]) == 1  # fmt: skip
        assert len(call(port, "GET", "/api/bookings?room_id=r-301", **me)) == 1
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)
