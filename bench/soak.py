"""Soak: the hub's memory under the compound's load plus garbage, for as long as it takes to
see whether it stays flat.

`hub run` on the demo site with Mosquitto; in this process, the compound's traffic (guards'
OwnTracks fixes, ESPresense sightings, cars' OsmAnd fixes, meter readings over HTTP) plus
garbage (malformed payloads, unknown devices, absurd coordinates), websocket clients
connecting and leaving, and one broker restart half way. The hub's resident memory is
sampled throughout (every minute in the full run). Baseline: its largest RSS during the
warm-up (13 minutes: every periodic job has run once); figure: its RSS at the end. Goal: at
most 1.1 times the baseline (flat).

    python bench/soak.py [--quick]     # --quick: 50 s; full: 30 minutes
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import websockets
from _common import ROOT, parse, result
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.servers import free_port, mosquitto_server, wait_for_port

DEMO_SITE = ROOT / "hub" / "demo" / "site.yaml"
PHONES = ["g1/phone", "g2/phone", "g3/phone", "g4/phone"]
BADGE = "fda50693-a4e2-4fb1-afcf-c6eb07647825-1-{}"
TRACKERS = ["860000000000001", "860000000000002", "860000000000003"]
CENTRE = (30.2600, 120.1300)
GARBAGE = 400  # garbage messages a second beside the compound's traffic


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def key(env: dict[str, str], name: str, role: str, *trackers: str) -> str:
    args = [sys.executable, "-m", "hub", "key", "add", name, "--role", role]
    for t in trackers:
        args += ["--tracker", t]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


class Load:
    """The compound's traffic and the garbage, until stopped; counts what it sent."""

    def __init__(self, hub_port: int, broker_port: int, keys: dict[str, str]) -> None:
        self.hub = f"http://127.0.0.1:{hub_port}"
        self.broker_port = broker_port
        self.keys = keys
        self.stop = threading.Event()
        self.sent: dict[str, int] = {"mqtt": 0, "garbage": 0, "http": 0, "ws": 0}
        self.rng = random.Random(7)

    def mqtt(self) -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="soak-fleet")
        client.reconnect_delay_set(0.5, 2)
        client.connect("127.0.0.1", self.broker_port)
        client.loop_start()
        while not self.stop.is_set():
            now = int(time.time())
            for phone in PHONES:
                lat = CENTRE[0] + self.rng.uniform(-0.001, 0.001)
                lon = CENTRE[1] + self.rng.uniform(-0.001, 0.001)
                body = {"_type": "location", "lat": lat, "lon": lon, "tst": now, "acc": 8}
                client.publish(f"owntracks/{phone}", json.dumps(body), qos=1)
            for n in range(1, 5):
                room = self.rng.choice(["cp-north", "cp-east", "cp-south"])
                body = {"id": f"iBeacon:{BADGE.format(n)}", "distance": 1.2, "rssi": -60}
                client.publish(f"espresense/devices/{BADGE.format(n)}/{room}", json.dumps(body))
            self.sent["mqtt"] += 8
            for _ in range(GARBAGE):  # garbage: bytes, wrong JSON, unknown ids, absurd places
                topic = self.rng.choice(
                    ["owntracks/x/y", "espresense/devices/zz/room", "hub/ingest/location"]
                )
                payload = self.rng.choice(
                    [
                        os.urandom(self.rng.randint(1, 300)),
                        b"{" * 50,
                        json.dumps(
                            {"_type": "location", "lat": 999, "lon": -999, "tst": now}
                        ).encode(),
                        json.dumps(
                            {
                                "id": f"stranger-{self.rng.randint(0, 10**9)}",
                                "lat": 30.2,
                                "lon": 120.1,
                                "ts": now,
                            }
                        ).encode(),
                    ]
                )
                client.publish(topic, payload)
            self.sent["garbage"] += GARBAGE
            self.stop.wait(1.0)
        client.loop_stop()
        client.disconnect()

    def post(self, path: str, body: Any, key: str) -> None:
        data = json.dumps(body).encode()
        ask = urllib.request.Request(
            self.hub + path,
            data=data,
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(ask, timeout=10) as r:
                r.read()
        except OSError:
            pass  # a refusal is an answer too: the hub counts it
        self.sent["http"] += 1

    def http(self) -> None:
        while not self.stop.is_set():
            now = time.time()
            readings = [
                {"point_id": "meter-b1.total_power", "value": self.rng.uniform(50, 90)},
                {"point_id": "meter-b2.total_power", "value": self.rng.uniform(40, 70)},
                {"point_id": "meter-b9.nothing", "value": 1.0},  # unknown point
            ]
            self.post("/api/ingest/readings", readings, self.keys["meters"])
            for tracker in TRACKERS:
                q = f"id={tracker}&lat={CENTRE[0]}&lon={CENTRE[1] + 0.001}&timestamp={int(now)}"
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(
                        f"{self.hub}/api/osmand?key={self.keys['cars']}&{q}", timeout=10
                    ).read()
                self.sent["http"] += 1
            self.stop.wait(1.0)

    def websockets(self) -> None:
        async def visit() -> None:
            url = f"ws://127.0.0.1:{self.hub.rsplit(':', 1)[1]}/ws"
            async with websockets.connect(
                url, additional_headers={"X-API-Key": self.keys["wall"]}, open_timeout=10
            ) as ws:
                await asyncio.wait_for(ws.recv(), 10)
                for _ in range(3):
                    await asyncio.wait_for(ws.recv(), 10)

        while not self.stop.is_set():
            with contextlib.suppress(OSError, TimeoutError, websockets.WebSocketException):
                asyncio.run(visit())
            self.sent["ws"] += 1
            self.stop.wait(2.0)


def main() -> None:
    args = parse(__doc__ or "")
    # the full run's warm-up covers the first run of every periodic job (the energy reports'
    # sweep, at 10 minutes, loads the PDF and chart libraries once: ~15 MB)
    total_s, warm_s, sample_s = (50, 20, 2) if args.quick else (1800, 780, 60)
    with mosquitto_server() as broker:
        data = Path(tempfile.mkdtemp(prefix="bench-soak-"))
        env = {
            **os.environ,
            "HUB_DATA_DIR": str(data),
            "HUB_SECRET_KEY": "s" * 48,
            "HUB_MQTT__PORT": str(broker.port),
            "HUB_LOG_LEVEL": "ERROR",
        }
        keys = {
            "meters": key(env, "meters", "device"),
            "cars": key(env, "cars", "device", *TRACKERS),
            "wall": key(env, "wall", "display"),
        }
        port = free_port()
        hub = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "-c", str(DEMO_SITE), "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port, 60)
        load = Load(port, broker.port, keys)
        threads = [
            threading.Thread(target=f, daemon=True) for f in (load.mqtt, load.http, load.websockets)
        ]
        for t in threads:
            t.start()
        samples: list[tuple[float, float]] = []
        start = time.monotonic()
        restarted = False
        try:
            while (elapsed := time.monotonic() - start) < total_s:
                samples.append((round(elapsed), round(rss_mb(hub.pid), 1)))
                print(
                    f"{elapsed:7.0f} s  hub RSS {samples[-1][1]:7.1f} MB  sent {load.sent}",
                    flush=True,
                )
                if not restarted and elapsed > (warm_s + total_s) / 2:
                    broker.stop()
                    time.sleep(1)
                    broker.start()
                    restarted = True
                time.sleep(sample_s)
            assert hub.poll() is None, "the hub died"
        finally:
            load.stop.set()
            for t in threads:
                t.join(15)
            hub.terminate()
            hub.wait(30)
    warm = max(rss for t, rss in samples if t <= warm_s)
    end = samples[-1][1]
    peak = max(rss for _, rss in samples)
    result(
        "soak",
        end,
        "MB resident at the end",
        warm,
        1.1,
        better="lower",  # flat: at most 1.1 times the warm-up's memory
        peak_mb=peak,
        minutes=round(total_s / 60, 1),
        sent=load.sent,
        samples=samples,
    )


if __name__ == "__main__":
    main()
