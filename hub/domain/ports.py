"""Ports: the narrow interfaces adapters and rules use to reach the core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hub.domain.events import Event


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the pipeline did with an event: accepted, or not with a reason."""

    accepted: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.accepted


ACCEPTED = Verdict(True)


class EventSink(Protocol):
    """Where adapters put what they decoded.

    `source` names the adapter instance ("modbus", "mqtt:owntracks"): a small, bounded set,
    used as a metrics label, never a device id.
    """

    async def publish(self, source: str, event: Event) -> Verdict:
        """Validate and enqueue, waiting while the pipeline is full (backpressure)."""
        ...

    def reject(self, source: str, reason: str) -> None:
        """Count input an adapter could not turn into an event (malformed payload, unknown id)."""
        ...


class Component(Protocol):
    """Something the hub starts and stops with itself: an adapter, a simulator, a broker, a job."""

    name: str

    async def start(self) -> None:
        """Begin work; return once running (long work goes in tasks the component owns)."""
        ...

    async def stop(self) -> None:
        """Stop work and release resources; must not raise."""
        ...

    def health(self) -> dict[str, object]:
        """{"status": "ok" | "degraded" | "down", ...} for /api/health."""
        ...
