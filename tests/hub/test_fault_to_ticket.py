"""From an equipment fault to its repair ticket on PostgreSQL, when things go wrong on the way:
the database restarting in the middle of a fault, the pipeline full when the alarm is
announced, a batch failing and being delivered again. Each time: one alarm, one ticket, and
as many occurrences as the device reported faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from hub.domain import AlarmEvent, DeviceStatus, Reading
from hub.pipeline import Pipeline
from hub.runtime.rules import RULE_KINDS
from hub.services.alarms import AlarmService, SqlRuleStateStore
from hub.services.tickets import TicketJobs, TicketService
from hub.site import Site
from hub.storage import Database, upgrade
from hub.storage.models import Alarm, Ticket
from rules.engine import RuleEngine
from tests.conftest import fresh_database
from tests.support.servers import PostgresServer
from tests.support.waiting import until


@pytest.fixture
def pg() -> Iterator[PostgresServer]:
    server = PostgresServer()  # its own: this test stops and starts it
    server.start()
    yield server
    server.remove()


@dataclass
class Plant:
    """The path as the hub wires it: pipeline → rules engine → alarm book (+ outbox) →
    ticket jobs."""

    db: Database
    pipeline: Pipeline
    engine: RuleEngine
    alarms: AlarmService
    tickets: TicketService
    jobs: TicketJobs
    announced: list[AlarmEvent]

    async def fault(self, device: str = "ahu-b2", detail: str = "送风机故障") -> None:
        now = datetime.now(UTC)
        await self.pipeline.publish("modbus", DeviceStatus(device, True, now, True, detail))

    def alarm(self, device: str = "ahu-b2") -> Alarm | None:
        with self.db.session() as s:
            return s.scalars(select(Alarm).where(Alarm.originator == device)).one_or_none()

    def ticket_list(self) -> list[Ticket]:
        with self.db.session() as s:
            return list(s.scalars(select(Ticket)))


async def plant(url: str, site: Site, tmp: Path, *, queue: int = 10_000) -> Plant:
    db = Database.from_url(url)
    await asyncio.to_thread(upgrade, db.engine)
    announced: list[AlarmEvent] = []
    pipeline = Pipeline(maxsize=queue)
    alarms = AlarmService(db, notify=announced.append)
    tickets = TicketService(db, site, photos=tmp / "photos", alarms=alarms)
    jobs = TicketJobs(tickets, every_s=3600, drain_s=0.2)
    alarms.on_outbox = jobs.poke
    engine = RuleEngine(site, SqlRuleStateStore(db), alarms, tick_s=3600)
    pipeline.subscribe("rules", engine, kinds=RULE_KINDS)
    await pipeline.start()
    await engine.start()
    await jobs.start()
    return Plant(db, pipeline, engine, alarms, tickets, jobs, announced)


async def close(p: Plant) -> None:
    await p.jobs.stop()
    await p.engine.stop()
    await p.pipeline.stop(timeout=5)
    p.db.close()


@pytest.fixture
async def on_pg(pg_url: str, demo_site: Site, tmp_path: Path) -> AsyncIterator[Plant]:
    p = await plant(pg_url, demo_site, tmp_path)
    yield p
    await close(p)


async def test_a_database_restart_in_the_middle_of_a_fault_neither_loses_nor_doubles_it(
    pg: PostgresServer, demo_site: Site, tmp_path: Path
) -> None:
    with fresh_database(pg.url) as url:
        p = await plant(url, demo_site, tmp_path)
        try:
            now = datetime.now(UTC)
            hot = [  # above 30 °C for 2 minutes: the threshold rule raises at the second
                Reading("ahu-b2.supply_temp", v, "°C", now - timedelta(seconds=s))
                for v, s in ((31.0, 130), (31.5, 0))
            ]
            await p.pipeline.publish("modbus", hot[0])
            pg.stop()
            await p.fault()  # the rules decide "raise" while the alarm book is away
            await p.pipeline.publish("modbus", hot[1])
            rules = lambda: p.pipeline.health()["consumers"]["rules"]  # noqa: E731
            await until(lambda: rules()["waiting"], "the rules to wait for their store")
            assert p.pipeline.health()["status"] == "degraded"
            pg.start()
            alarm = await until(lambda: p.alarm(), "the alarm, once the database is back")
            assert alarm.occurrences == 1
            hot_alarm = await until(lambda: p.alarm("ahu-b2.supply_temp"), "the threshold's alarm")
            assert (hot_alarm.type, hot_alarm.occurrences) == ("threshold", 1)
            (ticket,) = await until(lambda: p.ticket_list(), "the fault's ticket")
            assert (ticket.occurrences, ticket.fault_active) == (1, True)
            await p.fault()  # the device still reports its fault: one more occurrence
            await until(lambda: p.alarm().occurrences == 2, "the second occurrence")  # type: ignore[union-attr]
            await until(lambda: p.ticket_list()[0].occurrences == 2, "the ticket's second")
            assert rules()["errors"] == 0
            assert rules()["retries"] >= 1
            assert [t.id for t in p.ticket_list()] == [ticket.id]
        finally:
            await close(p)


async def test_an_alarm_announced_into_a_full_pipeline_still_gets_its_ticket(
    pg_url: str, demo_site: Site, tmp_path: Path
) -> None:
    db = Database.from_url(pg_url)
    full = Pipeline(maxsize=1)  # never started: one event fills it
    verdicts = []
    alarms = AlarmService(db, notify=lambda e: verdicts.append(full.publish_nowait("alarms", e)))
    tickets = TicketService(db, demo_site, photos=tmp_path, alarms=alarms)
    jobs = TicketJobs(tickets)
    full.publish_nowait("modbus", Reading("meter-b1.kwh", 1.0, "kWh", datetime.now(UTC)))
    now = datetime.now(UTC)
    alarms.raise_alarm(
        rule="plant-faults",
        originator="ahu-b1",
        type="equipment_fault",
        severity="major",
        message="冷冻水阀故障",
        ticket=True,
        now=now,
    )
    assert [v.reason for v in verdicts] == ["pipeline_full"]  # the announcement was dropped
    assert full.stats.dropped[("alarms", "pipeline_full")] == 1
    assert tickets.pending_alarms() == {"pending": 1, "set_aside": 0}
    assert await jobs.drain() == 1  # the outbox kept what the ticket service is owed
    assert jobs.health()["outbox"] == {"pending": 0, "set_aside": 0}
    (ticket,) = await asyncio.to_thread(lambda: list(db.sessions().scalars(select(Ticket))))
    assert (ticket.asset_id, ticket.source, ticket.occurrences) == ("ahu-b1", "alarm", 1)
    assert await jobs.drain() == 0  # applied once
    db.close()


async def test_a_failed_batch_delivered_again_counts_each_fault_once(on_pg: Plant) -> None:
    p = on_pg
    # The database refuses one alarm's history row (as a broken constraint would): the
    # batch holding it fails and the pipeline delivers its events one by one.
    with p.db.engine.begin() as conn:
        conn.execute(
            text(
                """
                CREATE FUNCTION refuse_poison() RETURNS trigger AS $$
                BEGIN
                  IF NEW.detail::jsonb ->> 'message' = 'poison' THEN
                    RAISE EXCEPTION 'refused by the test';
                  END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql;
                CREATE TRIGGER refuse_poison BEFORE INSERT ON alarm_log
                  FOR EACH ROW EXECUTE FUNCTION refuse_poison();
                """
            )
        )
    now = datetime.now(UTC)
    batch = [
        DeviceStatus("ahu-b2", True, now, True, "送风机故障"),
        DeviceStatus("rc-101", True, now, True, "poison"),
    ]
    await p.pipeline.publish_many("modbus", batch)
    rules = lambda: p.pipeline.health()["consumers"]["rules"]  # noqa: E731
    await until(lambda: rules()["handled"] + rules()["errors"] == 2, "the batch to be settled")
    assert rules()["errors"] == 1  # the poison event, alone
    alarm = p.alarm("ahu-b2")
    assert alarm is not None
    assert alarm.occurrences == 1
    assert p.alarm("rc-101") is None
    (ticket,) = await until(lambda: p.ticket_list(), "the fault's ticket")
    assert ticket.occurrences == 1
    await p.fault("rc-101", "控制器故障")  # the other device's next report goes through
    await until(lambda: len(p.ticket_list()) == 2, "the second device's ticket")
    assert p.alarm("ahu-b2").occurrences == 1  # type: ignore[union-attr]


async def test_tickets_owed_are_applied_once_however_many_readers_drain_them(
    on_pg: Plant,
) -> None:
    p = on_pg
    await p.jobs.stop()  # drained here by four readers at once instead
    now = datetime.now(UTC)
    for i in range(20):
        p.alarms.raise_alarm(
            rule="plant-faults",
            originator=f"ahu-b{1 + i % 2}",
            type="equipment_fault",
            severity="major",
            message=f"故障 {i}",
            ticket=True,
            now=now,
        )
    applied = await asyncio.gather(*(asyncio.to_thread(p.tickets.take_alarms) for _ in range(4)))
    assert sum(applied) == 20
    by_asset = {t.asset_id: t.occurrences for t in p.ticket_list()}
    assert by_asset == {"ahu-b1": 10, "ahu-b2": 10}
    assert p.tickets.pending_alarms() == {"pending": 0, "set_aside": 0}
