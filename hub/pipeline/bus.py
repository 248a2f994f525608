"""The in-process pipeline: adapters publish events, consumers (stores, rules, live view) take them.

    publish ─► validate ─► ingress queue (bounded) ─► dispatcher ─┬► consumer queue ─► handler
                 │                                                ├► consumer queue ─► handler
                 └► rejected{source,reason}                       └► ...

One ingress queue and one dispatcher keep every source's events in order. Each consumer has
its own bounded queue and task. A *lossless* consumer (a store, the rules engine) applies
backpressure all the way to `publish`; a *lossy* one (the live view, which only needs the
newest state) drops its oldest event when full, and the drop is counted. A handler applies a
batch all or nothing (or idempotently). One that says `RetryLater` (its database is
restarting) gets the same batch again after a pause, as long as it takes, while backpressure
builds; one that raises anything else is retried event by event so only the event that fails
is lost to that consumer, and the failure is logged with the consumer, source and event, and
counted.

With several hub workers, what another worker accepted arrives through `relayed` and goes
only to the consumers subscribed with `peers=True` (the live view, the rules engine): the
other worker already stored it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from hub.domain import ACCEPTED, Event, RetryLater, Verdict
from hub.pipeline.buffer import Buffer
from hub.pipeline.validate import Limits, check
from hub.tasks import cancel

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.2  # a handler's store away: the first pause before the same batch again
RETRY_MAX_S = 5.0


class Envelope(NamedTuple):
    """An accepted event with where it came from and when it was accepted (monotonic s).

    `ack`, when the source gave one, is called by the telemetry sink once the event is
    durably stored (an MQTT message is acknowledged to the broker only then). A NamedTuple:
    built once per event on the hot path, and cheaper than a frozen dataclass.
    """

    source: str
    event: Event
    accepted_at: float
    ack: Callable[[], None] | None = None


class Stage(Protocol):
    """A step at admission that may rewrite an event or refuse it with a reason."""

    kinds: frozenset[str]

    def process(self, event: Event, now: datetime) -> tuple[Event | None, str | None]:
        """(event to admit, None) or (None, reason)."""
        ...


Handler = Callable[[Sequence[Envelope]], Awaitable[None]]


@dataclass
class _Consumer:
    name: str
    handler: Handler
    kinds: frozenset[str] | None
    lossless: bool
    max_batch: int
    queue: Buffer[Envelope]
    peers: bool = False
    task: asyncio.Task[None] | None = None
    handled: int = 0
    errors: int = 0
    dropped: int = 0
    busy: bool = False
    retries: int = 0  # deliveries repeated because the handler's store was away
    waiting: bool = False  # ... and it is away now


@dataclass
class PipelineStats:
    """Counters of the pipeline, by (source, kind) or (source, reason)."""

    accepted: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)
    relayed: Counter[str] = field(default_factory=Counter)  # from other workers, by kind


class PipelineClosed(Exception):
    """The pipeline is stopping and takes no more events."""


class Pipeline:
    """Bounded, ordered fan-out of domain events to consumers."""

    def __init__(
        self,
        *,
        maxsize: int = 10_000,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stages: Sequence[Stage] = (),
    ) -> None:
        self._stages = list(stages)
        self._ingress: Buffer[Envelope] = Buffer(maxsize)
        self._consumers: list[_Consumer] = []
        self._limits = limits or Limits()
        self._clock = clock
        self._dispatcher: asyncio.Task[None] | None = None
        self._closed = False
        self.stats = PipelineStats()

    # -- wiring ---------------------------------------------------------------------------

    def subscribe(
        self,
        name: str,
        handler: Handler,
        *,
        kinds: Sequence[str] | None = None,
        lossless: bool = True,
        maxsize: int = 10_000,
        max_batch: int = 500,
        peers: bool = False,
    ) -> None:
        """Register a consumer of the events whose `kind` is in `kinds` (all when None);
        with `peers`, also of the events other hub workers accepted (see `relayed`)."""
        if self._dispatcher is not None:
            raise RuntimeError("subscribe consumers before the pipeline starts")
        if any(c.name == name for c in self._consumers):
            raise ValueError(f"consumer {name!r} already subscribed")
        self._consumers.append(
            _Consumer(
                name=name,
                handler=handler,
                kinds=frozenset(kinds) if kinds is not None else None,
                lossless=lossless,
                max_batch=max_batch,
                queue=Buffer(maxsize),
                peers=peers,
            )
        )

    async def start(self) -> None:
        """Start the dispatcher and one task per consumer."""
        for c in self._consumers:
            c.task = asyncio.create_task(self._consume(c), name=f"pipeline:{c.name}")
        self._dispatcher = asyncio.create_task(self._dispatch(), name="pipeline:dispatch")

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop taking events, deliver everything already accepted, then stop the tasks."""
        self._closed = True
        try:
            async with asyncio.timeout(timeout):
                await self._ingress.join()
                for c in self._consumers:
                    await c.queue.join()
        except TimeoutError:
            pending = len(self._ingress) + sum(len(c.queue) for c in self._consumers)
            log.error("pipeline stop timed out with %d events undelivered", pending)
        tasks = [t for t in [self._dispatcher, *(c.task for c in self._consumers)] if t]
        await cancel(tasks)

    # -- the EventSink port ---------------------------------------------------------------

    def _admit(
        self,
        source: str,
        events: Sequence[Event],
        acks: Sequence[Callable[[], None] | None] | None = None,
    ) -> tuple[list[Envelope], list[Verdict]]:
        if self._closed:
            raise PipelineClosed("pipeline is stopping")
        now = self._clock()
        at = time.monotonic()
        admitted: list[Envelope] = []
        verdicts: list[Verdict] = []
        limits = self._limits
        stages = self._stages
        for i, event in enumerate(events):
            reason = check(event, now, limits)
            if reason is None and stages:
                event, reason = self._staged(event, now)
            if reason is None:
                admitted.append(Envelope(source, event, at, acks[i] if acks else None))
                verdicts.append(ACCEPTED)
            else:
                self.stats.rejected[(source, reason)] += 1
                verdicts.append(Verdict(False, reason))
        return admitted, verdicts

    def _staged(self, event: Event, now: datetime) -> tuple[Event, str | None]:
        for stage in self._stages:
            if event.kind not in stage.kinds:
                continue
            try:
                out, reason = stage.process(event, now)
            except Exception:  # a stage bug refuses the event, never the whole batch
                log.exception("pipeline stage %s failed on %r", type(stage).__name__, event)
                return event, "stage_error"
            if out is None:
                return event, reason or "refused"
            event = out
        return event, None

    def _count(self, source: str, admitted: list[Envelope]) -> None:
        accepted = self.stats.accepted
        first = admitted[0].event.kind
        same = 0
        for env in admitted:
            kind = env.event.kind
            if kind == first:
                same += 1
            else:
                accepted[(source, kind)] += 1
        accepted[(source, first)] += same

    async def publish(self, source: str, event: Event) -> Verdict:
        """Validate and enqueue one event, waiting while the pipeline is full."""
        return (await self.publish_many(source, (event,)))[0]

    async def publish_many(
        self,
        source: str,
        events: Sequence[Event],
        acks: Sequence[Callable[[], None] | None] | None = None,
    ) -> list[Verdict]:
        """Validate and enqueue a batch in order, waiting while the pipeline is full.

        Sources that read in batches (a poll cycle, an HTTP request) should use this: the
        per-event cost is a fraction of `publish`'s. `acks[i]` is called once event i is
        durably stored (see Envelope).
        """
        admitted, verdicts = self._admit(source, events, acks)
        if admitted:
            await self._ingress.put_many(admitted)
            self._count(source, admitted)
        return verdicts

    def publish_nowait(self, source: str, event: Event) -> Verdict:
        """Validate and enqueue without waiting; a full pipeline drops the event (counted)."""
        admitted, verdicts = self._admit(source, (event,))
        if not admitted:
            return verdicts[0]
        if not self._ingress.put_nowait_many(admitted):
            self.stats.dropped[(source, "pipeline_full")] += 1
            return Verdict(False, "pipeline_full")
        self._count(source, admitted)
        return ACCEPTED

    async def relayed(self, source: str, events: Sequence[Event]) -> None:
        """Deliver events another hub worker accepted (and stored) to the consumers that
        take peers' events (the live view, the rules engine), and to no other: they were
        validated, stored and journaled where they arrived. Waits while a lossless one is
        full, like `publish`."""
        if self._closed:
            raise PipelineClosed("pipeline is stopping")
        at = time.monotonic()
        envs = [Envelope(source, e, at) for e in events]
        for env in envs:
            self.stats.relayed[env.event.kind] += 1
        for c in self._consumers:
            if not c.peers:
                continue
            mine = envs if c.kinds is None else [e for e in envs if e.event.kind in c.kinds]
            if mine:
                await self._deliver(c, mine)

    def reject(self, source: str, reason: str) -> None:
        """Count input that never became an event."""
        self.stats.rejected[(source, reason)] += 1

    # -- internals ------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            batch = await self._ingress.get_batch(1000)
            try:
                for c in self._consumers:
                    mine = (
                        batch
                        if c.kinds is None
                        else [env for env in batch if env.event.kind in c.kinds]
                    )
                    if mine:
                        await self._deliver(c, mine)
            finally:
                self._ingress.task_done(len(batch))

    async def _deliver(self, c: _Consumer, mine: list[Envelope]) -> None:
        """Into a consumer's queue: waiting while a lossless one is full, dropping a lossy
        one's oldest (counted)."""
        if c.lossless:
            await c.queue.put_many(mine)
            return
        dropped = c.queue.put_dropping_oldest(mine)
        if dropped:
            c.dropped += dropped
            self.stats.dropped[(mine[-1].source, f"slow_consumer:{c.name}")] += dropped

    async def _consume(self, c: _Consumer) -> None:
        while True:
            batch = await c.queue.get_batch(c.max_batch)
            c.busy = True
            try:
                await self._handle(c, batch)
            finally:
                c.busy = False
                c.queue.task_done(len(batch))

    async def _handle(self, c: _Consumer, batch: list[Envelope]) -> None:
        if await self._attempt(c, batch, alone=len(batch) == 1):
            return
        # The batch failed: find the event(s) that fail and deliver the rest in order. (A
        # handler applies a batch all or nothing, or idempotently: the events that succeed
        # here are not applied twice.)
        for env in batch:
            await self._attempt(c, [env], alone=True)

    async def _attempt(self, c: _Consumer, envs: list[Envelope], *, alone: bool) -> bool:
        """Deliver `envs` to the handler; while it says `RetryLater` (its store is away), the
        same events again after a growing pause. False when it failed otherwise (logged for
        a single event)."""
        pause = RETRY_FIRST_S
        while True:
            try:
                await c.handler(envs)
            except asyncio.CancelledError:
                raise
            except RetryLater as err:
                c.retries += 1
                if not c.waiting:
                    log.warning("consumer %s waits for its store (%s); retrying", c.name, err)
                c.waiting = True
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_S)
                continue
            except Exception:
                c.waiting = False
                if alone:
                    self._log_failure(c, envs[0])
                return False
            if c.waiting:
                log.info("consumer %s goes on: its store is back", c.name)
            c.waiting = False
            c.handled += len(envs)
            return True

    def _log_failure(self, c: _Consumer, env: Envelope) -> None:
        c.errors += 1
        log.exception("consumer %s failed on an event from %s: %r", c.name, env.source, env.event)

    # -- observation ----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Queue depths and per-consumer counts, for /api/health."""
        running = self._dispatcher is not None and not self._dispatcher.done()
        return {
            "status": "down"
            if not running
            else ("degraded" if any(c.waiting for c in self._consumers) else "ok"),
            "queued": len(self._ingress),
            "capacity": self._ingress.capacity,
            "accepted": sum(self.stats.accepted.values()),
            "rejected": sum(self.stats.rejected.values()),
            "dropped": sum(self.stats.dropped.values()),
            "relayed": sum(self.stats.relayed.values()),
            "consumers": {
                c.name: {
                    "queued": len(c.queue),
                    "busy": c.busy,  # handling a batch now
                    "handled": c.handled,
                    "errors": c.errors,
                    "dropped": c.dropped,
                    "lossless": c.lossless,
                    "retries": c.retries,
                    "waiting": c.waiting,
                }
                for c in self._consumers
            },
        }

    def consumers(self) -> list[tuple[str, int, int, int, int]]:
        """(name, queued, handled, errors, dropped) per consumer, for metrics."""
        return [(c.name, len(c.queue), c.handled, c.errors, c.dropped) for c in self._consumers]

    @property
    def depth(self) -> int:
        """Events waiting in the ingress queue."""
        return len(self._ingress)
