"""Reading one BACnet device: batched ReadPropertyMultiple, COV, status, writes.

- Points are read with ReadPropertyMultiple in batches of `rpm_batch` properties (value,
  status-flags, reliability); a device that rejects RPM ("unrecognized-service") is read with
  ReadProperty from then on, and one that aborts a batch as too large for an unsegmented
  reply gets smaller batches.
- At most `max_outstanding` confirmed requests are in flight to one device (hundreds of
  outstanding requests to one device can hang bacpypes3's event loop).
- Points marked `cov` are subscribed (SubscribeCOV, renewed by bacpypes3 before the lifetime
  ends) and otherwise left alone; if a subscription stays quiet for `cov_quiet_s` the point is
  re-read. A refused subscription falls back to polling. A notification's status flags are
  applied before its value (they describe that value).
- A written point is read back at once, and read again `WRITE_SETTLE_S` later; COV values
  arriving in between (a renewal's, one sent before the write) are not believed.
- status-flags (fault, in-alarm, out-of-service, overridden), reliability and fault points
  make the device's DeviceStatus, once per change; a device that stops answering goes
  offline once and comes back once (adapters.common.availability).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.bacnet.client import BacnetLink, Refusal, SubscribeRefused, Unreachable, unit_name
from adapters.bacnet.config import BacnetDevice
from adapters.common.availability import Availability
from hub.domain import DeviceStatus, EventSink, Quality, Reading
from hub.tasks import cancel

log = logging.getLogger(__name__)
SOURCE = "bacnet"
Wanted = tuple[str, list[str]]  # an object and the properties to read of it
_NO_FAULT = "no-fault-detected"
WRITE_SETTLE_S = 3.0  # after a write, COV values are not believed for this long; then a re-read


class BacnetPoller:
    """Keeps one device's points current and reports its status."""

    def __init__(
        self,
        device: BacnetDevice,
        link: BacnetLink,
        sink: EventSink,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.device = device
        self.conn = device.connection
        self.link = link
        self.sink = sink
        self._now = now
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self.availability = Availability(
            self.conn.interval_s, self.conn.breaker_after, self.conn.backoff_max_s, self._rng
        )
        self.points = dict(device.points)  # pid -> point
        self.by_object = {p.object: pid for pid, p in device.points}
        self.units: dict[str, str] = {pid: p.unit for pid, p in device.points if p.unit}
        self.cov_active: set[str] = set()  # points with a live subscription
        self.cov_refused: set[str] = set()
        self.cov_heard: dict[str, float] = {}
        self.polled: dict[str, float] = {}  # when each point was last polled (monotonic)
        # written points: until when COV values are not believed, and when to read them again
        self.settling: dict[str, float] = {}
        self.last: dict[str, Reading] = {}  # the newest reading of each point
        self.status_read = -math.inf  # when status-flags and reliability were last read
        self.flags: dict[str, tuple[bool, ...]] = {}
        self.reliability: dict[str, str] = {}
        self.fault_points: set[str] = set()
        self.fault: str | None = None
        self.rpm = True
        self.batch = self.conn.rpm_batch
        self._gate = asyncio.Semaphore(self.conn.max_outstanding)
        self._tasks: list[asyncio.Task[None]] = []
        self.stats: Counter[str] = Counter()
        self.last_ok: datetime | None = None

    @property
    def state(self) -> str:
        """unknown, online or offline."""
        return self.availability.state

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Read everything once, subscribe COV, then poll what COV doesn't cover."""
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        try:
            while True:
                now = loop.time()
                if now < next_poll:
                    await asyncio.sleep(next_poll - now)
                    continue
                polled = self._to_poll()
                status_only = [pid for pid in self.cov_active if pid not in polled]
                try:
                    ok = await self.poll(polled, status_only)
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # the loop boundary: log with context, keep going
                    log.exception("%s: poll failed unexpectedly", self.device.id)
                    self.stats["internal_errors"] += 1
                    ok = await self._failed(f"internal error: {type(err).__name__}: {err}")
                if ok and self.conn.cov:
                    self._start_cov()
                if ok:
                    await self._refresh_fault()
                next_poll = loop.time() + (
                    self.conn.interval_s if ok else self.availability.backoff()
                )
        finally:
            await cancel(self._tasks)

    def _to_poll(self) -> list[str]:
        """Points due this round: those without live COV whose interval (`poll_s`, else the
        device's) has passed, and COV points whose subscription has been quiet too long."""
        now = time.monotonic()
        out = []
        for pid, p in self.points.items():
            if pid not in self.cov_active:
                every = p.poll_s or self.conn.interval_s
                if now - self.polled.get(pid, -math.inf) >= every * 0.95:
                    out.append(pid)
            elif now - self.cov_heard.get(pid, now) > self.conn.cov_quiet_s:
                self.stats["cov_quiet_rereads"] += 1
                out.append(pid)
            elif pid in self.settling and now >= self.settling[pid]:
                self.stats["write_rereads"] += 1
                out.append(pid)
        for pid in out:
            self.settling.pop(pid, None)
        for pid in out:
            self.polled[pid] = now
        return out

    # -- polling --------------------------------------------------------------------------

    async def _call(self, coro: Any) -> Any:
        async with self._gate:
            self.stats["requests"] += 1
            return await coro

    async def poll(self, pids: Sequence[str], status_only: Sequence[str] = ()) -> bool:
        """Read the points' value, status-flags and reliability, and only the status of
        `status_only` points (COV brings their values); True if the device answered."""
        if not pids and not status_only:
            return True
        now = time.monotonic()
        with_status = now - self.status_read >= self.conn.status_interval_s
        wanted: list[tuple[str, list[str]]] = []
        for pid in pids:
            p = self.points[pid]
            props = [p.prop, "status-flags", "reliability"] if with_status else [p.prop]
            if pid not in self.units and p.object_type.startswith("analog"):
                props.append("units")
            wanted.append((p.object, props))
        # Not every device sends COV when status flags clear (bacpypes3's own objects don't),
        # so the status of subscribed points is read on the status cadence too.
        if with_status:
            wanted += [
                (self.points[pid].object, ["status-flags", "reliability"]) for pid in status_only
            ]
        if not wanted:
            return True
        try:
            values = await (self._read_rpm(wanted) if self.rpm else self._read_rp(wanted))
        except Unreachable as err:
            return await self._failed(str(err))
        if values is None:
            return await self._failed("every read refused")
        if with_status:
            self.status_read = now
        await self._publish(values)
        return True

    def _batches(self, wanted: list[Wanted]) -> list[list[Wanted]]:
        batches: list[list[Wanted]] = []
        current: list[Wanted] = []
        size = 0
        for obj, props in wanted:
            if current and size + len(props) > self.batch:
                batches.append(current)
                current, size = [], 0
            current.append((obj, props))
            size += len(props)
        if current:
            batches.append(current)
        return batches

    async def _read_rpm(
        self, wanted: list[tuple[str, list[str]]]
    ) -> dict[tuple[str, str], Any] | None:
        address, timeout = self.conn.address, self.conn.timeout_s
        results = await asyncio.gather(
            *(
                self._call(self.link.read_multiple(address, b, timeout))
                for b in self._batches(wanted)
            )
        )
        merged: dict[tuple[str, str], Any] = {}
        for r in results:
            if isinstance(r, Refusal):
                self.stats[f"{r.kind}:{r.reason}"] += 1
                if r.reason in ("unrecognized-service", "unrecognized_service"):
                    log.info(
                        "%s rejects ReadPropertyMultiple: reading one property at a time",
                        self.device.id,
                    )
                    self.rpm = False
                    return await self._read_rp(wanted)
                if r.kind == "abort" and self.batch > 1:
                    self.batch = max(1, self.batch // 2)  # too big for an unsegmented reply
                    log.info(
                        "%s aborted a read (%s): batches of %d from now on",
                        self.device.id,
                        r.reason,
                        self.batch,
                    )
                    return await self._read_rpm(wanted)
                continue
            merged.update(r)
        return merged or None

    async def _read_rp(
        self, wanted: list[tuple[str, list[str]]]
    ) -> dict[tuple[str, str], Any] | None:
        address, timeout = self.conn.address, self.conn.timeout_s
        keys = [(obj, prop) for obj, props in wanted for prop in props]
        results = await asyncio.gather(
            *(self._call(self.link.read(address, obj, prop, timeout)) for obj, prop in keys),
            return_exceptions=True,
        )
        out: dict[tuple[str, str], Any] = {}
        for key, r in zip(keys, results, strict=True):
            if isinstance(r, Unreachable):
                raise r
            if isinstance(r, BaseException):
                raise r
            out[key] = r
        return out if any(not isinstance(v, Refusal) for v in out.values()) else None

    async def _publish(self, values: dict[tuple[str, str], Any]) -> None:
        now = self._now()
        readings = []
        for (obj, prop), value in values.items():
            pid = self.by_object.get(obj)
            if pid is None:
                continue
            point = self.points[pid]
            if isinstance(value, Refusal):
                if prop == point.prop:
                    self.stats[f"{value.kind}:{value.reason}"] += 1
                continue  # optional properties (reliability) many objects lack
            if prop == "units":
                self.units[pid] = unit_name(value)
            elif prop == "status-flags" and isinstance(value, tuple):
                self.flags[pid] = value
            elif prop == "reliability":
                self.reliability[pid] = str(value)
        valued = set()
        for (obj, prop), value in values.items():
            pid = self.by_object.get(obj)
            if pid is None or isinstance(value, Refusal) or prop != self.points[pid].prop:
                continue
            valued.add(pid)
            reading = self._reading(pid, value, now)
            if reading is not None:
                readings.append(reading)
        # A subscribed point whose status was read without its value (COV brings values, and
        # a device need not notify when its flags clear): if its quality changed, its value
        # stands with the new quality now, not until the next notification.
        for (obj, prop), _ in values.items():
            pid = self.by_object.get(obj)
            if pid is None or pid in valued or prop != "status-flags" or pid not in self.last:
                continue
            valued.add(pid)
            before = self.last[pid]
            again = self._reading(pid, before.value, now)
            if again is not None and again.quality != before.quality:
                self.stats["quality_changes"] += 1
                readings.append(again)
        await self._answered(readings)

    def _reading(self, pid: str, value: Any, now: datetime) -> Reading | None:
        point = self.points[pid]
        if not isinstance(value, float):
            self.stats["not_a_number"] += 1
            return None
        if point.fault:
            (self.fault_points.add if value else self.fault_points.discard)(pid)
        quality = Quality.GOOD
        flags = self.flags.get(pid, ())
        if (point.min is not None and value < point.min) or (
            point.max is not None and value > point.max
        ):
            quality = Quality.BAD
            self.stats["out_of_range"] += 1
        elif (len(flags) > 1 and flags[1]) or self.reliability.get(pid, _NO_FAULT) != _NO_FAULT:
            quality = Quality.UNCERTAIN  # the device says this value is unreliable
        elif len(flags) > 3 and flags[3]:
            quality = Quality.UNCERTAIN  # out of service: a manual value
        reading = Reading(pid, value, self.units.get(pid, ""), now, quality)
        self.last[pid] = reading
        return reading

    async def _answered(self, readings: list[Reading]) -> None:
        self.last_ok = self._now()
        came_online = self.availability.answered()
        if readings:
            await self.sink.publish_many(SOURCE, readings)
        fault = self._fault_detail()
        if came_online or fault != self.fault:
            self.fault = fault
            await self._status(online=True, fault=fault is not None, detail=fault or "")

    async def _refresh_fault(self) -> None:
        """Report a change in which points are faulty (COV notifications update the flags)."""
        fault = self._fault_detail()
        if fault != self.fault:
            self.fault = fault
            await self._status(online=True, fault=fault is not None, detail=fault or "")

    def _fault_detail(self) -> str | None:
        names = set()
        for pid, p in self.points.items():
            flags = self.flags.get(pid, ())
            rel = self.reliability.get(pid, _NO_FAULT)
            if pid in self.fault_points or (len(flags) > 1 and flags[1]) or rel != _NO_FAULT:
                names.add(p.name or p.id)
        return ", ".join(sorted(names)) or None

    async def _failed(self, error: str) -> bool:
        self.stats["failures"] += 1
        if self.availability.failed(error):
            await self._status(online=False, detail=error)
            log.warning("%s offline: %s", self.device.id, error)
        return False

    async def _status(self, *, online: bool, fault: bool = False, detail: str = "") -> None:
        await self.sink.publish(
            SOURCE, DeviceStatus(self.device.id, online, self._now(), fault=fault, detail=detail)
        )

    # -- COV ------------------------------------------------------------------------------

    def _start_cov(self) -> None:
        for pid, p in self.points.items():
            if p.cov and pid not in self.cov_active and pid not in self.cov_refused:
                self.cov_active.add(pid)
                self.cov_heard[pid] = time.monotonic()
                self._tasks.append(asyncio.create_task(self._follow(pid), name=f"cov:{pid}"))

    async def _follow(self, pid: str) -> None:
        point = self.points[pid]
        try:
            async with self._gate:  # subscribing is a confirmed request too
                sub = self.link.subscribe(
                    self.conn.address, point.object, self.conn.cov_lifetime_s, self.conn.timeout_s
                )
                queue = await sub.__aenter__()
            self.stats["cov_subscriptions"] += 1
            carry: tuple[str, Any] | None = None
            try:
                while True:
                    # one notification's values together: they arrive one after another,
                    # and a property seen twice starts the next notification
                    items = [carry or await queue.get()]
                    carry = None
                    await asyncio.sleep(0)
                    while not queue.empty():
                        item = queue.get_nowait()
                        if any(prop == item[0] for prop, _ in items):
                            carry = item
                            break
                        items.append(item)
                    self.cov_heard[pid] = time.monotonic()
                    self.stats["cov_notifications"] += 1
                    await self._notified(pid, items)
            finally:
                await sub.__aexit__(None, None, None)
        except SubscribeRefused as err:
            self.cov_refused.add(pid)
            self.stats["cov_refused"] += 1
            log.info("%s: no COV for %s (%s): polling it", self.device.id, point.object, err)
        except Unreachable:
            pass  # the poll loop notices the device is gone and tries again later
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: COV for %s failed", self.device.id, point.object)
        finally:
            self.cov_active.discard(pid)

    async def _notified(self, pid: str, items: list[tuple[str, Any]]) -> None:
        # A notification carries the value and the status flags together: the flags belong
        # to the value they came with, so they are taken first (they follow it on the wire).
        for prop, value in items:
            if prop == "status-flags" and isinstance(value, tuple):
                self.flags[pid] = value
        for prop, value in items:
            if prop != self.points[pid].prop:
                continue
            if time.monotonic() < self.settling.get(pid, -math.inf):
                # just written and read back: a notification now may have been sent before
                # the write (a renewal's, one in flight); the re-read after settling decides
                self.stats["cov_after_write_ignored"] += 1
                continue
            reading = self._reading(pid, value, self._now())
            if reading is not None:
                await self.sink.publish(SOURCE, reading)
        fault = self._fault_detail()
        # From COV only a flip of the device's fault state is reported at once; which points
        # are faulty is brought up to date by the next poll (so a fault that shows on many
        # objects one notification at a time is one event, not one per object).
        if (fault is None) != (self.fault is None):
            self.fault = fault
            await self._status(online=True, fault=fault is not None, detail=fault or "")

    # -- writes ---------------------------------------------------------------------------

    async def write(self, pid: str, value: float | None) -> float:
        """Write (or relinquish, value None) at the point's priority and read back."""
        point = self.points[pid]
        refused = await self._call(
            self.link.write(
                self.conn.address,
                point.object,
                point.prop,
                value,
                point.priority,
                self.conn.timeout_s,
            )
        )
        if isinstance(refused, Refusal):
            raise WriteRefused(str(refused))
        back = await self._call(
            self.link.read(self.conn.address, point.object, point.prop, self.conn.timeout_s)
        )
        if isinstance(back, Refusal) or not isinstance(back, float):
            raise WriteRefused(f"read-back: {back}")
        await self.sink.publish(SOURCE, Reading(pid, back, self.units.get(pid, ""), self._now()))
        # read it again once the device has settled (a controller may move off the written
        # value, and COV values arriving meanwhile may predate the write)
        self.settling[pid] = time.monotonic() + WRITE_SETTLE_S
        return back

    def health(self) -> dict[str, Any]:
        """The device's state and counters."""
        return {
            "state": self.state,
            "fault": self.fault,
            "breaker": "open" if self.availability.breaker_open else "closed",
            "last_ok": self.last_ok.isoformat() if self.last_ok else None,
            "last_error": self.availability.last_error,
            "rpm": self.rpm,
            "rpm_batch": self.batch,
            "cov_points": len(self.cov_active),
            # status-flags other than fault: alarms the device raises, manual overrides
            **{
                name: sorted(pid for pid, f in self.flags.items() if len(f) > bit and f[bit])
                for name, bit in (("in_alarm", 0), ("overridden", 2), ("out_of_service", 3))
            },
            **dict(self.stats),
        }


class WriteRefused(Exception):
    """The device refused a write or its read-back."""
