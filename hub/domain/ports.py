"""Ports: the narrow interfaces adapters and rules use to reach the core."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from hub.domain.events import Command, Event


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the pipeline did with an event: accepted, or not with a reason."""

    accepted: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.accepted


ACCEPTED = Verdict(True)


class Delivered(Protocol):
    """An accepted event as the pipeline hands it to a consumer (with where it came from)."""

    @property
    def source(self) -> str:
        """The adapter instance that published it."""
        ...

    @property
    def event(self) -> Event:
        """The event."""
        ...


class EventSink(Protocol):
    """Where adapters put what they decoded.

    `source` names the adapter instance ("modbus", "mqtt:owntracks"): a small, bounded set,
    used as a metrics label, never a device id.
    """

    async def publish(self, source: str, event: Event) -> Verdict:
        """Validate and enqueue, waiting while the pipeline is full (backpressure)."""
        ...

    async def publish_many(
        self,
        source: str,
        events: Sequence[Event],
        acks: Sequence[Callable[[], None] | None] | None = None,
    ) -> list[Verdict]:
        """The same for a batch, in order (cheaper per event: use it for poll cycles).

        `acks[i]`, when given, is called once event i is durably stored: a source that must
        not lose what it acknowledged (an MQTT QoS 1 message) acknowledges only then.
        """
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


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What became of a command: done (with the value read back) or not, and why.

    `error` says which kind of failure: "invalid" (read-only point, out of range), "refused"
    (the device answered no), "unreachable" (no answer: the same command may work later),
    "mismatch" (written, but the read-back differs).
    """

    ok: bool
    value: float | None = None
    detail: str = ""
    error: str = ""


@runtime_checkable
class CommandHandler(Protocol):
    """Carries out commands on the equipment an adapter owns."""

    def owns(self, point_id: str) -> bool:
        """Whether this handler's equipment has the point."""
        ...

    async def execute(self, command: Command) -> CommandResult:
        """Check, carry out and verify a command; never raises for a device's refusal."""
        ...


@dataclass
class StoredRule:
    """A rule's persisted state and whether it has disabled itself (see rules.ports)."""

    state: dict[str, Any] = field(default_factory=dict)
    disabled: bool = False
    error: str = ""
