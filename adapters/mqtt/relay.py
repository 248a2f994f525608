"""Hub workers tell each other what they accepted, through the broker.

    pipeline ─► relay (a consumer) ─► hub/cluster/<worker>/events   QoS 1, a JSON batch
    broker ─► hub/cluster/+/events ─► relay (skips its own) ─► pipeline.relayed
                                         └─► the live view, the rules engine (and no store)

With several hub workers sharing ingest (MQTT 5 shared subscriptions, a load balancer in
front of the API), each worker accepts part of the events. Every worker's live view must
show them all, and the leader's rules engine must judge them all: each worker publishes what
it accepted and takes what the others published. The broker is the only thing shared; the
worker's id is its MQTT client id (unique per worker anyway: a broker drops the older of
two connections with one id).

A message is acknowledged once its events are in the pipeline's queues. Outgoing batches wait
in paho while the broker is away (up to `max_queued` messages, then dropped and counted): the
events themselves are already stored where they arrived.

Equipment commands take the same road: only the leader polls (and so drives) the Modbus and
BACnet devices, so a worker that is asked for a setpoint while standing by `forward`s it:

    hub/cluster/commands      {"id", "from", "command"}   every worker gets it; the one whose
                                                          `execute_here` takes it carries it out
    hub/cluster/<from>/replies {"id", "result"}           back to the worker that asked
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from adapters.mqtt.client import MqttLink, MqttOptions
from hub.domain import Command, CommandResult, Delivered, Event
from hub.domain.codec import CodecError, decode, encode, from_dict, to_dict
from hub.tasks import cancel

log = logging.getLogger(__name__)

PREFIX = "hub/cluster"
# what one worker tells the others: everything the live view shows or the rules judge
KINDS = ("reading", "status", "position", "sighting", "gate", "alarm", "ticket", "notice")
COMMANDS = f"{PREFIX}/commands"
Deliver = Callable[[str, Sequence[Event]], Awaitable[None]]
# A command another worker forwarded: the result if this worker drives its equipment, else None
ExecuteHere = Callable[[Command], Awaitable[CommandResult] | None]


def topic_of(worker: str) -> str:
    """The topic a worker publishes its events on."""
    return f"{PREFIX}/{worker}/events"


class ClusterRelay:
    """Shares accepted events with the other hub workers; a hub component and a pipeline
    consumer (of this worker's own events)."""

    name = "cluster_relay"

    def __init__(
        self, options: MqttOptions, deliver: Deliver, *, batch: int = 500, queued: int = 10_000
    ) -> None:
        self.worker = options.client_id
        self.topic = topic_of(self.worker)
        self.batch = batch
        self.deliver = deliver
        self.execute_here: ExecuteHere = lambda _command: None
        self.answer_within_s = 15.0
        self._asked: dict[str, asyncio.Future[CommandResult]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self.link = MqttLink(
            dataclasses.replace(
                options,
                client_id=f"{self.worker}-relay",
                topics=(f"{PREFIX}/+/events", COMMANDS, f"{PREFIX}/{self.worker}/replies"),
                shared_group=None,  # every worker takes every other worker's events
                session_expiry_s=300,  # a reconnect within 5 min gets what it missed
                max_queued=queued,
                no_local=True,  # not our own events (on MQTT 3.1.1 they come back: skipped)
            ),
            self._arrived,
        )
        self._inbox: deque[tuple[str, bytes, int, int]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.dropped = 0
        self.received: Counter[str] = Counter()  # events, by the worker they came from
        self.refused = 0

    # -- outgoing: this worker's events ------------------------------------------------
    async def __call__(self, batch: Sequence[Delivered]) -> None:
        """Pipeline handler: publish what this worker accepted."""
        events = [env.event for env in batch]
        for i in range(0, len(events), self.batch):
            chunk = events[i : i + self.batch]
            if self.link.publish(self.topic, encode(chunk)):
                self.published += len(chunk)
            else:
                self.dropped += len(chunk)

    # -- incoming: the other workers' events --------------------------------------------
    def _arrived(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        self._inbox.append((topic, payload, mid, qos))
        self._wake.set()

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._inbox:
                topic, payload, mid, qos = self._inbox.popleft()
                try:
                    await self._take(topic, payload)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the loop boundary: log, count, keep going
                    log.exception("cluster relay failed on a message on %s", topic)
                    self.refused += 1
                self.link.ack(mid, qos)

    async def _take(self, topic: str, payload: bytes) -> None:
        if topic == COMMANDS:
            self._asked_to(payload)
            return
        parts = topic.split("/")
        if len(parts) == 4 and parts[3] == "replies":
            self._replied(payload)
            return
        if len(parts) != 4 or parts[2] == self.worker:
            return  # our own, echoed back
        try:
            events = decode(payload)
        except CodecError as err:
            self.refused += 1
            log.warning("cluster relay: unreadable events from %s: %s", parts[2], err)
            return
        self.received[parts[2]] += len(events)
        await self.deliver(f"peer:{parts[2]}", events)

    # -- commands for the equipment the leader drives ------------------------------------
    async def forward(self, command: Command) -> CommandResult:
        """Have the worker that drives the command's equipment carry it out."""
        ask = uuid.uuid4().hex
        answer: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._asked[ask] = answer
        body = {"id": ask, "from": self.worker, "command": to_dict(command)}
        try:
            if self.link.publish(COMMANDS, json.dumps(body).encode()):
                async with asyncio.timeout(self.answer_within_s):
                    return await answer
        except TimeoutError:
            pass
        finally:
            self._asked.pop(ask, None)
        return CommandResult(
            False,
            detail=f"no hub worker carried the command out within {self.answer_within_s:g} s",
            error="unreachable",
        )

    def _asked_to(self, payload: bytes) -> None:
        try:
            body = json.loads(payload)
            command = from_dict(body["command"])
            ask, origin = str(body["id"]), str(body["from"])
        except (ValueError, KeyError, TypeError) as err:  # CodecError is a ValueError
            self.refused += 1
            log.warning("cluster relay: unreadable command request: %s", err)
            return
        if not isinstance(command, Command):
            self.refused += 1
            return
        pending = self.execute_here(command)
        if pending is None:
            return  # another worker drives it

        async def carry_out(pending: Awaitable[CommandResult]) -> None:
            try:
                result = await pending
            except Exception as err:  # the loop boundary: the asker gets the reason
                log.exception("forwarded command %s failed", command.target)
                result = CommandResult(False, detail=str(err), error="unreachable")
            reply = {"id": ask, "result": dataclasses.asdict(result)}
            self.link.publish(f"{PREFIX}/{origin}/replies", json.dumps(reply).encode())

        task = asyncio.create_task(carry_out(pending), name=f"cluster-command:{command.target}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def _replied(self, payload: bytes) -> None:
        try:
            body: dict[str, Any] = json.loads(payload)
            answer = self._asked.get(str(body["id"]))
            result = CommandResult(**body["result"])
        except (ValueError, KeyError, TypeError) as err:
            self.refused += 1
            log.warning("cluster relay: unreadable command reply: %s", err)
            return
        if answer is not None and not answer.done():
            answer.set_result(result)

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._drain(), name="cluster-relay")
        await self.link.start()

    async def stop(self) -> None:
        await self.link.stop()
        await cancel([t for t in [self._task, *self._running] if t is not None])

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self.link.connected else "degraded",
            "worker": self.worker,
            "connected": self.link.connected,
            "published": self.published,
            "dropped": self.dropped,
            "received": dict(self.received),
            "refused": self.refused,
            **({"error": self.link.last_error} if self.link.last_error else {}),
        }
