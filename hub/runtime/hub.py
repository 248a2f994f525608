"""The hub: one process's stores, pipeline, services, adapters and app, and their life.

`Hub.__init__` is the list of what a hub runs; each service package assembles itself
(`assemble`, see `hub.services.assembly`) and the hub plugs in what it gives back: the
service, its pipeline consumers, its components and the jobs only the leader runs.

Start order: relational store (migrated), telemetry store, pipeline consumers, pipeline,
components (leadership first, then the relay, the services' components, the leader's jobs,
the adapters: broker first, then adapters, then simulators). Stop order is the reverse, and
the pipeline drains everything it accepted into the stores before they close.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from adapters.location import decode_osmand
from adapters.mqtt import ClusterRelay
from adapters.mqtt.relay import KINDS as RELAYED_KINDS
from hub.api import create_app, redact
from hub.backup import ScheduledBackups
from hub.context import HubContext
from hub.domain import Command, CommandHandler, CommandResult, Component
from hub.identity import IdentityService
from hub.identity.oidc import OidcSignIn
from hub.leadership import Leadership, WhileLeading
from hub.live import LiveHub, to_message
from hub.location import LocationStage
from hub.pipeline import Pipeline, PipelineClosed
from hub.runtime import rules as hub_rules
from hub.runtime.adapters import (
    POLLERS,
    ComponentFactory,
    adapter_components,
    aim_at_broker,
    alarm_sender,
    cluster_relay,
)
from hub.runtime.stores import make_telemetry, retention
from hub.services import alarms as alarms_
from hub.services import booking as booking_
from hub.services import canteen as canteen_
from hub.services import energy as energy_
from hub.services import feedback as feedback_
from hub.services import gate as gate_
from hub.services import inbox as inbox_
from hub.services import journal as journal_
from hub.services import notices as notices_
from hub.services import notify as notify_
from hub.services import patrol as patrol_
from hub.services import permits as permits_
from hub.services import surveys as surveys_
from hub.services import tickets as tickets_
from hub.services import wall as wall_
from hub.services.assembly import Consumer, Part, ServiceEvent, Shared
from hub.services.commands import CommandService
from hub.services.home import Home
from hub.settings import Settings
from hub.site import Site
from hub.site.locate import map_locator
from hub.storage import Database, upgrade
from hub.tasks import Periodic
from hub.telemetry import TELEMETRY_KINDS, TelemetrySink

log = logging.getLogger(__name__)
T = TypeVar("T")


class Hub:
    """One hub process: its context, its components and its app."""

    def __init__(
        self,
        settings: Settings,
        site: Site,
        *,
        factories: Sequence[ComponentFactory] = (adapter_components,),
    ) -> None:
        self.settings, self.site = settings, site
        self._loop: asyncio.AbstractEventLoop | None = None
        self._components: list[Component] = []
        self._singletons: list[Periodic] = []
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # the core: stores, pipeline, live view, who leads, who is who
        db = Database.from_url(settings.db_url)
        self.leadership = Leadership(db, every_s=settings.leader_check_s)
        location = LocationStage(site)
        self.pipeline = Pipeline(maxsize=settings.pipeline_queue, stages=[location])
        telemetry = make_telemetry(settings, site)
        self.pipeline.subscribe("telemetry", TelemetrySink(telemetry), kinds=TELEMETRY_KINDS)
        live = LiveHub(
            rate_hz=settings.live.rate_hz,
            gate_history=settings.live.gate_history,
            locate=map_locator(site),
        )
        # the live view and the rules also take what other workers accepted (the relay)
        self.pipeline.subscribe("live", live, lossless=False, max_batch=200, peers=True)
        self._components.append(live)
        identity = IdentityService(
            db,
            settings.resolve_secret(),
            access_ttl=timedelta(hours=settings.access_token_hours),
            display_ttl=timedelta(days=settings.display_token_days),
            known_units=[u.id for u in site.work_units],
            remember_s=settings.credential_cache_s,
        )
        commands = CommandService(db)
        shared = Shared(settings, site, db, telemetry, self._announce)

        # the services, each assembled from the shared parts
        alarms = self._plug(alarms_.assemble(shared))
        identity.throttle.on_lock = hub_rules.sign_in_alarm(alarms)
        tickets = self._plug(tickets_.assemble(shared, alarms))
        booking = self._plug(booking_.assemble(shared, commands))
        gate_part = self._plug(gate_.assemble(shared, alarms))
        gate = gate_part.gate
        permits = self._plug(permits_.assemble(shared, gate_part))
        energy = self._plug(energy_.assemble(shared))
        journal = self._plug(journal_.assemble(shared))
        self.rules = self._plug(
            hub_rules.assemble(
                shared, alarms, trips=booking.vehicles, leads=self.leadership.is_leader
            )
        )
        self._plug(
            wall_.assemble(
                shared,
                live,
                alarms=alarms.counts,
                tickets=tickets.counts,
                gate=gate.summary,
                patrols=self.rules.patrols,
            )
        )
        patrol = self._plug(patrol_.assemble(shared, self.rules.patrols))
        inbox = self._plug(inbox_.assemble(shared, live))
        canteen = self._plug(canteen_.assemble(shared))
        notices = self._plug(notices_.assemble(shared))
        feedback = self._plug(feedback_.assemble(shared))
        surveys = self._plug(surveys_.assemble(shared))
        home = Home(
            site,
            db=db,
            rooms=booking.rooms,
            vehicles=booking.vehicles,
            visits=gate.visits,
            gate=gate,
            tickets=tickets,
            inbox=inbox,
            canteen=canteen.orders,
            notices=notices,
            feedback=feedback,
            surveys=surveys,
            permits=permits,
        )
        sender = alarm_sender(settings)
        self._plug(notify_.assemble(shared, identity, sender))
        cluster = cluster_relay(settings, self.pipeline)
        if cluster is not None:
            self._consume(Consumer("cluster", cluster, kinds=RELAYED_KINDS, lossless=False))

        # the adapters, then housekeeping
        adapters = self._adapters(factories, db)
        if sender is not None:
            aim_at_broker(sender, adapters)
        self._singletons.append(retention(settings, telemetry, journal, db))
        if settings.backup.every_h > 0:
            self._singletons.append(ScheduledBackups(settings))
        for job in self._singletons:
            job.leads = self.leadership.is_leader
        self.components: list[Component] = [
            self.leadership,  # first: the others ask it who leads
            *([cluster] if cluster is not None else []),
            *self._components,
            *self._singletons,
            *adapters,
        ]
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
            rooms=booking.rooms,
            checkin=booking.checkin,
            vehicles=booking.vehicles,
            visits=gate.visits,
            gate=gate,
            energy=energy.service,
            reports=energy.stored,
            patrol=patrol.service,
            inbox=inbox,
            home=home,
            canteen=canteen,
            notices=notices,
            feedback=feedback,
            surveys=surveys,
            permits=permits,
            oidc=OidcSignIn(
                settings.oidc,
                db,
                settings.resolve_secret(),
                timedelta(hours=settings.access_token_hours),
            )
            if settings.oidc is not None
            else None,
            patrol_reports=patrol.stored,
            rules=hub_rules.HubRules(self.rules, site, telemetry, journal),
            decoders={"osmand": decode_osmand},
        )
        if cluster is not None:
            self._drive_through(cluster)
        for c in self.components:
            self.ctx.components[c.name] = c.health
            if isinstance(c, CommandHandler):
                self.ctx.commands.handlers.append(c)
        self._started: list[Component] = []

    def _plug(self, part: Part[T]) -> T:
        """Take in what a service package assembled: subscribe its consumers, run its
        components, and its jobs on the leader."""
        for consumer in part.consumers:
            self._consume(consumer)
        self._components.extend(part.components)
        self._singletons.extend(part.singletons)
        return part.service

    def _consume(self, c: Consumer) -> None:
        self.pipeline.subscribe(
            c.name,
            c.handler,
            kinds=c.kinds,
            lossless=c.lossless,
            max_batch=c.max_batch,
            peers=c.peers,
        )

    def _adapters(self, factories: Sequence[ComponentFactory], db: Database) -> list[Component]:
        """The components the factories build; pollers run on the leader only when several
        workers may share the database (PostgreSQL)."""
        out: list[Component] = []
        for factory in factories:
            for c in factory(self.settings, self.site, self.pipeline):
                if c.name in POLLERS and db.dialect == "postgresql":
                    make = functools.partial(
                        POLLERS[c.name], self.settings, self.site, self.pipeline
                    )
                    c = WhileLeading(c.name, make, self.leadership)
                out.append(c)
        return out

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

    def _announce(self, event: ServiceEvent) -> None:
        """Put a service's event on the pipeline for the live view and the notifier (alarm
        and ticket changes, gate decisions, notices), from any thread (the services change
        their state in worker threads). Best effort: an event that finds the pipeline full or
        not running is counted as dropped; what must not be lost (an alarm's ticket) goes
        through the outbox instead."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self.pipeline.stats.dropped[(f"{event.kind}s", "not_running")] += 1
            return
        loop.call_soon_threadsafe(self._publish, event)

    def _publish(self, event: ServiceEvent) -> None:
        source = f"{event.kind}s"  # alarms, tickets, gates, notices
        try:
            self.pipeline.publish_nowait(source, event)  # a full pipeline counts its drop
        except PipelineClosed:
            self.pipeline.stats.dropped[(source, "not_running")] += 1

    def migrate(self) -> None:
        """Bring the relational schema up to date."""
        upgrade(self.ctx.db.engine)

    async def start(self) -> None:
        """Start everything in order; on failure stop what started and re-raise."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.migrate)
        await asyncio.to_thread(self.rules.load)
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
