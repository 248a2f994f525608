"""Two hub processes' worth of hubs on one PostgreSQL database: exactly one leads (runs the
jobs only one may run: reminders, SLA sweeps, booking and gate sweeps, scheduled reports,
retention), the other stands by; when the leader stops the other takes over by itself. With
SQLite the one hub leads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.domain import AlarmEvent
from hub.identity import Role
from hub.runtime import Hub
from hub.services.alarms import AlarmService
from hub.services.tickets import TicketService
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database
from hub.storage.migrate import current, head
from hub.storage.models import Alarm, Ticket
from tests.conftest import ROOT, fresh_database
from tests.support.health import full_health
from tests.support.waiting import wait_for as wait_until


def health(client: TestClient) -> dict[str, Any]:
    return full_health(client)


def leads(client: TestClient) -> bool:
    return bool(health(client)["components"]["leadership"]["leader"])


def worker(tmp_path: Path, name: str, url: str, site: Site) -> Hub:
    settings = Settings(
        data_dir=tmp_path / name, secret_key="k" * 48, database_url=url, leader_check_s=0.2
    )
    return Hub(settings, site, factories=())


def test_one_of_two_workers_leads_and_the_other_takes_over(
    tmp_path: Path, demo_site: Site, pg_url: str
) -> None:
    first, second = (
        worker(tmp_path, "a", pg_url, demo_site),
        worker(tmp_path, "b", pg_url, demo_site),
    )
    with TestClient(first.app()) as a:
        wait_until(lambda: leads(a))
        with TestClient(second.app()) as b:
            time.sleep(1.0)  # five of the standby's tries
            assert (leads(a), leads(b)) == (True, False)
            standby = health(b)["components"]
            assert standby["leadership"]["status"] == "ok"
            assert standby["gate_jobs"]["standby"] is True  # its singleton jobs wait
            assert standby["rules"]["standby"] is True  # and so do its rules
            assert "standby" not in health(a)["components"]["gate_jobs"]
            assert health(a)["components"]["rules"]["standby"] is False
            a.__exit__(None, None, None)  # the leader stops (its lock's connection closes)
            wait_until(lambda: leads(b))
            assert "standby" not in health(b)["components"]["energy_reports"]
            assert health(b)["components"]["rules"]["standby"] is False
            assert health(b)["components"]["leadership"]["changes"] == 1


def test_a_hub_on_sqlite_leads(tmp_path: Path, demo_site: Site) -> None:
    hub = Hub(Settings(data_dir=tmp_path, secret_key="k" * 48), demo_site, factories=())
    with TestClient(hub.app()) as client:
        assert leads(client)
        assert "standby" not in health(client)["components"]["alarm_reminders"]


def test_two_workers_racing_on_one_fault_raise_one_alarm_and_open_one_ticket(
    tmp_path: Path, demo_site: Site, pg_url: str
) -> None:
    """Should two workers both raise the same fault at once (a gate's repeated refusals are
    raised where they are decided; a leader change), the database's unique indexes keep one
    active alarm and one open ticket, and every occurrence is counted."""
    db = Database.from_url(pg_url)
    workers = [(AlarmService(db), TicketService(db, demo_site, photos=tmp_path)) for _ in range(2)]
    now = datetime.now(UTC)
    fault = AlarmEvent(
        "1", "fault", "ahu-1", "ACTIVE_UNACK", "major", now, "故障", "raised", "f", True
    )
    start = threading.Barrier(8)

    def race(i: int) -> None:
        alarms, tickets = workers[i % 2]
        start.wait()
        alarms.raise_alarm(
            rule="f",
            originator="ahu-1",
            type="fault",
            severity="major",
            message="故障",
            ticket=True,
            now=now,
        )
        tickets.apply_alarm(fault)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session() as s:
        active = s.scalars(select(Alarm).where(Alarm.active)).all()
        opened = s.scalars(select(Ticket).where(Ticket.alarm_key == "ahu-1|fault")).all()
    db.close()
    assert [(a.originator, a.occurrences) for a in active] == [("ahu-1", 8)]
    assert [t.occurrences for t in opened] == [8]


def test_a_rule_re_enabled_through_the_standby_runs_again_on_the_leader(
    tmp_path: Path, demo_site: Site, pg_url: str
) -> None:
    """An admin's request may land on either worker: the standby shows the rules as the
    leader saved them, and a rule it re-enables runs again on the leader."""
    first, second = (
        worker(tmp_path, "a", pg_url, demo_site),
        worker(tmp_path, "b", pg_url, demo_site),
    )
    first.rules.ENABLES_EVERY_S = 0.2  # type: ignore[misc]
    with TestClient(first.app()) as a:
        wait_until(lambda: leads(a))
        with TestClient(second.app()) as b:
            key, _ = second.ctx.identity.create_api_key("ops", Role.ADMIN, actor="test")
            headers = {"X-API-Key": key}
            running = first.rules._rules["meters-silent"]
            running.stored.disabled, running.stored.error = True, "ValueError: test"
            running.dirty = True
            first.rules._save(force=True)  # what a failing rule does

            def shown_by_standby() -> dict[str, Any]:
                r = b.get("/api/rules", headers=headers)
                return next(x for x in r.json() if x["id"] == "meters-silent")  # type: ignore[no-any-return]

            assert shown_by_standby()["disabled"] is True
            assert health(a)["components"]["rules"]["disabled"] == ["meters-silent"]
            r = b.post("/api/rules/meters-silent/enable", headers=headers)
            assert r.status_code == 200, r.text
            assert r.json()["disabled"] is False
            wait_until(lambda: health(a)["components"]["rules"]["disabled"] == [])
            assert shown_by_standby()["disabled"] is False


def test_workers_starting_together_migrate_the_database_once(
    postgres_url: str, tmp_path: Path
) -> None:
    """Workers' first start on an empty database: one migrates, the others wait for it."""
    with fresh_database(postgres_url) as url:
        env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_DATA_DIR": str(tmp_path)}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "hub", "migrate"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(3)
        ]
        outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], outputs
        db = Database.from_url(url)
        assert current(db.engine) == head()
        db.close()
