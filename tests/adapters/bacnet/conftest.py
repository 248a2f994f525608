"""Simulated BACnet devices on loopback UDP and the adapter reading them through a pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.bacnet import BacnetAdapter, BacnetLink, PointList, load_list
from adapters.bacnet.config import BacnetConnection, BacnetDevice
from adapters.bacnet_sim import BacnetSimulator, SimulatedBacnetDevice
from hub.demo.runner import free_udp_port
from hub.pipeline import Pipeline
from tests.adapters.modbus.conftest import Recorder
from tests.support.waiting import until


@dataclass
class BacnetRig:
    sim: BacnetSimulator
    adapter: BacnetAdapter
    pipeline: Pipeline
    seen: Recorder
    ports: dict[str, int]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 15.0) -> None:
        def state() -> str:
            seen = sorted({r.point_id for r in self.seen.readings})
            last = {
                p: (r.value, r.quality.value)
                for r in self.seen.readings[-20:]
                for p in [r.point_id]
            }
            statuses = [(s.fault, s.detail) for s in self.seen.statuses[-3:]]
            return (
                f"adapter: {self.adapter.health()}; readings of {seen}; last readings {last}; "
                f"last statuses {statuses}"
            )

        await until(check, "the devices' readings", timeout=timeout, explain=state)


def bacnet_device(
    dev_id: str, instance: int, port: int, plist: PointList, **conn: Any
) -> BacnetDevice:
    connection = BacnetConnection.model_validate(
        {
            "address": f"127.0.0.1:{port}",
            "device_instance": instance,
            "points": plist.name,
            "interval_s": 0.5,
            "status_interval_s": 0.5,
            "timeout_s": 0.5,
            "breaker_after": 2,
            "backoff_max_s": 1.0,
            **conn,
        }
    )
    return BacnetDevice(dev_id, connection, tuple((f"{dev_id}.{p.id}", p) for p in plist.points))


@pytest.fixture
async def bacnet_rigs() -> AsyncIterator[Callable[..., Any]]:
    made: list[BacnetRig] = []

    async def make(
        specs: list[tuple[str, int, PointList, dict[str, Any]]], *, max_apdu: int = 1476
    ) -> BacnetRig:
        ports = {dev_id: free_udp_port() for dev_id, *_ in specs}
        sim = BacnetSimulator(
            [SimulatedBacnetDevice(d, inst, ports[d], plist) for d, inst, plist, _ in specs],
            tick_s=0.1,
        )
        await sim.start()
        pipeline = Pipeline()
        seen = Recorder()
        pipeline.subscribe("recorder", seen)
        await pipeline.start()
        link = BacnetLink(
            f"127.0.0.1/8:{free_udp_port()}",
            4190001,
            apdu_timeout_ms=500,
            retries=0,
            max_apdu=max_apdu,
        )
        adapter = BacnetAdapter(
            [bacnet_device(d, inst, ports[d], plist, **conn) for d, inst, plist, conn in specs],
            pipeline,
            link,
        )
        await adapter.start()
        rig = BacnetRig(sim, adapter, pipeline, seen, ports)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        await rig.adapter.stop()
        await rig.pipeline.stop()
        await rig.sim.stop()


@pytest.fixture
def ahu() -> PointList:
    return load_list("ahu_controller")


@pytest.fixture
def room() -> PointList:
    return load_list("room_controller")
