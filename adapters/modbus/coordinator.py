"""Polling: one request queue per connection, one poller per device.

A connection (a host:port, e.g. a serial gateway with several unit ids behind it) carries one
request at a time, with an optional pause between requests: a serial bus is one line.
Different connections run concurrently, so a dead host never delays the others.

Each device poller keeps its own cadence (points may have their own `poll_s`). After a failed
poll it backs off exponentially with jitter; after `breaker_after` failures in a row the
breaker opens: the device is reported offline once and only probed at the backoff interval,
so a dead unit behind a shared gateway costs the line one timeout per probe, not one per
point. The first good answer closes the breaker and reports the device online once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from adapters.common.availability import Availability
from adapters.common.numbers import tidy
from adapters.modbus.checks import CounterState, check
from adapters.modbus.client import (
    GATEWAY_NO_RESPONSE,
    GATEWAY_PATH_UNAVAILABLE,
    ILLEGAL_ADDRESS,
    LinkError,
    ModbusLink,
    Refused,
)
from adapters.modbus.config import ModbusDevice
from adapters.modbus.decoders import DecodeError, RawDecoder, compile_decoder, decode
from adapters.modbus.planner import ReadRequest, plan, split_points
from adapters.modbus.points import DataType, PointSpec, Table
from hub.domain import DeviceStatus, EventSink, Reading

log = logging.getLogger(__name__)
SOURCE = "modbus"
T = TypeVar("T")

_Slot = tuple[str, PointSpec, int, int, RawDecoder | None]  # point id, spec, first, end, decoder
_Planned = tuple[ReadRequest, list[_Slot]]

# Exceptions by which a gateway says the device behind it didn't answer: the device is away.
_UNREACHABLE = {GATEWAY_PATH_UNAVAILABLE, GATEWAY_NO_RESPONSE}


class Connection:
    """A link and its request queue."""

    def __init__(self, link: ModbusLink, *, gap_s: float = 0.0) -> None:
        self.link = link
        self.gap_s = gap_s
        self._lock = asyncio.Lock()
        self.requests = 0
        self.link_errors = 0

    async def request(self, call: Callable[[ModbusLink], Awaitable[T]]) -> T:
        """Run one request in turn; connects on demand; LinkError when there is no answer."""
        async with self._lock:
            try:
                if not self.link.connected:
                    await self.link.connect()
                self.requests += 1
                return await call(self.link)
            except LinkError:
                self.link_errors += 1
                if not self.link.connected:
                    self.link.close()
                raise
            finally:
                if self.gap_s:
                    await asyncio.sleep(self.gap_s)

    def close(self) -> None:
        """Close the link."""
        self.link.close()


@dataclass
class _Group:
    interval: float
    points: list[tuple[str, PointSpec]]
    next_due: float = 0.0


class DevicePoller:
    """Polls one device on its cadence and reports readings and status changes."""

    def __init__(
        self,
        device: ModbusDevice,
        connection: Connection,
        sink: EventSink,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.device = device
        self.conn = connection
        self.sink = sink
        self._now = now
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        groups: dict[float, list[tuple[str, PointSpec]]] = {}
        for pid, spec in device.points:
            groups.setdefault(spec.poll_s or device.connection.interval_s, []).append((pid, spec))
        self.groups = [_Group(iv, pts) for iv, pts in sorted(groups.items())]
        self.breaks: set[tuple[Table, int]] = set()
        self.unsupported: set[str] = set()
        self.counters: dict[str, CounterState] = {}
        conn = device.connection
        self.availability = Availability(
            conn.interval_s, conn.breaker_after, conn.backoff_max_s, self._rng
        )
        self.fault: str | None = None  # detail while a fault point is set
        self.retry_at = 0.0
        self.stats: Counter[str] = Counter()
        self.last_ok: datetime | None = None
        # Per poll group: the planned requests, each with the layout of its points.
        self._plans: dict[float, list[_Planned]] = {}
        self._pids = {id(s): pid for pid, s in device.points}

    # -- scheduling -----------------------------------------------------------------------

    async def run(self) -> None:
        """Poll forever (cancel to stop)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for g in self.groups:
            g.next_due = start + self._rng.uniform(0, min(g.interval, 1.0))  # spread start-up
        while True:
            now = loop.time()
            wake = min(g.next_due for g in self.groups)
            if self.availability.failures:
                wake = max(wake, self.retry_at)
            if wake > now:
                await asyncio.sleep(wake - now)
                continue
            due = [g for g in self.groups if g.next_due <= now] or self.groups[:1]
            try:
                ok = await self.poll(due)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the loop boundary: log with context, keep polling
                log.exception("%s: poll failed unexpectedly", self.device.id)
                self.stats["internal_errors"] += 1
                ok = await self._failed(f"internal error: {type(err).__name__}: {err}")
            now = loop.time()
            for g in due:
                g.next_due += g.interval
                if g.next_due <= now:  # fell behind (or failed): keep the cadence from now
                    g.next_due = now + g.interval
            if not ok:
                self.retry_at = now + self.availability.backoff()

    @property
    def state(self) -> str:
        """unknown, online or offline."""
        return self.availability.state

    @property
    def last_error(self) -> str | None:
        """The last failure or refusal."""
        return self.availability.last_error

    # -- one poll -------------------------------------------------------------------------

    def _requests(self, group: _Group) -> list[_Planned]:
        cached = self._plans.get(group.interval)
        if cached is None:
            specs = [s for pid, s in group.points if pid not in self.unsupported]
            requests = plan(
                specs,
                max_block=self.device.max_block,
                max_gap=self.device.max_gap,
                breaks=frozenset(self.breaks),
            )
            cached = [
                (
                    req,
                    [
                        (
                            self._pids[id(spec)],
                            spec,
                            lo,
                            hi,
                            None if spec.type is DataType.STRING else compile_decoder(spec),
                        )
                        for spec, lo, hi in req.offsets()
                    ],
                )
                for req in requests
            ]
            self._plans[group.interval] = cached
        return cached

    async def poll(self, groups: list[_Group]) -> bool:
        """Read the groups' points once; publish readings and status; True if it answered."""
        unit = self.device.connection.unit
        results: list[tuple[list[_Slot], list[int] | list[bool]]] = []
        refusals: list[Refused] = []
        for group in groups:
            for req, slots in self._requests(group):
                self.stats["requests"] += 1

                async def read(
                    link: ModbusLink, r: ReadRequest = req
                ) -> list[int] | list[bool] | Refused:
                    return await link.read(r.table, r.address, r.count, unit)

                try:
                    answer = await self.conn.request(read)
                except LinkError as err:
                    return await self._failed(f"no answer: {err}")
                if isinstance(answer, Refused):
                    if answer.code in _UNREACHABLE:
                        return await self._failed(f"gateway: {answer.reason}")
                    self._refused(req, answer)
                    refusals.append(answer)
                    continue
                results.append((slots, answer))
        if not results and refusals and any(r.code != ILLEGAL_ADDRESS for r in refusals):
            # Every request refused (device failure, busy...): no data, so a failed poll.
            return await self._failed(f"device refused every request: {refusals[-1].reason}")
        await self._answered(results)
        return True

    def _refused(self, req: ReadRequest, answer: Refused) -> None:
        self.stats[f"exception_{answer.code}"] += 1
        if answer.code == ILLEGAL_ADDRESS:
            at = split_points(req)
            if at:
                self.breaks.update(at)
                self._plans.clear()
                self.stats["splits"] += 1
                log.info(
                    "%s: %s %d+%d refused as one block; split at %s (remembered)",
                    self.device.id,
                    req.table,
                    req.address,
                    req.count,
                    ", ".join(str(a) for _, a in at),
                )
                return
            for spec in req.points:
                pid = self._pids.get(id(spec))
                if pid:
                    self.unsupported.add(pid)
            self._plans.clear()
            log.warning(
                "%s: %s %d not served by the device: point(s) %s left out",
                self.device.id,
                req.table,
                req.address,
                ", ".join(self._pids.get(id(s), s.id) for s in req.points),
            )
            return
        self.availability.last_error = f"{req.table} {req.address}: {answer.reason}"

    async def _failed(self, error: str) -> bool:
        self.stats["failures"] += 1
        if self.availability.failed(error):
            await self._status(online=False, detail=error)
            log.warning("%s offline: %s", self.device.id, error)
        return False

    async def _answered(self, results: list[tuple[list[_Slot], list[int] | list[bool]]]) -> None:
        now = self._now()
        ts = now.timestamp()
        readings: list[Reading] = []
        faults: list[str] = []
        unsupported, counters, stats = self.unsupported, self.counters, self.stats
        for slots, values in results:
            for pid, spec, lo, hi, dec in slots:
                if dec is None or pid in unsupported:
                    continue  # text (serial numbers, names) is not telemetry
                regs = values[lo:hi]
                try:
                    if len(regs) != hi - lo:
                        raise DecodeError(f"{spec.id}: short reply")
                    raw = dec(regs)
                except (DecodeError, ValueError, struct.error) as err:
                    stats["decode_errors"] += 1
                    self.sink.reject(SOURCE, "decode_error")
                    log.warning("%s: %s", self.device.id, err)
                    continue
                if raw != raw or (spec.nodata is not None and raw == spec.nodata):  # NaN: no value
                    stats["no_value"] += 1
                    continue
                value = (
                    raw
                    if spec.scale == 1 and not spec.offset
                    else tidy(raw * spec.scale + spec.offset)
                )
                if (spec.fault and value) or value in spec.fault_values:
                    faults.append(spec.name or spec.id)
                state = counters.get(pid)
                if state is None:
                    state = counters[pid] = CounterState()
                quality, reason = check(spec, value, ts, state)
                if reason and reason != "counter_reset":
                    stats[reason] += 1
                readings.append(Reading(pid, value, spec.unit, now, quality))
        self.last_ok = now
        was = self.state
        came_online = self.availability.answered()
        fault = ", ".join(sorted(faults)) or None
        if readings:
            await self.sink.publish_many(SOURCE, readings)
        if came_online or fault != self.fault:
            self.fault = fault
            await self._status(online=True, fault=fault is not None, detail=fault or "")
            if was == "offline":
                log.info("%s back online", self.device.id)

    async def _status(self, *, online: bool, fault: bool = False, detail: str = "") -> None:
        await self.sink.publish(
            SOURCE, DeviceStatus(self.device.id, online, self._now(), fault=fault, detail=detail)
        )

    # -- writes ---------------------------------------------------------------------------

    async def write(self, point_id: str, spec: PointSpec, registers: list[int] | bool) -> float:
        """Write and read back; returns the value read back. LinkError / Refused as errors."""
        unit = self.device.connection.unit
        refused = await self.conn.request(
            lambda link: link.write(spec.table, spec.address, registers, unit)
        )
        if isinstance(refused, Refused):
            raise WriteRefused(refused.reason)
        back = await self.conn.request(
            lambda link: link.read(spec.table, spec.address, spec.width, unit)
        )
        if isinstance(back, Refused):
            raise WriteRefused(f"read-back refused: {back.reason}")
        value = decode(spec, back)
        assert not isinstance(value, str)
        await self.sink.publish(SOURCE, Reading(point_id, value, spec.unit, self._now()))
        return value

    def health(self) -> dict[str, Any]:
        """The device's state and counters."""
        return {
            "state": self.state,
            "fault": self.fault,
            "breaker": "open" if self.availability.breaker_open else "closed",
            "last_ok": self.last_ok.isoformat() if self.last_ok else None,
            "last_error": self.last_error,
            "requests_per_poll": sum(len(self._requests(g)) for g in self.groups),
            "breaks": sorted(f"{t}:{a}" for t, a in self.breaks),
            "unsupported": sorted(self.unsupported),
            **dict(self.stats),
        }


class WriteRefused(Exception):
    """The device refused a write or its read-back."""
