"""The Modbus TCP adapter: pollers for the site's Modbus devices, and their write commands."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.modbus.client import LinkError, ModbusLink
from adapters.modbus.config import ModbusDevice, modbus_devices
from adapters.modbus.coordinator import Connection, DevicePoller, WriteRefused
from adapters.modbus.decoders import encode, resolution
from adapters.modbus.points import PointSpec
from hub.domain import Command, CommandResult, EventSink
from hub.site.model import Device
from hub.tasks import cancel

log = logging.getLogger(__name__)


class ModbusAdapter:
    """Polls every Modbus device of the site; one connection per host:port:framer."""

    name = "modbus"

    def __init__(
        self,
        devices: Sequence[ModbusDevice],
        sink: EventSink,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.connections: dict[tuple[str, int, str], Connection] = {}
        self.pollers: dict[str, DevicePoller] = {}
        self._points: dict[str, tuple[DevicePoller, PointSpec]] = {}
        self._limits: dict[str, tuple[float | None, float | None]] = {}
        for d in devices:
            c = d.connection
            key = (c.host, c.port, c.framer)
            if key not in self.connections:
                link = ModbusLink(c.host, c.port, framer=c.framer, timeout=c.timeout_s)
                self.connections[key] = Connection(link, gap_s=c.request_gap_ms / 1000)
            poller = DevicePoller(d, self.connections[key], sink, now=now)
            self.pollers[d.id] = poller
            for pid, spec in d.points:
                self._points[pid] = (poller, spec)
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_site(
        cls, devices: Sequence[Device], sink: EventSink, base_dir: Path | None = None
    ) -> ModbusAdapter:
        """The adapter for the site's Modbus devices (point limits from the site file)."""
        adapter = cls(modbus_devices(list(devices), base_dir), sink)
        for d in devices:
            for p in d.points:
                adapter._limits[d.point_id(p)] = (p.min, p.max)
        return adapter

    async def start(self) -> None:
        for poller in self.pollers.values():
            self._tasks.append(asyncio.create_task(poller.run(), name=f"modbus:{poller.device.id}"))
        log.info(
            "modbus: polling %d devices over %d connections",
            len(self.pollers),
            len(self.connections),
        )

    async def stop(self) -> None:
        await cancel(self._tasks)
        self._tasks.clear()
        for c in self.connections.values():
            c.close()

    def health(self) -> dict[str, Any]:
        devices = {d: p.health() for d, p in self.pollers.items()}
        offline = sorted(d for d, h in devices.items() if h["state"] == "offline")
        faults = sorted(d for d, h in devices.items() if h["fault"])
        return {
            "status": "degraded" if offline else "ok",
            "devices": len(devices),
            "online": sum(1 for h in devices.values() if h["state"] == "online"),
            "offline": offline,
            "faults": faults,
            "requests": sum(c.requests for c in self.connections.values()),
            "link_errors": sum(c.link_errors for c in self.connections.values()),
            "per_device": devices,
        }

    # -- commands -------------------------------------------------------------------------

    def owns(self, point_id: str) -> bool:
        """Whether the point belongs to one of this adapter's devices."""
        return point_id in self._points

    async def execute(self, command: Command) -> CommandResult:
        """Write a value: check it, write it, read it back and compare."""
        found = self._points.get(command.target)
        if found is None:
            return CommandResult(
                False, detail=f"no Modbus point {command.target!r}", error="invalid"
            )
        poller, spec = found
        if command.action != "write" or command.value is None:
            return CommandResult(
                False, detail=f"Modbus points take 'write' with a value, not {command.action!r}"
            )
        if not spec.writable:
            return CommandResult(False, detail=f"{command.target} is read-only", error="invalid")
        value = float(command.value)
        lo, hi = self._limits.get(command.target, (None, None))
        lo = spec.min if lo is None else lo
        hi = spec.max if hi is None else hi
        if (
            not math.isfinite(value)
            or (lo is not None and value < lo)
            or (hi is not None and value > hi)
        ):
            return CommandResult(False, detail=f"{value} is outside {lo}..{hi}", error="invalid")
        try:
            registers = encode(spec, value)
        except ValueError as err:
            return CommandResult(False, detail=str(err), error="invalid")
        try:
            back = await poller.write(command.target, spec, registers)
        except LinkError as err:
            return CommandResult(False, detail=f"device unreachable: {err}", error="unreachable")
        except WriteRefused as err:
            return CommandResult(False, detail=f"device refused: {err}", error="refused")
        if abs(back - value) > resolution(spec) / 2 + 1e-9:
            return CommandResult(False, back, f"read back {back}, not {value}", error="mismatch")
        return CommandResult(True, back, "written and read back")
