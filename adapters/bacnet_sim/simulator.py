"""BACnet devices simulated with bacpypes3: one application (one UDP port) per device.

Objects come from the device's point list; values move around the list's `sim` hints
(`mean`, `amplitude`, `period_s`, `cov_increment`), writable objects keep what is written
(a priority array: write at a priority, relinquish with Null). COV works as on a real device
(bacpypes3 notifies on `covIncrement` for analog objects, on every change for binary ones).

Two applications on 127.0.0.x with the same UDP port don't reach each other (bacpypes3
takes unicast to its own port as self-addressed), so every device gets its own port.

Faults to inject:
- `fault`: every object's status-flags shows fault, reliability turns unreliable, and the
  list's fault points go active;
- `dead`: the device stops answering (requests time out) until cleared;
- `no_rpm`: the device rejects ReadPropertyMultiple ("unrecognized-service").
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bacpypes3.app import Application
from bacpypes3.basetypes import BDTEntry, IPMode
from bacpypes3.errors import UnrecognizedService
from bacpypes3.local.analog import (
    AnalogInputObject,
    AnalogOutputObject,
    AnalogValueObject,
    AnalogValueObjectCmd,
)
from bacpypes3.local.binary import (
    BinaryInputObject,
    BinaryOutputObject,
    BinaryValueObject,
    BinaryValueObjectCmd,
)
from bacpypes3.local.cmd import Commandable
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.multistate import MultiStateInputObject, MultiStateValueObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.object import MultiStateValueObject as _MultiStateValueObject

from adapters.bacnet.config import BacnetConnection
from adapters.bacnet.points import BacnetPoint, PointList, load_list
from hub.site.model import Device

log = logging.getLogger(__name__)

_UNITS = {
    "degC": "degreesCelsius",
    "%": "percent",
    "ppm": "partsPerMillion",
    "W": "watts",
    "kW": "kilowatts",
    "kWh": "kilowattHours",
    "Pa": "pascals",
    "Hz": "hertz",
}


class MultiStateValueObjectCmd(Commandable, _MultiStateValueObject):  # type: ignore[misc]
    """A multi-state value with a priority array (bacpypes3 ships none; built as its
    BinaryValueObjectCmd is)."""

    _required = ("priorityArray",)


class _SimApplication(Application):  # type: ignore[misc]
    """A device that can go silent or stop implementing ReadPropertyMultiple.

    Faults are switches on the running application: closing and reopening a bacpypes3
    endpoint right after it was made races its asynchronous set-up.
    """

    silent = False
    reject_rpm = False

    async def indication(self, apdu: Any) -> None:
        if self.silent:
            return  # a dead device: requests go unanswered
        await super().indication(apdu)

    async def do_ReadPropertyMultipleRequest(self, apdu: Any) -> None:
        if self.reject_rpm:
            raise UnrecognizedService()
        await super().do_ReadPropertyMultipleRequest(apdu)


class BacnetFault(enum.StrEnum):
    """What can go wrong with a simulated BACnet device."""

    FAULT = "fault"
    DEAD = "dead"
    NO_RPM = "no_rpm"


@dataclass
class SimulatedBacnetDevice:
    """One device: its instance, UDP port and point list."""

    device_id: str
    instance: int
    port: int
    points: PointList
    host: str = "127.0.0.1"
    fault: BacnetFault | None = None
    bbmd: bool = False  # also a BBMD that accepts foreign-device registrations
    objects: dict[str, Any] = field(default_factory=dict)  # point id -> bacpypes3 object
    app: Any = None


def _make_object(p: BacnetPoint) -> Any:
    kind, instance = p.object_type, p.instance
    hints = p.sim
    common: dict[str, Any] = {
        "objectIdentifier": (kind, instance),
        "objectName": p.id,
        "statusFlags": [0, 0, 0, 0],
        "outOfService": False,
    }
    if kind.startswith("analog"):
        value = float(hints.get("mean", 0.0))
        common.update(
            presentValue=value,
            units=_UNITS.get(p.unit or "", "noUnits"),
            covIncrement=float(hints.get("cov_increment", 0.1)),
        )
        if kind == "analog-input":
            return AnalogInputObject(reliability="noFaultDetected", eventState="normal", **common)
        if kind == "analog-output":
            return AnalogOutputObject(
                relinquishDefault=value,
                reliability="noFaultDetected",
                eventState="normal",
                **common,
            )
        cls = AnalogValueObjectCmd if p.writable else AnalogValueObject
        extra: dict[str, Any] = {"relinquishDefault": value} if p.writable else {}
        return cls(eventState="normal", **extra, **common)
    if kind.startswith("binary"):
        active = "active" if hints.get("mean", 0.0) else "inactive"
        common.update(presentValue=active)
        if kind == "binary-input":
            return BinaryInputObject(
                polarity="normal", reliability="noFaultDetected", eventState="normal", **common
            )
        if kind == "binary-output":
            return BinaryOutputObject(
                polarity="normal", relinquishDefault=active, eventState="normal", **common
            )
        cls = BinaryValueObjectCmd if p.writable else BinaryValueObject
        extra = {"relinquishDefault": active} if p.writable else {}
        return cls(eventState="normal", **extra, **common)
    states = int(max(p.max or 3, 2))
    value = int(hints.get("mean", 1))
    common.update(presentValue=value, numberOfStates=states)
    if kind == "multi-state-input":
        return MultiStateInputObject(eventState="normal", **common)
    cls = MultiStateValueObjectCmd if p.writable else MultiStateValueObject
    extra = {"relinquishDefault": value} if p.writable else {}
    return cls(eventState="normal", **extra, **common)


class BacnetSimulator:
    """bacpypes3 applications for a set of simulated devices; a hub Component."""

    name = "bacnet_simulator"

    def __init__(self, devices: Sequence[SimulatedBacnetDevice], *, tick_s: float = 0.5) -> None:
        self.devices = {d.device_id: d for d in devices}
        self.tick_s = tick_s
        self._t0 = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def _open(self, dev: SimulatedBacnetDevice) -> None:
        device = DeviceObject(
            objectIdentifier=("device", dev.instance),
            objectName=f"{dev.device_id}",
            vendorIdentifier=999,
        )
        port = NetworkPortObject(
            f"{dev.host}/8:{dev.port}",
            objectIdentifier=("network-port", 1),
            objectName="NetworkPort-1",
        )
        if dev.bbmd:
            port.bacnetIPMode = IPMode.bbmd
            port.bbmdAcceptFDRegistrations = True
            port.bbmdForeignDeviceTable = []
            port.bbmdBroadcastDistributionTable = [BDTEntry(f"{dev.host}:{dev.port}")]
        dev.objects = {p.id: dev.objects.get(p.id) or _make_object(p) for p in dev.points.points}
        dev.app = _SimApplication.from_object_list([device, port, *dev.objects.values()])

    def _close(self, dev: SimulatedBacnetDevice) -> None:
        if dev.app is not None:
            dev.app.close()
            dev.app = None

    async def start(self) -> None:
        for dev in self.devices.values():
            self._open(dev)
        self._task = asyncio.create_task(self._animate(), name="bacnet-sim")
        log.info("bacnet simulator: %d devices", len(self.devices))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for dev in self.devices.values():
            self._close(dev)

    async def _animate(self) -> None:
        while True:
            t = time.monotonic() - self._t0
            for dev in self.devices.values():
                for p in dev.points.points:
                    obj = dev.objects[p.id]
                    if p.writable or "amplitude" not in p.sim:
                        continue
                    mean, amp = p.sim.get("mean", 0.0), p.sim.get("amplitude", 0.0)
                    period = p.sim.get("period_s", 600.0)
                    obj.presentValue = mean + amp * math.sin(2 * math.pi * t / period)
            await asyncio.sleep(self.tick_s)

    # -- control --------------------------------------------------------------------------

    def value(self, device_id: str, point_id: str) -> Any:
        """A point's present value as the device holds it."""
        return self.devices[device_id].objects[point_id].presentValue

    def set_value(self, device_id: str, point_id: str, value: Any) -> None:
        """Set a point's present value (a sensor reading, a manual change)."""
        self.devices[device_id].objects[point_id].presentValue = value

    def set_fault(self, device_id: str, fault: BacnetFault | str) -> None:
        """Inject a fault."""
        dev = self.devices[device_id]
        dev.fault = BacnetFault(fault)
        if dev.fault is BacnetFault.DEAD:
            dev.app.silent = True
        elif dev.fault is BacnetFault.NO_RPM:
            dev.app.reject_rpm = True
        else:
            for p in dev.points.points:
                obj = dev.objects[p.id]
                obj.statusFlags = [0, 1, 0, 0]
                if p.fault:
                    obj.presentValue = "active"

    def clear_fault(self, device_id: str) -> None:
        """The device behaves again."""
        dev = self.devices[device_id]
        was, dev.fault = dev.fault, None
        if was in (BacnetFault.DEAD, BacnetFault.NO_RPM):
            dev.app.silent = dev.app.reject_rpm = False
            return
        for p in dev.points.points:
            obj = dev.objects[p.id]
            obj.statusFlags = [0, 0, 0, 0]
            if p.fault:
                obj.presentValue = "inactive"

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self._task and not self._task.done() else "down",
            "devices": len(self.devices),
            "faults": {d.device_id: d.fault.value for d in self.devices.values() if d.fault},
        }


def from_site(
    devices: Sequence[Device], base_dir: Path | None = None
) -> list[SimulatedBacnetDevice]:
    """Simulated devices for the site's BACnet devices, at their configured address."""
    out = []
    for d in devices:
        if d.protocol != "bacnet":
            continue
        conn = BacnetConnection.model_validate(d.connection)
        host, _, port = conn.address.partition(":")
        out.append(
            SimulatedBacnetDevice(
                d.id,
                conn.device_instance,
                int(port or 47808),
                load_list(conn.points, base_dir),
                host=host,
            )
        )
    return out
