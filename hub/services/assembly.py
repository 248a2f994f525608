"""How a service package assembles itself: from the parts every service shares, one
builder gives back the service, the pipeline consumers it needs, and its jobs.

    Shared (settings, site, db, telemetry, announce, secret) ──► assemble(...) ──► Part
                                                                    service, consumers, jobs

The composition root (`hub.runtime`) calls each package's builder and plugs what comes back
into the pipeline and its list of components; the command line calls the same builders, so a
report printed there is the report the page shows. Routers stay in `hub.api.routes` (the API
imports services, never the reverse) and find their service on the hub's context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from hub.domain import AlarmEvent, Component, GateEvent, Notice, TicketEvent
from hub.pipeline import Handler
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database
from hub.tasks import Periodic
from hub.telemetry import TelemetryStore

T = TypeVar("T")

# What a service tells the rest of the hub (the live view, the notifier): put on the pipeline
# from any thread, best effort (what must not be lost goes through the outbox).
ServiceEvent = AlarmEvent | TicketEvent | GateEvent | Notice
Announce = Callable[[ServiceEvent], None]


@dataclass(frozen=True)
class Shared:
    """What every service may be built from."""

    settings: Settings
    site: Site
    db: Database
    telemetry: TelemetryStore
    announce: Announce

    @property
    def secret(self) -> bytes:
        """The hub's secret (signing check-in links and passes)."""
        return self.settings.resolve_secret().encode()

    @property
    def public_url(self) -> str:
        """Where people reach the hub (links in notices and reports)."""
        s = self.settings
        return (s.public_url or f"http://{s.host}:{s.port}").rstrip("/")


@dataclass(frozen=True)
class Consumer:
    """A pipeline subscription a service needs."""

    name: str
    handler: Handler
    kinds: Sequence[str] | None = None
    lossless: bool = True
    max_batch: int = 500
    peers: bool = False


@dataclass
class Part(Generic[T]):
    """What a builder gives back: the service, its consumers, the components every hub worker
    runs with it, and the jobs only the leading worker runs."""

    service: T
    consumers: list[Consumer] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    singletons: list[Periodic] = field(default_factory=list)
