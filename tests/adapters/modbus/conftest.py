"""A Modbus simulator on loopback and an adapter polling it through a real pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import pytest

from adapters.modbus import ModbusAdapter, RegisterMap, load_map, parse_map
from adapters.modbus.config import ModbusConnection, ModbusDevice
from adapters.modbus_sim import ModbusSimulator, SimulatedDevice
from hub.domain import DeviceStatus, Reading
from hub.pipeline import Envelope, Pipeline
from tests.support.servers import free_port
from tests.support.waiting import until

EVERY_TYPE = parse_map(
    """
name: every type
max_block: 125
points:
  - {id: i16, address: 0, type: int16, scale: 0.1, unit: degC}
  - {id: u16, address: 1, type: uint16}
  - {id: i32_cdab, address: 2, type: int32, word_order: little}
  - {id: u32, address: 4, type: uint32}
  - {id: i64, address: 6, type: int64}
  - {id: u64_dcba, address: 10, type: uint64, word_order: little, byte_order: little}
  - {id: f32, address: 14, type: float32}
  - {id: f32_cdab, address: 16, type: float32, word_order: little}
  - {id: f32_badc, address: 18, type: float32, byte_order: little}
  - {id: f64, address: 20, type: float64}
  - {id: setpoint, address: 24, type: int16, scale: 0.1, unit: degC, writable: true, min: 12, max: 30}
  - {id: alarm, address: 30, type: bit, bit: 3, fault: true, name: pump fault}
  - {id: ir_f32, table: input, address: 0, type: float32, unit: kW}
  - {id: coil, table: coil, address: 0, type: bool, writable: true}
  - {id: di, table: discrete, address: 5, type: bool}
""",
    "every_type.yaml",
)


@dataclass
class Recorder:
    """Everything the adapter published, through a real pipeline."""

    readings: list[Reading] = field(default_factory=list)
    statuses: list[DeviceStatus] = field(default_factory=list)

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        for env in batch:
            if isinstance(env.event, Reading):
                self.readings.append(env.event)
            elif isinstance(env.event, DeviceStatus):
                self.statuses.append(env.event)

    def last(self, point_id: str) -> Reading:
        return [r for r in self.readings if r.point_id == point_id][-1]

    def count(self, point_id: str) -> int:
        return sum(1 for r in self.readings if r.point_id == point_id)


@dataclass
class Rig:
    sim: ModbusSimulator
    adapter: ModbusAdapter
    pipeline: Pipeline
    seen: Recorder

    async def settle(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        while self.pipeline.depth:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.02)

    async def wait_for(self, check: Callable[[], bool], timeout: float = 10.0) -> None:
        await until(check, "the devices' readings", timeout=timeout)


def device(dev_id: str, port: int, unit: int, rmap: RegisterMap, **conn: object) -> ModbusDevice:
    connection = ModbusConnection.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "unit": unit,
            "map": rmap.name,
            "interval_s": 0.2,
            "timeout_s": 0.3,
            "breaker_after": 2,
            "backoff_max_s": 0.5,
            **conn,
        }
    )
    return ModbusDevice(
        dev_id, connection, rmap, tuple((f"{dev_id}.{p.id}", p) for p in rmap.points)
    )


@pytest.fixture
def rig_factory() -> Callable[..., object]:
    rigs: list[Rig] = []

    async def make(specs: list[tuple[str, int, int, RegisterMap, dict[str, object]]]) -> Rig:
        sim = ModbusSimulator(
            [
                SimulatedDevice(d, port, unit, rmap, framer=str(conn.get("framer", "socket")))
                for d, port, unit, rmap, conn in specs
            ]
        )
        await sim.start()
        pipeline = Pipeline()
        seen = Recorder()
        pipeline.subscribe("recorder", seen)
        await pipeline.start()
        adapter = ModbusAdapter(
            [device(d, port, unit, rmap, **conn) for d, port, unit, rmap, conn in specs], pipeline
        )
        await adapter.start()
        rig = Rig(sim, adapter, pipeline, seen)
        rigs.append(rig)
        return rig

    make.rigs = rigs  # type: ignore[attr-defined]
    return make


@pytest.fixture
async def rigs(rig_factory) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    yield rig_factory
    for rig in rig_factory.rigs:
        await rig.adapter.stop()
        await rig.pipeline.stop()
        await rig.sim.stop()


@pytest.fixture
def sdm630() -> RegisterMap:
    return load_map("eastron_sdm630")


@pytest.fixture
def ahu() -> RegisterMap:
    return load_map("generic_ahu")


@pytest.fixture
def port() -> int:
    return free_port()
