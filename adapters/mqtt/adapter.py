"""MQTT ingest: decode location messages, publish them, acknowledge once stored.

    on_message ─► inbox ─► drain ─► decode ─► pipeline.publish_many(acks)
    (the socket stops being      │                          │
     read while the inbox is     └─ refused / not a fix ────┴─► AckSequencer ─► PUBACK
     full: the broker keeps the rest)

A message is acknowledged when each of its events was stored by the telemetry sink, or
refused (decode error, unknown device, implausible fix: counted by reason), or when it holds
no location at all. PUBACKs go out in the order the messages came (MQTT §4.6). A hub that
dies before acknowledging gets the message again from the broker's persistent session.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from adapters.location.formats import DecodeError, decode_topic
from adapters.mqtt.client import MqttLink, MqttOptions
from hub.domain import Event, EventSink
from hub.tasks import cancel

log = logging.getLogger(__name__)


class _Pending:
    __slots__ = ("mid", "qos", "remaining")

    def __init__(self, mid: int, qos: int, remaining: int) -> None:
        self.mid, self.qos, self.remaining = mid, qos, remaining


class AckSequencer:
    """Sends acknowledgements in arrival order once each message is fully handled."""

    def __init__(self, send: Callable[[int, int], None]) -> None:
        self._send = send
        self._queue: deque[_Pending] = deque()
        self.acked = 0

    def add(self, mid: int, qos: int, parts: int) -> _Pending:
        """A message that needs `parts` confirmations before it may be acknowledged."""
        entry = _Pending(mid, qos, parts)
        self._queue.append(entry)
        return entry

    def done(self, entry: _Pending, parts: int = 1) -> None:
        """Some parts of a message are handled; acknowledge whatever is now complete."""
        entry.remaining -= parts
        q = self._queue
        while q and q[0].remaining <= 0:
            head = q.popleft()
            if head.qos > 0:
                self._send(head.mid, head.qos)
            self.acked += 1

    def __len__(self) -> int:
        return len(self._queue)


class MqttIngest:
    """Location messages from an MQTT broker into the pipeline; a hub Component."""

    name = "mqtt_ingest"

    def __init__(
        self, options: MqttOptions, sink: EventSink, *, inbox: int = 20_000, batch: int = 1000
    ) -> None:
        self.options = options
        self.sink = sink
        self.batch = batch
        self.link = MqttLink(options, self._arrived)
        self.acks = AckSequencer(self.link.ack)
        self._inbox: deque[tuple[str, bytes, int, int]] = deque()
        self._capacity = inbox
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.received = 0
        self.refused: Counter[str] = Counter()

    def _arrived(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        self._inbox.append((topic, payload, mid, qos))
        if len(self._inbox) >= self._capacity:
            self.link.pause_reading()  # backpressure: the broker keeps what we don't read
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._drain(), name="mqtt-ingest")
        await self.link.start()

    async def stop(self) -> None:
        await self.link.stop()
        if self._task is not None:
            await cancel([self._task])

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._inbox:
                items = [self._inbox.popleft() for _ in range(min(self.batch, len(self._inbox)))]
                try:
                    await self._handle(items)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the loop boundary: log, count, keep going
                    log.exception("MQTT ingest failed on a batch of %d messages", len(items))
                    self.refused["internal_error"] += len(items)
                if len(self._inbox) < self._capacity // 2:
                    self.link.resume_reading()

    async def _handle(self, items: list[tuple[str, bytes, int, int]]) -> None:
        events: list[Event] = []
        acks: list[Callable[[], None] | None] = []
        owners: list[Any] = []
        for topic, payload, mid, qos in items:
            self.received += 1
            try:
                _, decoded = decode_topic(topic, payload)
            except DecodeError as err:
                self.refused[err.reason] += 1
                self.sink.reject(f"mqtt:{topic.split('/', 1)[0]}", err.reason)
                self.acks.done(self.acks.add(mid, qos, 1))  # malformed: nothing to keep
                continue
            entry = self.acks.add(mid, qos, len(decoded))
            if not decoded:
                self.acks.done(entry, 0)  # not a location (OwnTracks lwt, card...)
                continue
            done = self._done_callback(entry)
            for e in decoded:
                events.append(e)
                acks.append(done)
                owners.append(entry)
        if not events:
            return
        verdicts = await self.sink.publish_many("mqtt", events, acks)
        for verdict, entry in zip(verdicts, owners, strict=True):
            if not verdict:
                self.refused[verdict.reason] += 1
                self.acks.done(entry)  # refused: stored never, redelivery wouldn't help

    def _done_callback(self, entry: _Pending) -> Callable[[], None]:
        def stored() -> None:
            self.acks.done(entry)

        return stored

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self.link.connected else "degraded",
            "broker": f"{self.options.host}:{self.options.port}",
            "connected": self.link.connected,
            "topics": self.link.topics(),
            "received": self.received,
            "acknowledged": self.acks.acked,
            "awaiting_storage": len(self.acks),
            "inbox": len(self._inbox),
            "refused": dict(self.refused),
            **({"error": self.link.last_error} if self.link.last_error else {}),
        }
