"""MQTT ingest against a real Mosquitto: stored, refused with reasons, nothing lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from adapters.mqtt import MqttIngest, MqttOptions
from hub.location import LocationStage
from hub.pipeline import Pipeline
from hub.site import Site
from hub.telemetry import SQLiteTelemetryStore, TelemetrySink
from tests.support.servers import MosquittoServer, mosquitto_server
from tests.support.waiting import until

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def owntracks(i: int, lat: float = 30.2596, lon: float = 120.1307) -> bytes:
    return json.dumps(
        {
            "_type": "location",
            "lat": lat + i * 1e-6,
            "lon": lon,
            "acc": 5,
            "tst": int((T0 + timedelta(seconds=i)).timestamp()),
            "tid": "g1",
        }
    ).encode()


class Publisher:
    """A device publishing with QoS 1 (paho, as phones and gateways do)."""

    def __init__(self, port: int) -> None:
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"pub-{port}"
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def send(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    with mosquitto_server() as server:
        yield server


@dataclass
class Ingest:
    ingest: MqttIngest
    store: SQLiteTelemetryStore
    pipeline: Pipeline

    async def stored(self, subject: str) -> int:
        return len(
            await self.store.track(
                subject, T0 - timedelta(days=1), T0 + timedelta(days=1), limit=100_000
            )
        )

    async def wait(self, check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
        await until(check, "the stored fixes", timeout=timeout)


@pytest.fixture
async def ingest(broker: MosquittoServer, demo_site: Site, tmp_path: Path) -> AsyncIterator[Ingest]:
    store = SQLiteTelemetryStore(tmp_path / "t.db")
    pipeline = Pipeline(stages=[LocationStage(demo_site)])
    pipeline.subscribe("telemetry", TelemetrySink(store))
    await pipeline.start()
    ing = MqttIngest(MqttOptions(port=broker.port, client_id="hub-test"), pipeline)
    await ing.start()
    async with asyncio.timeout(10):
        while not ing.link.connected:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # subscribed
    yield Ingest(ing, store, pipeline)
    await ing.stop()
    await pipeline.stop()
    await store.close()


async def test_fixes_and_sightings_are_stored_and_then_acknowledged(
    ingest: Ingest, broker: MosquittoServer
) -> None:
    pub = Publisher(broker.port)
    for i in range(50):
        await asyncio.to_thread(pub.send, "owntracks/g1/phone", owntracks(i))
    await asyncio.to_thread(
        pub.send,
        "espresense/devices/iBeacon:fda50693-a4e2-4fb1-afcf-c6eb07647825-1-2/cp-parking",
        b'{"id":"iBeacon:fda50693-a4e2-4fb1-afcf-c6eb07647825-1-2","rssi":-70,"distance":1.1}',
    )
    await asyncio.to_thread(pub.send, "owntracks/g1/phone", b"{not json")
    await asyncio.to_thread(pub.send, "owntracks/stranger/phone", owntracks(99))
    await asyncio.to_thread(pub.send, "owntracks/g1/phone", owntracks(60, lat=200.0))
    pub.close()

    async def all_handled() -> bool:
        return ingest.ingest.acks.acked >= 54

    await ingest.wait(all_handled)
    assert await ingest.stored("g1") == 50
    h = ingest.ingest.health()
    assert h["refused"] == {"not_json": 1, "unknown_device": 1, "lat_out_of_range": 1}
    assert h["awaiting_storage"] == 0
    stats = ingest.pipeline.stats
    assert stats.rejected[("mqtt:owntracks", "not_json")] == 1
    assert stats.rejected[("mqtt", "unknown_device")] == 1


async def test_a_broker_restart_mid_ingest_loses_nothing(
    ingest: Ingest, broker: MosquittoServer
) -> None:
    pub = Publisher(broker.port)
    for i in range(100):
        await asyncio.to_thread(pub.send, "owntracks/g1/phone", owntracks(i))
    pub.close()
    await asyncio.to_thread(broker.stop)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(broker.start)
    pub = Publisher(broker.port)
    for i in range(100, 200):
        await asyncio.to_thread(pub.send, "owntracks/g1/phone", owntracks(i))
    pub.close()

    async def all_stored() -> bool:
        return await ingest.stored("g1") == 200

    await ingest.wait(all_stored, timeout=60)
    assert ingest.ingest.link.connects >= 2


async def test_the_broker_checks_the_hubs_credentials(demo_site: Site, tmp_path: Path) -> None:
    from tests.support.servers import mosquitto_server as with_users

    with with_users({"hub": "broker secret 1"}) as broker:
        pipeline = Pipeline(stages=[LocationStage(demo_site)])
        await pipeline.start()
        good = MqttIngest(
            MqttOptions(
                port=broker.port, client_id="hub-auth", username="hub", password="broker secret 1"
            ),
            pipeline,
        )
        bad = MqttIngest(
            MqttOptions(
                port=broker.port, client_id="hub-intruder", username="hub", password="guess"
            ),
            pipeline,
        )
        await good.start()
        await bad.start()
        try:
            async with asyncio.timeout(10):
                while not (good.link.connected and bad.link.last_error):
                    await asyncio.sleep(0.05)
            assert not bad.link.connected
            assert "refused" in str(bad.health()["error"]) or "Not authorized" in str(
                bad.health()["error"]
            )
            assert good.health()["status"] == "ok"
        finally:
            await good.stop()
            await bad.stop()
            await pipeline.stop()


async def test_tls_with_the_sites_ca_and_credentials(demo_site: Site, tmp_path: Path) -> None:
    """The broker speaks TLS with a certificate from the site's own CA: a hub given that CA
    (and its password) ingests; one that trusts only the system's CAs refuses the broker,
    says why in its health, and keeps trying."""
    with mosquitto_server({"hub": "tls secret 1", "phone": "p1"}, tls=True) as broker:
        assert broker.ca_file is not None
        store = SQLiteTelemetryStore(tmp_path / "t.db")
        pipeline = Pipeline(stages=[LocationStage(demo_site)])
        pipeline.subscribe("telemetry", TelemetrySink(store))
        await pipeline.start()
        common = {"port": broker.port, "username": "hub", "password": "tls secret 1", "tls": True}
        good = MqttIngest(
            MqttOptions(client_id="hub-tls", ca_file=str(broker.ca_file), **common),  # type: ignore[arg-type]
            pipeline,
        )
        untrusting = MqttIngest(MqttOptions(client_id="hub-no-ca", **common), pipeline)  # type: ignore[arg-type]
        await good.start()
        await untrusting.start()
        phone = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="ph")
        phone.username_pw_set("phone", "p1")
        phone.tls_set(ca_certs=str(broker.ca_file))
        try:
            async with asyncio.timeout(15):
                while not (good.link.connected and untrusting.link.last_error):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # subscribed
            phone.connect("127.0.0.1", broker.port)
            phone.loop_start()
            for i in range(5):
                phone.publish("owntracks/g1/phone", owntracks(i), qos=1).wait_for_publish(10)
            async with asyncio.timeout(15):
                while good.acks.acked < 5:
                    await asyncio.sleep(0.05)
            track = await store.track("g1", T0 - timedelta(days=1), T0 + timedelta(days=1))
            assert len(track) == 5
            assert not untrusting.link.connected
            assert "certificate verify failed" in str(untrusting.health()["error"])
        finally:
            phone.disconnect()
            phone.loop_stop()
            await good.stop()
            await untrusting.stop()
            await pipeline.stop()
            await store.close()


async def test_two_workers_share_one_stream_through_a_shared_subscription(
    broker: MosquittoServer, demo_site: Site, tmp_path: Path
) -> None:
    """MQTT 5 $share/<group>/...: each message goes to one of the hub workers, none twice."""
    workers = []
    for n in (1, 2):
        store = SQLiteTelemetryStore(tmp_path / f"w{n}.db")
        pipeline = Pipeline(stages=[LocationStage(demo_site)])
        pipeline.subscribe("telemetry", TelemetrySink(store))
        await pipeline.start()
        ing = MqttIngest(
            MqttOptions(port=broker.port, client_id=f"hub-worker-{n}", shared_group="hub"), pipeline
        )
        await ing.start()
        workers.append((ing, pipeline, store))
    try:
        async with asyncio.timeout(10):
            while not all(w[0].link.connected for w in workers):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert workers[0][0].link.topics()[0] == "$share/hub/owntracks/+/+"
        pub = Publisher(broker.port)
        guards = ["g1/phone", "g2/phone", "g3/phone", "g4/phone"]
        for i in range(200):
            await asyncio.to_thread(pub.send, f"owntracks/{guards[i % 4]}", owntracks(i // 4))
        pub.close()
        async with asyncio.timeout(20):
            while sum(w[0].acks.acked for w in workers) < 200:
                await asyncio.sleep(0.05)
        received = [w[0].received for w in workers]
        assert sum(received) == 200
        assert all(r > 0 for r in received)  # both worked
    finally:
        for ing, pipeline, store in workers:
            await ing.stop()
            await pipeline.stop()
            await store.close()
