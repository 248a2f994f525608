"""The services and stores one hub process runs with, handed to the API by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hub.domain import Event
from hub.errors import Unavailable
from hub.identity import IdentityService
from hub.identity.oidc import OidcSignIn
from hub.live import LiveHub
from hub.location import LocationStage
from hub.pipeline import Pipeline
from hub.services.alarms import AlarmService
from hub.services.booking import CheckIn, RoomBookings
from hub.services.booking.vehicles import VehicleBookings
from hub.services.canteen import Canteen
from hub.services.commands import CommandService
from hub.services.energy.service import EnergyService
from hub.services.feedback import Feedback
from hub.services.gate.service import GateService
from hub.services.gate.visits import VisitService
from hub.services.home import Home
from hub.services.inbox import InboxService
from hub.services.notices import Notices
from hub.services.patrol import PatrolService
from hub.services.permits import Permits
from hub.services.reports import StoredReports
from hub.services.surveys import Surveys
from hub.services.tickets import TicketService
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database
from hub.telemetry import TelemetryStore

HealthCheck = Callable[[], dict[str, Any]]


class RuleCatalog(Protocol):
    """The running rules as the API shows and manages them (the rules engine)."""

    def rules(self) -> list[dict[str, Any]]:
        """Every rule with its configuration and state."""
        ...

    async def enable(self, rule_id: str) -> None:
        """Re-enable a rule that disabled itself."""
        ...

    async def dry_run(
        self, text: str, start: datetime, end: datetime, tick_s: float
    ) -> dict[str, Any]:
        """Replay recorded events through the rules in `text`; Invalid for bad rules."""
        ...


class NoRules:
    """A hub without a rules engine (tests of other parts)."""

    def rules(self) -> list[dict[str, Any]]:
        """None."""
        return []

    async def enable(self, rule_id: str) -> None:
        """There is nothing to enable."""
        raise KeyError(rule_id)

    async def dry_run(
        self, text: str, start: datetime, end: datetime, tick_s: float
    ) -> dict[str, Any]:
        """No engine to run them."""
        raise Unavailable("this hub runs no rules engine")


@dataclass
class HubContext:
    """What request handlers may use. Built once, in `hub.runtime`."""

    settings: Settings
    site: Site
    db: Database
    identity: IdentityService
    telemetry: TelemetryStore
    pipeline: Pipeline
    live: LiveHub
    commands: CommandService
    location: LocationStage
    alarms: AlarmService
    tickets: TicketService
    rooms: RoomBookings
    checkin: CheckIn
    vehicles: VehicleBookings
    visits: VisitService
    gate: GateService
    energy: EnergyService
    reports: StoredReports
    patrol: PatrolService
    inbox: InboxService
    home: Home
    canteen: Canteen
    notices: Notices
    feedback: Feedback
    surveys: Surveys
    permits: Permits
    patrol_reports: StoredReports
    oidc: OidcSignIn | None = None  # single sign-on, when the settings name a provider
    rules: RuleCatalog = field(default_factory=NoRules)
    # Wire-format decoders the API needs (HTTP trackers), injected by the composition root:
    # name -> function(parameters) -> events.
    decoders: dict[str, Callable[[Any], list[Event]]] = field(default_factory=dict)
    # Extra components (broker, adapters, jobs) report here: name -> health check.
    components: dict[str, HealthCheck] = field(default_factory=dict)
