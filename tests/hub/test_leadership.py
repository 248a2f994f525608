"""Two hub processes' worth of hubs on one PostgreSQL database: exactly one leads (runs the
jobs only one may run: reminders, SLA sweeps, booking and gate sweeps, scheduled reports,
retention), the other stands by; when the leader stops the other takes over by itself. With
SQLite the one hub leads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database, upgrade


def health(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/api/health").json()
    return body


def leads(client: TestClient) -> bool:
    return bool(health(client)["components"]["leadership"]["leader"])


def wait_until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"lead_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    db = Database.from_url(url)
    upgrade(db.engine)
    db.close()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
            assert "standby" not in health(a)["components"]["gate_jobs"]
            a.__exit__(None, None, None)  # the leader stops (its lock's connection closes)
            wait_until(lambda: leads(b))
            assert "standby" not in health(b)["components"]["energy_reports"]
            assert health(b)["components"]["leadership"]["changes"] == 1


def test_a_hub_on_sqlite_leads(tmp_path: Path, demo_site: Site) -> None:
    hub = Hub(Settings(data_dir=tmp_path, secret_key="k" * 48), demo_site, factories=())
    with TestClient(hub.app()) as client:
        assert leads(client)
        assert "standby" not in health(client)["components"]["alarm_reminders"]
