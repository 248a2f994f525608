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

from tests.conftest import DEMO_SITE, ROOT
from tests.support.servers import InfluxServer, free_port, wait_for_port


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


def health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as r:
        body: dict[str, Any] = json.loads(r.read())
        return body


def wait_until(check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


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
        wait_until(lambda: health(port)["components"]["telemetry"]["spool_points"] == total)
        assert health(port)["components"]["telemetry"]["status"] == "degraded"
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
        wait_until(lambda: health(port)["components"]["telemetry"]["spool_points"] == 0)
        assert influx.count("reading") == total
        values = influx.query('SELECT "value" FROM "reading" ORDER BY time')[0]["values"]
        assert [v[1] for v in values] == [float(i) for i in range(total)]  # type: ignore[index]
        assert health(port)["components"]["telemetry"]["status"] == "ok"
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
        port = free_port()
        hub = start_hub(env, port)
        wait_until(lambda: health(port)["components"]["mqtt_ingest"]["connected"])

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
        wait_until(lambda: health(port)["components"]["mqtt_ingest"]["received"] > total // 4)
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
            assert health(port)["components"]["mqtt_ingest"]["awaiting_storage"] == 0
        finally:
            hub.send_signal(signal.SIGTERM)
            hub.wait(30)
