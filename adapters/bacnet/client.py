"""The one place the adapter touches bacpypes3: the hub's own BACnet application and its calls.

Values come back as plain Python (float, str, tuple of status flags); a device's error,
reject or abort is a value (`Refusal`), not an exception; no answer in time raises
`Unreachable`. bacpypes3 raises ErrorRejectAbortNack, which derives from BaseException, so
it is caught here by name and never reaches the coordinator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from bacpypes3.apdu import AbortPDU, ErrorRejectAbortNack, RejectPDU
from bacpypes3.app import Application
from bacpypes3.basetypes import HostNPort, IPMode
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import BitString, Enumerated, Null, ObjectIdentifier, Real

from adapters.common.numbers import as_float32

# BACnet engineering units (bacpypes3 names) -> the hub's SI spellings.
UNITS = {
    "degrees-celsius": "degC",
    "percent": "%",
    "parts-per-million": "ppm",
    "watts": "W",
    "kilowatts": "kW",
    "kilowatt-hours": "kWh",
    "pascals": "Pa",
    "hertz": "Hz",
    "volts": "V",
    "amperes": "A",
    "percent-relative-humidity": "%RH",
    "cubic-meters-per-hour": "m3/h",
    "no-units": "",
    "hours": "h",
    "liters-per-second": "L/s",
}


class Unreachable(Exception):
    """No answer in time."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """The device answered with an error, a reject or an abort."""

    kind: str  # "error", "reject", "abort"
    reason: str  # e.g. "unknown-object", "unrecognized-service", "segmentation-not-supported"

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


def _refusal(err: ErrorRejectAbortNack) -> Refusal:
    if isinstance(err, RejectPDU):
        return Refusal("reject", str(err.apduAbortRejectReason))
    if isinstance(err, AbortPDU):
        return Refusal("abort", str(err.apduAbortRejectReason))
    code = getattr(err, "errorCode", None)
    return Refusal("error", str(code) if code is not None else str(err))


def plain(value: Any) -> Any:
    """A bacpypes3 value as plain Python: numbers as float, flags as a tuple of bools."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, BitString):
        return tuple(bool(b) for b in value)
    if isinstance(value, Enumerated):
        name = str(value)
        if name in ("active", "inactive"):
            return 1.0 if name == "active" else 0.0
        return name if not name.isdigit() else float(int(value))
    if isinstance(value, Real):  # a float32 on the wire: as the device holds it
        return as_float32(float(value))
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def unit_name(value: Any) -> str:
    """An engineering-units value as the hub spells it."""
    name = str(value)
    return UNITS.get(name, name)


class BacnetLink:
    """The hub's BACnet/IP application: a local device on a UDP address."""

    def __init__(
        self,
        address: str,
        instance: int,
        *,
        bbmd: str | None = None,
        ttl_s: int = 300,
        apdu_timeout_ms: int = 2000,
        retries: int = 1,
        max_apdu: int = 1476,
    ) -> None:
        self.address, self.instance = address, instance
        self.max_apdu = max_apdu  # the largest reply we accept (480 behind MS/TP routers)
        self.bbmd, self.ttl_s = bbmd, ttl_s
        self.apdu_timeout_ms, self.retries = apdu_timeout_ms, retries
        self.app: Application | None = None

    async def start(self) -> None:
        """Open the UDP endpoint (inside the running loop; bacpypes3 binds to it)."""
        device = DeviceObject(
            objectIdentifier=("device", self.instance),
            objectName=f"dayuan-hub-{self.instance}",
            vendorIdentifier=999,
            apduTimeout=self.apdu_timeout_ms,
            numberOfApduRetries=self.retries,
            maxApduLengthAccepted=self.max_apdu,
            segmentationSupported="noSegmentation",
        )
        port = NetworkPortObject(
            self.address, objectIdentifier=("network-port", 1), objectName="NetworkPort-1"
        )
        if self.bbmd:  # register as a foreign device where broadcasts can't reach
            port.bacnetIPMode = IPMode.foreign
            port.fdBBMDAddress = HostNPort(self.bbmd)
            port.fdSubscriptionLifetime = self.ttl_s
        self.app = Application.from_object_list([device, port])

    def close(self) -> None:
        """Close the UDP endpoint."""
        if self.app is not None:
            self.app.close()
            self.app = None

    def _app(self) -> Application:
        if self.app is None:
            raise Unreachable("the BACnet link is not started")
        return self.app

    async def who_is(
        self,
        low: int | None = None,
        high: int | None = None,
        address: str | None = None,
        timeout: float = 3.0,
    ) -> list[tuple[int, str]]:
        """(instance, address) of the devices that answer (to a broadcast or one address)."""
        app = self._app()
        try:
            i_ams = await asyncio.wait_for(
                app.who_is(low, high, Address(address) if address else None, timeout=timeout),
                timeout + 1,
            )
        except TimeoutError:
            return []
        return [(int(i.iAmDeviceIdentifier[1]), str(i.pduSource)) for i in i_ams]

    async def read(self, address: str, obj: str, prop: str, timeout: float) -> Any:
        """One property (ReadProperty)."""
        try:
            value = await asyncio.wait_for(
                self._app().read_property(Address(address), ObjectIdentifier(obj), prop), timeout
            )
        except TimeoutError as err:
            raise Unreachable(f"no answer from {address} in {timeout} s") from err
        except ErrorRejectAbortNack as err:
            return _refusal(err)
        return plain(value)

    async def read_multiple(
        self, address: str, specs: Sequence[tuple[str, Sequence[str]]], timeout: float
    ) -> dict[tuple[str, str], Any] | Refusal:
        """Several properties of several objects in one ReadPropertyMultiple."""
        params: list[Any] = []
        for obj, props in specs:
            params += [ObjectIdentifier(obj), list(props)]
        try:
            rows = await asyncio.wait_for(
                self._app().read_property_multiple(Address(address), params), timeout
            )
        except TimeoutError as err:
            raise Unreachable(f"no answer from {address} in {timeout} s") from err
        except ErrorRejectAbortNack as err:
            return _refusal(err)
        out: dict[tuple[str, str], Any] = {}
        for objid, prop, _index, value in rows:
            key = (f"{objid[0]},{objid[1]}", str(prop))
            is_error = type(value).__name__ == "ErrorType"
            out[key] = (
                Refusal("error", str(getattr(value, "errorCode", "error")))
                if is_error
                else plain(value)
            )
        return out

    async def write(
        self,
        address: str,
        obj: str,
        prop: str,
        value: float | None,
        priority: int,
        timeout: float,
    ) -> Refusal | None:
        """WriteProperty at a priority; `value=None` relinquishes (writes Null)."""
        payload: Any
        kind = obj.split(",")[0]
        if value is None:
            payload = Null(())
        elif kind.startswith("binary"):
            payload = "active" if value else "inactive"
        elif kind.startswith(("multi-state", "integer", "positive-integer")):
            payload = int(value)
        else:
            payload = float(value)
        try:
            await asyncio.wait_for(
                self._app().write_property(
                    Address(address), ObjectIdentifier(obj), prop, payload, priority=priority
                ),
                timeout,
            )
        except TimeoutError as err:
            raise Unreachable(f"no answer from {address} in {timeout} s") from err
        except ErrorRejectAbortNack as err:
            return _refusal(err)
        except (TypeError, ValueError) as err:  # the value doesn't fit the property's type
            return Refusal("local", f"cannot encode {value!r} for {obj} {prop}: {err}")
        return None

    @contextlib.asynccontextmanager
    async def subscribe(
        self, address: str, obj: str, lifetime_s: int, timeout: float
    ) -> AsyncIterator[asyncio.Queue[tuple[str, Any]]]:
        """A COV subscription (renewed by bacpypes3 before its lifetime ends); yields a queue
        of (property, value) notifications. Refusal or Unreachable raise on subscribing."""
        app = self._app()
        # bacpypes3 wants an ObjectIdentifier here, not a string.
        scm = app.change_of_value(Address(address), ObjectIdentifier(obj), None, False, lifetime_s)
        try:
            await asyncio.wait_for(scm.__aenter__(), timeout)
        except TimeoutError as err:
            raise Unreachable(f"no answer from {address} to SubscribeCOV") from err
        except ErrorRejectAbortNack as err:
            raise SubscribeRefused(_refusal(err)) from None
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=1000)

        async def pump() -> None:
            while True:
                prop, value = await scm.get_value()
                if queue.full():
                    queue.get_nowait()  # keep the newest
                queue.put_nowait((str(prop), plain(value)))

        task = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception, ErrorRejectAbortNack):
                await task
            with contextlib.suppress(Exception, ErrorRejectAbortNack):
                await asyncio.wait_for(scm.__aexit__(None, None, None), timeout)


class SubscribeRefused(Exception):
    """The device refused a COV subscription."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal
