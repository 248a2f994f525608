"""Modbus devices simulated with pymodbus's server, serving the shipped register maps.

One TCP server per port; several devices on one port answer by unit id, like a serial
gateway. Registers exist only where the map has points, so a read across a gap is refused
with "illegal data address", as real meters do. Values are computed when read (sine waves
around the map's `sim` hints, counters that grow with time, written setpoints that stay).

Faults to inject per device:
- `bit`: the map's fault points read true (an equipment fault the device itself reports);
- `dead`: the device stops answering (requests time out) until cleared;
- `exception`: every request is answered with a Modbus exception (default 4, device failure);
- `gateway`: the gateway answers exception 11 (target device failed to respond).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from adapters.modbus.config import ModbusConnection
from adapters.modbus.decoders import decode, encode
from adapters.modbus.points import DataType, PointSpec, RegisterMap, Table, load_map
from hub.site.model import Device

log = logging.getLogger(__name__)

_READ_FC = {3: Table.HOLDING, 4: Table.INPUT}
_WRITE_FC = {6: Table.HOLDING, 16: Table.HOLDING}


class Fault(enum.StrEnum):
    """What can go wrong with a simulated device."""

    BIT = "bit"
    DEAD = "dead"
    EXCEPTION = "exception"
    GATEWAY = "gateway"


@dataclass
class SimulatedDevice:
    """One device: where it listens and what it serves."""

    device_id: str
    port: int
    unit: int
    map: RegisterMap
    host: str = "127.0.0.1"
    framer: str = "socket"
    fault: Fault | None = None
    exception_code: int = 4
    fault_points: set[str] = field(default_factory=set)  # empty: all fault points
    held: dict[str, float] = field(default_factory=dict)  # written or set values
    counters: dict[str, tuple[float, float]] = field(default_factory=dict)  # id: (base, t0)
    reads: int = 0
    revived: asyncio.Event = field(default_factory=asyncio.Event)  # set while not dead


def _guess(spec: PointSpec) -> dict[str, float]:
    """Simulation hints for a point the map gives none for, by its unit."""
    by_unit = {
        "V": 230.0,
        "A": 20.0,
        "W": 5000.0,
        "kW": 50.0,
        "Hz": 50.0,
        "degC": 20.0,
        "%": 50.0,
        "Pa": 200.0,
    }
    if spec.counter:
        return {"rate_per_h": 10.0}
    return {"mean": by_unit.get(spec.unit, 0.0), "amplitude": 0.0}


class ModbusSimulator:
    """Pymodbus servers for a set of simulated devices; a hub Component."""

    name = "modbus_simulator"

    def __init__(
        self, devices: Sequence[SimulatedDevice], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.devices = {d.device_id: d for d in devices}
        for d in devices:
            if d.fault is not Fault.DEAD:
                d.revived.set()
        self._clock = clock
        self._t0 = clock()
        self._servers: list[Any] = []

    # -- values ---------------------------------------------------------------------------

    def value(self, device_id: str, point_id: str) -> float:
        """The point's engineering value now."""
        dev = self.devices[device_id]
        spec = dev.map.point(point_id)
        if spec is None:
            raise KeyError(point_id)
        return self._value(dev, spec)

    def _value(self, dev: SimulatedDevice, spec: PointSpec) -> float:
        now = self._clock()
        if spec.fault or spec.fault_values:
            active = dev.fault is Fault.BIT and (
                not dev.fault_points or spec.id in dev.fault_points
            )
            return (spec.fault_values[0] if spec.fault_values else 1.0) if active else 0.0
        hints = spec.sim or _guess(spec)
        if spec.counter:
            base, t0 = dev.counters.setdefault(spec.id, (hints.get("start", 1000.0), self._t0))
            return base + hints.get("rate_per_h", 0.0) * (now - t0) / 3600
        if spec.id in dev.held:
            return dev.held[spec.id]
        mean = hints.get("mean", 0.0)
        amplitude = hints.get("amplitude", 0.0)
        period = hints.get("period_s", 600.0)
        return mean + amplitude * math.sin(2 * math.pi * (now - self._t0) / period)

    def set_value(self, device_id: str, point_id: str, value: float) -> None:
        """Hold a point at a value (a counter continues counting from it)."""
        dev = self.devices[device_id]
        spec = dev.map.point(point_id)
        if spec is not None and spec.counter:
            dev.counters[point_id] = (value, self._clock())
        else:
            dev.held[point_id] = value

    # -- faults ---------------------------------------------------------------------------

    def set_fault(
        self, device_id: str, fault: Fault | str, *, code: int = 4, points: Sequence[str] = ()
    ) -> None:
        """Inject a fault into a device."""
        dev = self.devices[device_id]
        dev.fault = Fault(fault)
        dev.exception_code = code
        dev.fault_points = set(points)
        if dev.fault is Fault.DEAD:
            dev.revived.clear()

    def clear_fault(self, device_id: str) -> None:
        """The device behaves again."""
        dev = self.devices[device_id]
        dev.fault = None
        dev.fault_points = set()
        dev.revived.set()

    # -- serving --------------------------------------------------------------------------

    def _registers(self, dev: SimulatedDevice, table: Table) -> list[SimData]:
        taken: dict[int, int] = {}
        for spec in dev.map.points:
            if spec.table is table:
                taken[spec.address] = max(taken.get(spec.address, 0), spec.width)
        if table.is_bits:
            data = [SimData(a, count=1, values=False, datatype=SimType.BITS) for a in sorted(taken)]
        else:
            data = [
                SimData(a, count=n, values=0, datatype=SimType.REGISTERS)
                for a, n in sorted(taken.items())
            ]
        # pymodbus needs every table to exist; an unused one gets an entry nobody reads.
        if table.is_bits:
            return data or [SimData(65520, count=1, values=False, datatype=SimType.BITS)]
        return data or [SimData(65000, count=1, values=0, datatype=SimType.REGISTERS)]

    def _sim_device(self, dev: SimulatedDevice) -> SimDevice:
        async def action(
            fc: int,
            start: int,
            address: int,
            count: int,
            registers: list[int],
            values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            return await self._serve(dev, fc, start, address, count, registers, values)

        return SimDevice(
            id=dev.unit,
            simdata=tuple(
                self._registers(dev, t)
                for t in (Table.COIL, Table.DISCRETE, Table.HOLDING, Table.INPUT)  # type: ignore[arg-type]
            ),
            action=action,
        )

    async def _serve(
        self,
        dev: SimulatedDevice,
        fc: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if dev.fault is Fault.DEAD:
            await dev.revived.wait()  # say nothing; answer late once revived
        if dev.fault is Fault.EXCEPTION:
            return ExcCodes(dev.exception_code)
        if dev.fault is Fault.GATEWAY:
            return ExcCodes.GATEWAY_NO_RESPONSE
        dev.reads += 1
        if values is None and fc in _READ_FC:
            self._fill(dev, _READ_FC[fc], start, address, count, registers)
        elif values is not None and fc in _WRITE_FC:
            self._take_write(dev, address, [int(v) for v in values])
        elif values is not None and fc in (5, 15):
            for i, v in enumerate(values):
                for spec in dev.map.points:
                    if spec.table is Table.COIL and spec.address == address + i:
                        dev.held[spec.id] = 1.0 if v else 0.0
        return None

    def _fill(
        self,
        dev: SimulatedDevice,
        table: Table,
        start: int,
        address: int,
        count: int,
        registers: list[int],
    ) -> None:
        end = address + count
        bits: dict[int, int] = {}
        for spec in dev.map.points:
            if (
                spec.table is not table
                or spec.address >= end
                or spec.address + spec.width <= address
            ):
                continue
            value = self._value(dev, spec)
            if spec.type is DataType.BIT:
                assert spec.bit is not None
                bits[spec.address] = bits.get(spec.address, 0) | (int(bool(value)) << spec.bit)
                continue
            if spec.type is DataType.STRING:
                continue
            encoded = encode(spec, value)
            regs = [int(encoded)] if isinstance(encoded, bool) else encoded
            for i, r in enumerate(regs):
                registers[spec.address - start + i] = r
        for a, word in bits.items():
            registers[a - start] = word

    def _take_write(self, dev: SimulatedDevice, address: int, regs: list[int]) -> None:
        for spec in dev.map.points:
            lo = spec.address - address
            if (
                spec.table is Table.HOLDING
                and spec.writable
                and lo >= 0
                and lo + spec.width <= len(regs)
            ):
                value = decode(spec, regs[lo : lo + spec.width])
                if not isinstance(value, str):
                    dev.held[spec.id] = value

    async def start(self) -> None:
        ports: dict[tuple[str, int, str], list[SimulatedDevice]] = {}
        for dev in self.devices.values():
            ports.setdefault((dev.host, dev.port, dev.framer), []).append(dev)
        for (host, port, framer), devs in ports.items():
            server = ModbusTcpServer(
                [self._sim_device(d) for d in devs],
                address=(host, port),
                framer=FramerType.RTU if framer == "rtu" else FramerType.SOCKET,
            )
            await server.serve_forever(background=True)
            self._servers.append(server)
            for d in devs:  # coils and discrete inputs start at their simulated values
                for spec in d.map.points:
                    if spec.table.is_bits:
                        fc = 1 if spec.table is Table.COIL else 2
                        on = bool(self._value(d, spec))
                        await server.async_setValues(d.unit, fc, spec.address, [on])
        log.info("modbus simulator: %d devices on %d ports", len(self.devices), len(ports))

    async def stop(self) -> None:
        for server in self._servers:
            try:
                await server.shutdown()
            except Exception as err:  # stopping must not fail the hub's shutdown
                log.warning("modbus simulator shutdown: %s", err)
        self._servers.clear()

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self._servers else "down",
            "devices": len(self.devices),
            "faults": {d.device_id: d.fault.value for d in self.devices.values() if d.fault},
        }


def from_site(devices: Sequence[Device], base_dir: Path | None = None) -> list[SimulatedDevice]:
    """Simulated devices for the site's Modbus devices, on their configured host and port."""
    out = []
    for d in devices:
        if d.protocol != "modbus":
            continue
        conn = ModbusConnection.model_validate(d.connection)
        out.append(
            SimulatedDevice(
                d.id,
                conn.port,
                conn.unit,
                load_map(conn.map, base_dir),
                host=conn.host,
                framer=conn.framer,
            )
        )
    return out
