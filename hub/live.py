"""Live state: the newest value of every entity, and fan-out of changes to websocket clients.

A lossy pipeline consumer: each client has a bounded queue; a slow client loses its oldest
messages (counted), never slows ingest, and can resynchronise from the snapshot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.domain import Event, event_source_key
from hub.pipeline import Envelope


def to_message(event: Event) -> dict[str, Any]:
    """An event as a JSON-ready websocket message: {"type": kind, "key": entity, ...fields}."""
    body: dict[str, Any] = {"type": event.kind, "key": event_source_key(event)}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, enum.Enum):
            value = value.value
        body[f.name] = value
    return body


class LiveClient:
    """One connected client's outbox."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, message: dict[str, Any]) -> None:
        """Enqueue, dropping the oldest message when full."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


class LiveHub:
    """Keeps the newest message per entity and forwards changes to every client."""

    def __init__(self, *, client_queue: int = 1000) -> None:
        self._state: dict[tuple[str, str], dict[str, Any]] = {}
        self._clients: set[LiveClient] = set()
        self._client_queue = client_queue
        self.sent = 0

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        """Pipeline handler."""
        for env in batch:
            if env.event.kind == "command":
                continue
            msg = to_message(env.event)
            key = (msg["type"], msg["key"])
            old = self._state.get(key)
            if old is not None and old.get("ts", "") > msg.get("ts", ""):
                continue  # a late fix goes to history, not to the live state
            self._state[key] = msg
            for client in self._clients:
                client.offer(msg)
                self.sent += 1

    def connect(self) -> LiveClient:
        """A new client; send it `snapshot()` first."""
        client = LiveClient(self._client_queue)
        self._clients.add(client)
        return client

    def disconnect(self, client: LiveClient) -> None:
        """Forget a client."""
        self._clients.discard(client)

    def snapshot(self) -> list[dict[str, Any]]:
        """The newest message of every entity."""
        return list(self._state.values())

    def health(self) -> dict[str, Any]:
        """Client count and deliveries."""
        return {
            "status": "ok",
            "clients": len(self._clients),
            "entities": len(self._state),
            "sent": self.sent,
            "client_drops": sum(c.dropped for c in self._clients),
        }
