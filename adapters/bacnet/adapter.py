"""The BACnet/IP adapter: the hub's BACnet application, a poller per device, write commands."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from adapters.bacnet.client import BacnetLink, Refusal, Unreachable, unit_name
from adapters.bacnet.config import BacnetDevice, bacnet_devices
from adapters.bacnet.coordinator import BacnetPoller, WriteRefused
from adapters.bacnet.points import OBJECT_TYPES
from hub.domain import Command, CommandResult, EventSink
from hub.site.model import Device
from hub.tasks import cancel

log = logging.getLogger(__name__)


class BacnetAdapter:
    """Reads the site's BACnet devices through one local BACnet/IP application."""

    name = "bacnet"

    def __init__(self, devices: Sequence[BacnetDevice], sink: EventSink, link: BacnetLink) -> None:
        self.link = link
        self.pollers = {d.id: BacnetPoller(d, link, sink) for d in devices}
        self._points = {pid: poller for poller in self.pollers.values() for pid in poller.points}
        self._limits: dict[str, tuple[float | None, float | None]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_site(
        cls,
        devices: Sequence[Device],
        sink: EventSink,
        link: BacnetLink,
        base_dir: Path | None = None,
    ) -> BacnetAdapter:
        """The adapter for the site's BACnet devices (point limits from the site file)."""
        adapter = cls(bacnet_devices(list(devices), base_dir), sink, link)
        for d in devices:
            for p in d.points:
                adapter._limits[d.point_id(p)] = (p.min, p.max)
        return adapter

    async def start(self) -> None:
        await self.link.start()
        for poller in self.pollers.values():
            self._tasks.append(asyncio.create_task(poller.run(), name=f"bacnet:{poller.device.id}"))
        log.info("bacnet: reading %d devices from %s", len(self.pollers), self.link.address)

    async def stop(self) -> None:
        await cancel(self._tasks)
        self._tasks.clear()
        self.link.close()

    def health(self) -> dict[str, Any]:
        devices = {d: p.health() for d, p in self.pollers.items()}
        offline = sorted(d for d, h in devices.items() if h["state"] == "offline")
        return {
            "status": "degraded" if offline else "ok",
            "local": self.link.address,
            "devices": len(devices),
            "online": sum(1 for h in devices.values() if h["state"] == "online"),
            "offline": offline,
            "faults": sorted(d for d, h in devices.items() if h["fault"]),
            "per_device": devices,
        }

    # -- commands -------------------------------------------------------------------------

    def owns(self, point_id: str) -> bool:
        """Whether the point belongs to one of this adapter's devices."""
        return point_id in self._points

    async def execute(self, command: Command) -> CommandResult:
        """Write at the point's priority, or relinquish it; read back and compare."""
        poller = self._points.get(command.target)
        if poller is None:
            return CommandResult(
                False, detail=f"no BACnet point {command.target!r}", error="invalid"
            )
        point = poller.points[command.target]
        if not point.writable:
            return CommandResult(False, detail=f"{command.target} is read-only", error="invalid")
        value: float | None
        if command.action == "relinquish":
            value = None
        elif command.action == "write" and command.value is not None:
            value = float(command.value)
            lo, hi = self._limits.get(command.target, (point.min, point.max))
            lo = point.min if lo is None else lo
            hi = point.max if hi is None else hi
            out = (lo is not None and value < lo) or (hi is not None and value > hi)
            if not math.isfinite(value) or out:
                return CommandResult(
                    False, detail=f"{value} is outside {lo}..{hi}", error="invalid"
                )
            if point.binary and value not in (0.0, 1.0):
                return CommandResult(False, detail="a binary point takes 0 or 1", error="invalid")
        else:
            return CommandResult(
                False,
                detail="BACnet points take 'write' with a value or 'relinquish'",
                error="invalid",
            )
        try:
            back = await poller.write(command.target, value)
        except Unreachable as err:
            return CommandResult(False, detail=f"device unreachable: {err}", error="unreachable")
        except WriteRefused as err:
            return CommandResult(False, detail=f"device refused: {err}", error="refused")
        if value is None:
            return CommandResult(True, back, f"relinquished priority {point.priority}; now {back}")
        if abs(back - value) > 1e-3 * max(1.0, abs(value)):
            return CommandResult(
                False,
                back,
                f"read back {back}, not {value} (a higher priority may be in control)",
                error="mismatch",
            )
        return CommandResult(True, back, f"written at priority {point.priority} and read back")


async def discover(
    link: BacnetLink,
    *,
    address: str | None = None,
    low: int | None = None,
    high: int | None = None,
    timeout: float = 3.0,
) -> list[dict[str, Any]]:
    """Who-Is, then each device's object list: a proposed point list per device."""
    found = []
    for instance, addr in await link.who_is(low, high, address, timeout):
        objects = await link.read(addr, f"device,{instance}", "object-list", timeout)
        name = await link.read(addr, f"device,{instance}", "object-name", timeout)
        points = []
        if not isinstance(objects, Refusal):
            for obj_type, obj_instance in objects:
                kind = str(obj_type)
                if kind not in OBJECT_TYPES:
                    continue
                obj = f"{kind},{int(obj_instance)}"
                oname = await link.read(addr, obj, "object-name", timeout)
                entry: dict[str, Any] = {
                    "id": _slug(str(oname), obj),
                    "name": str(oname),
                    "object": obj,
                }
                if kind.startswith("analog"):
                    units = await link.read(addr, obj, "units", timeout)
                    if not isinstance(units, Refusal):
                        entry["unit"] = unit_name(units)
                if kind.endswith(("output", "value")) and not kind.startswith("accumulator"):
                    entry["writable"] = False  # decide per point: writable: true, priority: 8
                points.append(entry)
        found.append(
            {
                "device_instance": instance,
                "address": addr,
                "name": "" if isinstance(name, Refusal) else str(name),
                "points": points,
            }
        )
    return found


def _slug(name: str, fallback: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return out[:64] if out and out[0].isalnum() and out.isascii() else fallback.replace(",", "_")


def proposal_yaml(device: dict[str, Any]) -> str:
    """A device found by `discover` as a point-list file to review and keep."""
    body = {
        "name": device["name"] or f"device {device['device_instance']}",
        "source": f"discovered at {device['address']}",
        "points": device["points"],
    }
    return yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
