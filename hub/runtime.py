"""The composition root: builds stores, pipeline, services, adapters and the app, and runs them.

Only this module (and the CLI that calls it) imports everything. Start order: relational store
(migrated), telemetry store, pipeline consumers, pipeline, components (broker first, then
adapters, then simulators), jobs. Stop order is the reverse, and the pipeline drains everything
it accepted into the stores before they close.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from adapters.bacnet import BacnetAdapter, BacnetLink
from adapters.bacnet import site_hook as bacnet_site_hook
from adapters.location import decode_osmand
from adapters.modbus import ModbusAdapter
from adapters.modbus import site_hook as modbus_site_hook
from adapters.mqtt import ClusterRelay, MqttIngest, MqttOptions, MqttSender
from adapters.mqtt.relay import KINDS as RELAYED_KINDS
from hub.api import create_app, redact
from hub.backup import ScheduledBackups
from hub.context import HubContext
from hub.domain import (
    AlarmEvent,
    Command,
    CommandHandler,
    CommandResult,
    Component,
    Event,
    EventSink,
    GateEvent,
    Notice,
    Reading,
    TicketEvent,
)
from hub.errors import Invalid
from hub.identity import IdentityService
from hub.identity.throttle import OnLock
from hub.leadership import Leadership, WhileLeading
from hub.live import LiveHub, to_message
from hub.location import LocationStage
from hub.pipeline import Pipeline, PipelineClosed
from hub.services.alarms import AlarmPolicy, AlarmService, AlarmSweeper, SqlRuleStateStore
from hub.services.booking import CheckIn, RoomBookings
from hub.services.booking.jobs import BookingJobs
from hub.services.booking.trips import Fix
from hub.services.booking.vehicles import Track, VehicleBookings
from hub.services.commands import CommandService
from hub.services.energy.meters import MeterTree, MeterTreeError
from hub.services.energy.scheduled import ScheduledReports, StoredReports
from hub.services.energy.service import EnergyService
from hub.services.gate import passes
from hub.services.gate.service import GateService
from hub.services.gate.visits import VisitService
from hub.services.journal import KINDS as JOURNAL_KINDS
from hub.services.journal import EventJournal
from hub.services.notify import Notifier
from hub.services.tickets import TicketService
from hub.services.tickets.jobs import TicketJobs
from hub.services.wall import WallSummary
from hub.settings import MqttSettings, Settings
from hub.site import Site, SiteConfigError, SiteProblem, load_site
from hub.site.energy import meters_of
from hub.site.loader import DeviceHook, check_rules_text
from hub.site.locate import map_locator
from hub.site.rules import SilenceRule, ThresholdRule
from hub.storage import Database, upgrade
from hub.tasks import Periodic
from hub.telemetry import TELEMETRY_KINDS, SQLiteTelemetryStore, TelemetrySink, TelemetryStore
from hub.telemetry.influx import InfluxConfig, InfluxTelemetryStore
from hub.telemetry.schema import series_meta
from rules.dry_run import dry_run
from rules.engine import RuleEngine

log = logging.getLogger(__name__)

# Builds the components a hub runs besides its core (adapters, simulators) from its site.
ComponentFactory = Callable[[Settings, Site, EventSink], Sequence[Component]]
PollerFactory = Callable[[Settings, Site, EventSink], Component]

# Each protocol's check of a device in the site file (connection, register map).
# What the rules engine consumes (alarms and commands are its output and others').
RULE_KINDS = ("reading", "status", "position", "sighting", "gate")

SITE_HOOKS: dict[str, DeviceHook] = {"modbus": modbus_site_hook, "bacnet": bacnet_site_hook}


def load_site_for_hub(path: str | Path) -> Site:
    """Load a site file with every adapter's checks and the meter hierarchy's (what
    `hub check` and `hub run` use)."""
    site = load_site(path, SITE_HOOKS)
    try:
        MeterTree(meters_of(site))
    except MeterTreeError as err:
        problems = [SiteProblem("meters", msg) for msg in str(err).split("; ")]
        raise SiteConfigError(str(path), problems) from err
    return site


def site_dir(settings: Settings) -> Path | None:
    """The folder of the site file (maps and plans are looked up next to it)."""
    return settings.site_file.parent if settings.site_file else None


def mqtt_options(m: MqttSettings) -> MqttOptions:
    """The MQTT client's options from the hub's settings."""
    return MqttOptions(
        host=m.host,
        port=m.port,
        client_id=m.client_id,
        username=m.username,
        password=m.password.get_secret_value() if m.password else None,
        tls=m.tls,
        ca_file=m.ca_file,
        protocol=m.protocol,
        session_expiry_s=m.session_expiry_s,
        shared_group=m.shared_group,
    )


def _modbus(settings: Settings, site: Site, sink: EventSink) -> Component:
    return ModbusAdapter.from_site(site.devices, sink, site_dir(settings))


def _bacnet(settings: Settings, site: Site, sink: EventSink) -> Component:
    b = settings.bacnet
    link = BacnetLink(
        b.address,
        b.device_instance,
        bbmd=b.bbmd,
        ttl_s=b.ttl_s,
        apdu_timeout_ms=b.apdu_timeout_ms,
        retries=b.retries,
    )
    return BacnetAdapter.from_site(site.devices, sink, link, site_dir(settings))


# The adapters that poll devices: with several workers only the leader runs them.
POLLERS: dict[str, PollerFactory] = {"modbus": _modbus, "bacnet": _bacnet}


def adapter_components(settings: Settings, site: Site, sink: EventSink) -> list[Component]:
    """The protocol adapters the site's devices need (each adapter registers here)."""
    components: list[Component] = []
    m = settings.mqtt
    if m.embedded:
        from adapters.embedded_broker import EmbeddedBroker

        broker = EmbeddedBroker(m.host, m.port)
        components.append(broker)
        m = m.model_copy(update={"port": broker.port, "protocol": 311})  # amqtt: MQTT 3.1.1
    if m.ingest:
        components.append(MqttIngest(mqtt_options(m), sink))
    for protocol, build in POLLERS.items():
        if any(d.protocol == protocol for d in site.devices):
            components.append(build(settings, site, sink))
    return components


class RetentionJob(Periodic):
    """Deletes telemetry (and journaled statuses and sightings) older than the retention
    period: at start, then hourly."""

    def __init__(
        self,
        store: TelemetryStore,
        days: int,
        every: timedelta = timedelta(hours=1),
        journal: EventJournal | None = None,
    ):
        super().__init__("retention", every.total_seconds(), self._prune, at_start=True)
        self.store, self.days, self.journal = store, days, journal
        self.last_deleted = 0

    async def _prune(self) -> int:
        cutoff = datetime.now(UTC) - timedelta(days=self.days)
        deleted = await self.store.prune(cutoff)
        if self.journal is not None:
            deleted += await asyncio.to_thread(self.journal.prune, cutoff)
        self.last_deleted = deleted
        return deleted

    def health(self) -> dict[str, object]:
        """The job's health, the retention and what the last pass deleted."""
        return {**super().health(), "retention_days": self.days, "last_deleted": self.last_deleted}


def make_telemetry(settings: Settings, site: Site) -> TelemetryStore:
    """The configured telemetry backend, knowing the site's series tags."""
    tags = series_meta(
        site.site.id,
        [(d.id, d.building, d.floor, [d.point_id(p) for p in d.points]) for d in site.devices],
    )
    if settings.telemetry_backend == "sqlite":
        return SQLiteTelemetryStore(settings.telemetry_path, tags)
    cfg = settings.influx
    return InfluxTelemetryStore(
        InfluxConfig(
            url=cfg.url,
            api=cfg.api,
            database=cfg.database,
            retention_policy=cfg.retention_policy,
            username=cfg.username,
            password=cfg.password.get_secret_value() if cfg.password else None,
            token=cfg.token.get_secret_value() if cfg.token else None,
            org=cfg.org,
            bucket=cfg.bucket,
            timeout=cfg.timeout_s,
        ),
        tags,
        settings.spool_path,
        spool_max_bytes=cfg.spool_max_mb * 1024 * 1024,
        when_full=cfg.spool_when_full,
        alarm_at=cfg.spool_alarm_at,
    )


def alarm_policies(site: Site) -> dict[str, AlarmPolicy]:
    """Reminders and escalation of each rule's alarms, from the site file."""

    def minutes(m: float | None) -> timedelta | None:
        return timedelta(minutes=m) if m else None

    return {
        r.id: AlarmPolicy(
            minutes(getattr(r, "remind_every_min", None)),
            minutes(getattr(r, "escalate_after_min", None)),
        )
        for r in site.rules
    }


AUTH_RULE = "auth"  # the rule id of sign-in alarms


def sign_in_alarm(alarms: AlarmService) -> OnLock:
    """What a sign-in lock does: an alarm for the security room (one active per account or
    address, its occurrences counting further locks)."""

    def raise_(key: str, failures: int, until: datetime) -> None:
        kind, _, who = key.partition(":")
        what = {"account": "账号", "addr": "地址", "cred": "密钥猜测 地址"}.get(kind, kind)
        alarms.raise_alarm(
            rule=AUTH_RULE,
            originator=key,
            type="sign_in_locked",
            severity="major",
            message=f"{what} {who}: {failures} failed sign-ins, locked until "
            f"{until.isoformat(timespec='seconds')}",
            ticket=False,
            now=datetime.now(UTC),
        )

    return raise_


class HubRules:
    """The rules as the API sees them: the running engine, and dry runs of rule files over
    what was recorded: readings and positions (telemetry store), device statuses and badge
    sightings (event journal)."""

    MAX_RANGE = timedelta(days=7)

    def __init__(
        self,
        engine: RuleEngine,
        site: Site,
        telemetry: TelemetryStore,
        journal: EventJournal,
    ) -> None:
        self.engine = engine
        self.site = site
        self.telemetry = telemetry
        self.journal = journal

    def rules(self) -> list[dict[str, Any]]:
        """Every running rule with its state (as the leading worker saved it; blocking)."""
        return self.engine.rules(fresh=True)

    async def enable(self, rule_id: str) -> None:
        """Re-enable a rule that disabled itself."""
        await self.engine.enable(rule_id)

    async def dry_run(
        self, text: str, start: datetime, end: datetime, tick_s: float
    ) -> dict[str, Any]:
        """Replay the recorded stretch [start, end) through the rules in `text`."""
        if not timedelta(0) < end - start <= self.MAX_RANGE:
            raise Invalid("give a range of up to 7 days, end after start")
        rules, problems = check_rules_text(text, self.site)
        if problems:
            raise Invalid("; ".join(str(p) for p in problems))
        points = self.site.point_ids()
        wanted: set[str] = set()
        for r in rules:
            if isinstance(r, ThresholdRule):
                wanted.add(r.point)
            elif isinstance(r, SilenceRule):
                wanted |= {pid for pid, (d, _) in points.items() if d.id in r.devices}
        events: list[Event] = []
        for pid in sorted(wanted):
            unit = points[pid][1].unit if pid in points else ""
            for sample in await self.telemetry.history(pid, start, end, limit=200_000):
                events.append(Reading(pid, sample.value, unit, sample.ts, sample.quality))
        subjects = [p.id for p in self.site.people if p.role == "guard"]
        subjects += [v.id for v in self.site.vehicles]
        for subject in subjects:
            events += await self.telemetry.track(subject, start, end, limit=200_000)
        events += await asyncio.to_thread(self.journal.events, start, end)
        return await asyncio.to_thread(
            dry_run, self.site, rules, events, start, end, tick=timedelta(seconds=tick_s)
        )


def _track_of(telemetry: TelemetryStore) -> Track:
    """A vehicle's fixes from the telemetry store, as the trip analysis takes them."""

    async def track(vehicle: str, start: datetime, end: datetime) -> list[Fix]:
        fixes = await telemetry.track(vehicle, start, end, limit=200_000)
        return [(f.ts, f.lat, f.lon) for f in fixes if f.lat is not None and f.lon is not None]

    return track


class Hub:
    """One hub process: its context, its components and its app."""

    def __init__(
        self,
        settings: Settings,
        site: Site,
        *,
        factories: Sequence[ComponentFactory] = (adapter_components,),
    ) -> None:
        self.settings = settings
        self.site = site
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database.from_url(settings.db_url)
        self.leadership = Leadership(db, every_s=settings.leader_check_s)
        location = LocationStage(site)
        self.pipeline = Pipeline(maxsize=settings.pipeline_queue, stages=[location])
        telemetry = make_telemetry(settings, site)
        live = LiveHub(
            rate_hz=settings.live.rate_hz,
            gate_history=settings.live.gate_history,
            locate=map_locator(site),
        )
        identity = IdentityService(
            db,
            settings.resolve_secret(),
            access_ttl=timedelta(hours=settings.access_token_hours),
            display_ttl=timedelta(days=settings.display_token_days),
            known_units=[u.id for u in site.work_units],
            remember_s=settings.credential_cache_s,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        alarms = AlarmService(db, notify=self._announce, policies=alarm_policies(site))
        identity.throttle.on_lock = sign_in_alarm(alarms)
        journal = EventJournal(db)
        tickets = TicketService(
            db,
            site,
            photos=settings.files_dir / "photos",
            notify=self._announce,
            alarms=alarms,
            close_on_clear=settings.tickets.close_on_clear,
            rating_reminder=timedelta(hours=settings.tickets.rating_reminder_h),
        )
        ticket_jobs = TicketJobs(tickets, settings.tickets.sweep_s)
        rooms = RoomBookings(db, site, settings.booking)
        commands = CommandService(db)
        vehicles = VehicleBookings(db, site, settings.booking, track=_track_of(telemetry))
        self.rules = RuleEngine(
            site,
            SqlRuleStateStore(db),
            alarms,
            save_every_s=1.0,
            trips=vehicles,
            leads=self.leadership.is_leader,
            events_may_cross=settings.mqtt.relay,
        )
        key_file = settings.gate.pass_key_file or settings.files_dir / "pass_ed25519.pem"
        visits = VisitService(
            db,
            site,
            settings.gate,
            secret=settings.resolve_secret().encode(),
            key=passes.load_or_create_key(key_file),
        )
        gate = GateService(visits, alarms=alarms, announce=self._announce)
        e = settings.energy
        energy = EnergyService(
            site,
            telemetry,
            db=db,
            gap=timedelta(minutes=e.gap_min),
            offline_after=timedelta(minutes=e.offline_min),
            lookback=timedelta(days=e.lookback_days),
        )
        stored = StoredReports(settings.files_dir / "reports")
        base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
        reports = ScheduledReports(
            energy,
            stored,
            kinds=e.schedule,
            settle=timedelta(minutes=e.settle_min),
            notify=e.notify,
            announce=self._announce,
            link=lambda name: f"{base}/energy.html#stored={name}",
            lang=e.lang,
        )
        self.ctx = HubContext(
            settings=settings,
            site=site,
            db=db,
            identity=identity,
            telemetry=telemetry,
            pipeline=self.pipeline,
            live=live,
            commands=commands,
            location=location,
            alarms=alarms,
            tickets=tickets,
            rooms=rooms,
            checkin=CheckIn(rooms, settings.resolve_secret().encode()),
            vehicles=vehicles,
            visits=visits,
            gate=gate,
            energy=energy,
            reports=stored,
            rules=HubRules(self.rules, site, telemetry, journal),
            decoders={"osmand": decode_osmand},
        )
        self.pipeline.subscribe("telemetry", TelemetrySink(telemetry), kinds=TELEMETRY_KINDS)
        # live view and rules also take what other workers accepted (the relay below)
        self.pipeline.subscribe("live", live, lossless=False, max_batch=200, peers=True)
        self.pipeline.subscribe("rules", self.rules, kinds=RULE_KINDS, peers=True)
        self.pipeline.subscribe("journal", journal, kinds=JOURNAL_KINDS)
        self.pipeline.subscribe("tickets", ticket_jobs, kinds=("alarm",))
        wall = WallSummary(
            live,
            site,
            every_s=settings.live.summary_s,
            alarms=alarms.counts,
            tickets=tickets.counts,
            gate=gate.summary,
            rules=self.rules.rules,
        )
        routes = {r.id: list(getattr(r, "notify", [])) for r in site.rules}
        routes.setdefault("ticket-sla", ["role:dispatcher"])  # overdue repairs
        routes.setdefault("gate", ["role:security"])  # refusals repeating, visitors overstaying
        routes.setdefault(AUTH_RULE, ["role:security"])  # sign-ins locked after many failures
        alarm_out = None
        if settings.notify.mqtt_topic:
            alarm_out = MqttSender(
                dataclasses.replace(
                    mqtt_options(settings.mqtt), client_id=f"{settings.mqtt.client_id}-alarms"
                )
            )
        notifier = Notifier(
            settings.notify,
            site=site.site.name,
            timezone=site.site.timezone,
            mqtt=alarm_out,
            recipients=lambda rule: identity.emails_for(routes.get(rule, [])),
            people=lambda names: identity.emails_for(
                [n if n.startswith("role:") else f"user:{n}" for n in names]
            ),
        )
        self.pipeline.subscribe(
            "notify", notifier, kinds=("alarm", "ticket", "notice"), lossless=False
        )
        relay: list[Component] = []
        cluster: ClusterRelay | None = None
        if settings.mqtt.relay and not settings.mqtt.embedded:
            cluster = ClusterRelay(mqtt_options(settings.mqtt), self.pipeline.relayed)
            self.pipeline.subscribe("cluster", cluster, kinds=RELAYED_KINDS, lossless=False)
            relay.append(cluster)
        # jobs one process runs when several hub workers share the database
        singletons: list[Periodic] = [
            AlarmSweeper(alarms),
            ticket_jobs,
            BookingJobs(rooms, commands.write, settings.booking.sweep_s),
            Periodic("gate_jobs", settings.gate.sweep_s, gate.sweep),
            Periodic("energy_reports", e.sweep_s, reports),
        ]
        for job in singletons:
            job.leads = self.leadership.is_leader
        self.components: list[Component] = [
            self.leadership,  # first: the others ask it who leads
            *relay,
            self.rules,
            live,
            wall,
            *singletons,
            notifier,
        ]
        for factory in factories:
            for c in factory(settings, site, self.pipeline):
                if c.name in POLLERS and db.dialect == "postgresql":  # maybe several workers
                    make = functools.partial(POLLERS[c.name], settings, site, self.pipeline)
                    c = WhileLeading(c.name, make, self.leadership)
                self.components.append(c)
        broker = next((c for c in self.components if c.name == "mqtt_broker"), None)
        if broker is not None and alarm_out is not None:  # the embedded one (amqtt: 3.1.1)
            alarm_out.options = dataclasses.replace(
                alarm_out.options,
                port=broker.port,  # type: ignore[attr-defined]
                protocol=311,
            )
        if cluster is not None:
            self._drive_through(cluster)
        retention = RetentionJob(telemetry, settings.telemetry_retention_days, journal=journal)
        retention.leads = self.leadership.is_leader
        self.components.append(retention)
        if settings.backup.every_h > 0:
            backups = ScheduledBackups(settings)
            backups.leads = self.leadership.is_leader
            self.components.append(backups)
        for c in self.components:
            self.ctx.components[c.name] = c.health
            if isinstance(c, CommandHandler):
                self.ctx.commands.handlers.append(c)
        self._started: list[Component] = []

    def _drive_through(self, cluster: ClusterRelay) -> None:
        """Commands to equipment only the leader polls: a standby forwards them through the
        relay, and the leader carries out what it is forwarded."""
        drivers = [c for c in self.components if isinstance(c, WhileLeading)]
        for d in drivers:
            d.forward = cluster.forward

        def execute_here(command: Command) -> Awaitable[CommandResult] | None:
            for d in drivers:
                if d.current is not None and d.owns(command.target):
                    return d.execute(command)
            return None

        cluster.execute_here = execute_here

    def add_component(self, component: Component) -> None:
        """Run one more component with the hub (before it starts)."""
        self.components.append(component)
        self.ctx.components[component.name] = component.health

    def _announce(self, event: AlarmEvent | TicketEvent | GateEvent | Notice) -> None:
        """Put a service's event on the pipeline (live view, notifications, tickets): alarm
        and ticket changes, gate decisions, notices; from any thread (the services change
        their state in worker threads)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._publish, event)

    def _publish(self, event: AlarmEvent | TicketEvent | GateEvent | Notice) -> None:
        with contextlib.suppress(PipelineClosed):
            self.pipeline.publish_nowait(f"{event.kind}s", event)  # source: alarms, tickets, …

    def migrate(self) -> None:
        """Bring the relational schema up to date."""
        upgrade(self.ctx.db.engine)

    async def start(self) -> None:
        """Start everything in order; on failure stop what started and re-raise."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.migrate)
        await asyncio.to_thread(self.rules.load)
        if self.ctx.vehicles is not None:
            await asyncio.to_thread(self.ctx.vehicles.load)  # the trip book, before fixes
        for event in await asyncio.to_thread(self.ctx.alarms.live_events):
            self.ctx.live.put(to_message(event))  # screens show the alarms already open
        await self.ctx.telemetry.start()
        await self.pipeline.start()
        try:
            for c in self.components:
                await c.start()
                self._started.append(c)
        except BaseException:
            await self.stop()
            raise
        # What the hub built to start (modules, the site, rule and zone tables: ~265,000
        # objects) lives as long as the process: moved out of the cyclic collector's
        # generations, a full collection no longer walks it (it stalled the event loop for
        # ~140 ms each time) and walks only what the running hub makes.
        gc.collect()
        gc.freeze()
        log.info("hub started: site %s, %d components", self.site.site.id, len(self._started))

    async def stop(self) -> None:
        """Stop components, drain the pipeline into the stores, close the stores."""
        for c in reversed(self._started):
            try:
                await c.stop()
            except Exception:
                log.exception("stopping %s failed", c.name)
        self._started.clear()
        await self.pipeline.stop()
        await self.ctx.telemetry.close()
        self.ctx.db.close()
        gc.unfreeze()  # what it froze at start may be garbage now: the collector's again
        log.info("hub stopped")

    def app(self) -> FastAPI:
        """The web app; its lifespan starts and stops the hub."""

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        return create_app(self.ctx, lifespan=lifespan)

    async def serve(self, *, on_ready: Callable[[], Any] | None = None) -> None:
        """Serve HTTP until interrupted (SIGINT/SIGTERM stop cleanly)."""
        config = uvicorn.Config(
            self.app(),
            host=self.settings.host,
            port=self.settings.port,
            log_level=self.settings.log_level.lower(),
            lifespan="on",
            ws="websockets-sansio",
            proxy_headers=True,
            forwarded_allow_ips=self.settings.forwarded_allow_ips,
        )
        redact.install()  # after uvicorn's Config, which configures its loggers
        server = uvicorn.Server(config)
        if on_ready is None:
            await server.serve()
            return

        async def announce() -> None:
            while not server.started:
                if server.should_exit:
                    return
                await asyncio.sleep(0.05)
            on_ready()

        watcher = asyncio.create_task(announce())
        try:
            await server.serve()
        finally:
            watcher.cancel()
