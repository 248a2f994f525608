"""Live state: the newest state of every entity, coalesced and fanned out to websocket clients.

The protocol (docs/api.md, "Live websocket"):

- on connect one `{"type": "snapshot", "user", "seq", "rate_hz", "entities", "gates"}`;
- then at most `rate_hz` frames a second `{"type": "delta", "seq", "changes": [...]}`, each
  change the newest message of one entity (`{"type": kind, "key": entity, ...fields}`) since
  the client's previous frame. Gate events are passages, not states: each is kept.

A frame is serialised once per tick and shared by every client that is keeping up. A client
still writing its previous frame collects the newest message per entity instead (bounded by
the number of entities, never a queue of frames), so a slow screen shows the newest state a
little later and ingest never waits for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import orjson

from hub.domain import Event, Notice, event_source_key
from hub.pipeline import Envelope
from hub.tasks import cancel

log = logging.getLogger(__name__)

Key = tuple[str, str]
# Notices whose topic says a shared list changed (car requests, room bookings): the operators'
# pages reload that list when they see the change (`{"type": "vehicles", "key": "changed"}`).
CHANGED = {"vehicle": "vehicles", "booking": "rooms"}
Message = dict[str, Any]
# Where on the map an alarm's originator is ("device:ahu-b1", "checkpoint:cp-3"), if anywhere.
Locator = Callable[[str], str | None]

_FIELDS: dict[type, tuple[str, ...]] = {}


def to_message(event: Event) -> Message:
    """An event as a JSON-ready websocket message: {"type": kind, "key": entity, ...fields}."""
    body: Message = {"type": event.kind, "key": event_source_key(event)}
    names = _FIELDS.get(type(event))
    if names is None:
        names = _FIELDS[type(event)] = tuple(f.name for f in dataclasses.fields(event))
    for name in names:
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, enum.Enum):
            value = value.value
        body[name] = value
    return body


def _finished(msg: Message) -> bool:
    """A message that ends its entity's life on screen: an alarm cleared and acknowledged, a
    ticket closed. It is sent, then dropped from the state (new clients never see it)."""
    if msg["type"] == "alarm":
        return bool(msg.get("state") == "CLEARED_ACK")
    if msg["type"] == "ticket":
        return bool(msg.get("status") == "closed")
    return False


def _frame(seq: int, changes: Sequence[Message]) -> str:
    return orjson.dumps({"type": "delta", "seq": seq, "changes": changes}).decode()


class LiveClient:
    """One connected client: a shared frame to send, or its own newest-per-entity backlog."""

    def __init__(self, user: str = "", *, shared: bool = True) -> None:
        self.user = user  # who signed in (their own messages: `LiveHub.tell`)
        self.shared = shared  # gets the shared feed (else only its own messages)
        self._frame: str | None = None
        self._backlog: dict[Key, Message] = {}
        self._seq = 0
        self._wake = asyncio.Event()
        self._busy = False
        self.frames = 0
        self.coalesced = 0  # changes replaced by a newer one before this client got them

    def offer(self, seq: int, frame: str, changes: dict[Key, Message]) -> None:
        """A tick's changes: take the shared frame if idle, else fold them into the backlog."""
        if not self._busy and self._frame is None and not self._backlog:
            self._frame = frame
        else:
            for key, msg in changes.items():
                if key in self._backlog:
                    self.coalesced += 1
                self._backlog[key] = msg
        self._seq = seq
        self._wake.set()

    async def next_frame(self) -> str:
        """The next frame to write (waits for one)."""
        while True:
            if self._frame is not None:
                frame, self._frame = self._frame, None
                return frame
            if self._backlog:
                changes, self._backlog = list(self._backlog.values()), {}
                return _frame(self._seq, changes)
            self._wake.clear()
            await self._wake.wait()

    async def pump(self, send: Callable[[str], Awaitable[None]]) -> None:
        """Write frames as they come, until `send` fails (the client went away)."""
        while True:
            frame = await self.next_frame()
            self._busy = True
            try:
                await send(frame)
            finally:
                self._busy = False
            self.frames += 1


class LiveHub:
    """A lossy pipeline consumer: keeps the newest message per entity and, `rate_hz` times a
    second, sends what changed to every client."""

    name = "live"

    def __init__(
        self,
        *,
        rate_hz: float = 10.0,
        gate_history: int = 20,
        locate: Locator | None = None,
    ) -> None:
        self.rate_hz = rate_hz
        self._state: dict[Key, Message] = {}
        self._changes: dict[Key, Message] = {}
        self._gates: deque[Message] = deque(maxlen=gate_history)
        self._gate_no = itertools.count()
        self._clients: set[LiveClient] = set()
        self._locate = locate
        self._task: asyncio.Task[None] | None = None
        self.seq = 0
        self.changes = 0  # entity changes taken in
        self.frames = 0  # frames serialised (one per tick with changes)
        self._retired = [0, 0]  # frames sent to and changes coalesced for departed clients

    # -- input -----------------------------------------------------------------------------
    async def __call__(self, batch: Sequence[Envelope]) -> None:
        """Pipeline handler."""
        for env in batch:
            event = env.event
            if isinstance(event, Notice):
                # a notice may name visitors: the screens learn only that a list changed
                if (area := CHANGED.get(event.topic.split(".", 1)[0])) is not None:
                    self.put({"type": area, "key": "changed", "ts": event.ts.isoformat()})
            elif event.kind != "command":
                self.put(to_message(event))

    def put(self, msg: Message) -> None:
        """Take one message ({"type", "key", ...}): events, and state the hub computes itself
        (the counters and patrol progress of the `summary` entity)."""
        kind = msg["type"]
        if kind == "gate":
            # Passages are kept one by one; a key of their own keeps them from coalescing.
            self._changes[("gate", f"{msg['key']}#{next(self._gate_no)}")] = msg
            self._gates.append(msg)
            self.changes += 1
            return
        key = (kind, msg["key"])
        old = self._state.get(key)
        if old is not None and old.get("ts", "") > msg.get("ts", ""):
            return  # a late fix goes to history, not to the live state
        if kind == "alarm" and self._locate is not None:
            msg["at"] = self._locate(msg["originator"])
        if _finished(msg):
            self._state.pop(key, None)
        else:
            self._state[key] = msg
        self._changes[key] = msg
        self.changes += 1

    # -- output ----------------------------------------------------------------------------
    def flush(self) -> int:
        """Send what changed since the last flush to every client; returns how many changes."""
        if not self._changes:
            return 0
        changes, self._changes = self._changes, {}
        self.seq += 1
        frame = _frame(self.seq, list(changes.values()))
        self.frames += 1
        for client in self._clients:
            if client.shared:
                client.offer(self.seq, frame, changes)
        return len(changes)

    def tell(self, user: str, msg: Message) -> int:
        """Send `msg` to `user`'s own connections only (their inbox's unread count: not for
        the shared screens); returns to how many."""
        self.seq += 1  # a frame of its own: clients take only frames newer than they saw
        frame = _frame(self.seq, [msg])
        told = 0
        for client in self._clients:
            if client.user == user:
                client.offer(self.seq, frame, {(msg["type"], msg["key"]): msg})
                told += 1
        return told

    async def start(self) -> None:
        """Start the ticker that flushes `rate_hz` times a second."""
        self._task = asyncio.create_task(self._tick(), name="live-flush")

    async def _tick(self) -> None:
        period = 1.0 / self.rate_hz
        while True:
            await asyncio.sleep(period)
            try:
                self.flush()
            except Exception:  # the loop boundary: a bad message must not stop the screens
                log.exception("live flush failed; dropping this tick's changes")
                self._changes.clear()

    async def stop(self) -> None:
        """Stop the ticker."""
        if self._task is not None:
            await cancel([self._task])

    def connect(self, user: str = "", *, shared: bool = True) -> tuple[LiveClient, str]:
        """A new client (signed in as `user`) and its snapshot frame (send that first). A
        client not `shared` (a staff member's phone) gets only its own messages (`tell`): no
        alarms, positions or gate passages."""
        client = LiveClient(user, shared=shared)
        self._clients.add(client)
        snapshot = orjson.dumps(
            {
                "type": "snapshot",
                "user": user,
                "seq": self.seq,
                "rate_hz": self.rate_hz,
                "entities": list(self._state.values()) if shared else [],
                "gates": list(self._gates) if shared else [],
            }
        ).decode()
        return client, snapshot

    def disconnect(self, client: LiveClient) -> None:
        """Forget a client."""
        if client in self._clients:
            self._clients.discard(client)
            self._retired[0] += client.frames
            self._retired[1] += client.coalesced

    def snapshot(self) -> list[Message]:
        """The newest message of every entity."""
        return list(self._state.values())

    def health(self) -> dict[str, Any]:
        """Client count, entities, and how much coalescing spared the clients."""
        alive = self._task is None or not self._task.done()
        return {
            "status": "ok" if alive else "down",
            "clients": len(self._clients),
            "entities": len(self._state),
            "changes": self.changes,
            "frames": self.frames,
            "sent": self._retired[0] + sum(c.frames for c in self._clients),
            "coalesced": self._retired[1] + sum(c.coalesced for c in self._clients),
            "rate_hz": self.rate_hz,
        }
