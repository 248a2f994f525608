"""Two hub workers' relays on a real Mosquitto: what one accepted reaches the other's live view
and rules (and not its stores); garbage on the workers' topic is counted and skipped; a
command for equipment the other drives is carried out there and answered."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from adapters.mqtt import ClusterRelay, MqttOptions
from adapters.mqtt.relay import KINDS
from hub.domain import Command, CommandResult, PositionFix, Reading, SubjectKind
from hub.pipeline import Envelope, Pipeline
from tests.support.servers import MosquittoServer, mosquitto_server
from tests.support.waiting import until as wait_for

NOW = datetime.now(UTC).replace(microsecond=0)


class Seen:
    def __init__(self) -> None:
        self.events: list[Envelope] = []

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        self.events.extend(batch)


@dataclass
class Worker:
    pipeline: Pipeline
    relay: ClusterRelay
    live: Seen
    store: Seen


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    with mosquitto_server() as server:
        yield server


async def worker(name: str, port: int) -> Worker:
    pipeline = Pipeline()
    live, store = Seen(), Seen()
    pipeline.subscribe("store", store)
    pipeline.subscribe("live", live, lossless=False, peers=True)
    relay = ClusterRelay(MqttOptions(port=port, client_id=name), pipeline.relayed)
    pipeline.subscribe("cluster", relay, kinds=KINDS, lossless=False)
    await pipeline.start()
    await relay.start()
    await wait_for(lambda: relay.link.subscribed, "the relay's SUBACK", timeout=10)
    return Worker(pipeline, relay, live, store)


async def test_what_one_worker_accepts_reaches_the_others_live_view_only(
    broker: MosquittoServer,
) -> None:
    a, b = await worker("hub-a", broker.port), await worker("hub-b", broker.port)
    try:
        fix = PositionFix("car-1", SubjectKind.VEHICLE, NOW, "osmand", lat=30.26, lon=120.13)
        await a.pipeline.publish("osmand", fix)
        await a.pipeline.publish("modbus", Reading("m1.energy", 5.0, "kWh", NOW))
        await wait_for(lambda: len(b.live.events) == 2)
        assert [e.event for e in b.live.events] == [fix, Reading("m1.energy", 5.0, "kWh", NOW)]
        assert {e.source for e in b.live.events} == {"peer:hub-a"}
        assert b.store.events == []  # stored where it arrived, not again
        assert len(a.store.events) == 2
        await asyncio.sleep(0.5)
        assert len(a.live.events) == 2  # its own, once: not echoed back (No Local)

        # garbage on the workers' topic (another hub user gone wrong): counted, skipped
        pub = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="x")
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        for junk in (b"{not json", b'[{"k": "reading", "value": "hot"}]', b"\xff" * 100):
            pub.publish("hub/cluster/hub-z/events", junk, qos=1).wait_for_publish(5)
        pub.publish("hub/cluster/commands", b"[]", qos=1).wait_for_publish(5)
        pub.loop_stop()
        pub.disconnect()
        await wait_for(lambda: b.relay.refused >= 4)
        await a.pipeline.publish("modbus", Reading("m1.energy", 6.0, "kWh", NOW))
        await wait_for(lambda: len(b.live.events) == 3)  # still relaying
    finally:
        for w in (a, b):
            await w.relay.stop()
            await w.pipeline.stop()


async def test_a_command_is_carried_out_by_the_worker_that_drives_the_equipment(
    broker: MosquittoServer,
) -> None:
    a, b = await worker("hub-a", broker.port), await worker("hub-b", broker.port)
    done: list[Command] = []

    async def drive(command: Command) -> CommandResult:
        done.append(command)
        return CommandResult(True, value=command.value, detail="written")

    a.relay.execute_here = lambda c: drive(c) if c.target.startswith("ahu-b2.") else None
    try:
        asked = Command("ahu-b2.supply_setpoint", "write", NOW, value=21.5, requested_by="ops")
        result = await b.relay.forward(asked)
        assert result == CommandResult(True, value=21.5, detail="written")
        assert done == [asked]
        b.relay.answer_within_s = 1.0
        nobody = await b.relay.forward(Command("rc-9.fan", "write", NOW, value=1.0))
        assert (nobody.ok, nobody.error) == (False, "unreachable")
    finally:
        for w in (a, b):
            await w.relay.stop()
            await w.pipeline.stop()
