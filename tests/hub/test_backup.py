"""`hub backup` while the hub runs under load, `hub restore` on a fresh data folder (and a
fresh PostgreSQL database): the restored hub shows the same users, bookings, tickets (with
their photos), alarms and energy history."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import ROOT, fresh_database

PASSWORD = "backup test password"
SECRET = "b" * 48
POINT = "meter-b1.total_energy"


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hub", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def env_for(data: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "HUB_DATA_DIR": str(data), "HUB_SECRET_KEY": SECRET}
    if database_url:
        env["HUB_DATABASE_URL"] = database_url
    return env


def settings_for(data: Path, database_url: str | None) -> Settings:
    return Settings(data_dir=data, secret_key=SECRET, database_url=database_url)


def what_people_see(client: TestClient, hub: Hub, since: datetime) -> dict[str, Any]:
    admin = client.post("/api/auth/token", data={"username": "boss", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    tickets = client.get("/api/tickets", headers=headers).json()
    photos = [client.get(t["photo"], headers=headers).content for t in tickets if t.get("photo")]
    history = client.get(
        f"/api/points/{POINT}/history", params={"start": since.isoformat()}, headers=headers
    ).json()
    return {
        "users": client.get("/api/users", headers=headers).json(),
        "bookings": client.get("/api/bookings", headers=headers).json(),
        "tickets": tickets,
        "photos": photos,
        "alarms": client.get("/api/alarms", headers=headers).json(),
        "history": history,
    }


def fill(client: TestClient, hub: Hub, since: datetime) -> None:
    """Users, a booking, a ticket with a photo, an alarm and a day of meter history."""
    hub.ctx.identity.ensure_user("boss", PASSWORD, [Role.ADMIN, Role.STAFF], work_unit="u-office")
    for i in range(5):
        hub.ctx.identity.ensure_user(f"staff{i}", PASSWORD, [Role.STAFF], work_unit="u-edu")
    token = client.post("/api/auth/token", data={"username": "boss", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=3)
    start = datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    r = client.post(
        "/api/bookings",
        json={
            "room_id": "r-101",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "title": "备份演练",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    png = io.BytesIO()
    Image.new("RGB", (32, 32), "green").save(png, "PNG")
    r = client.post(
        "/api/tickets",
        json={
            "description": "水管漏水",
            "category": "plumbing",
            "location": "2号楼二层",
            "photo": base64.b64encode(png.getvalue()).decode(),
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    hub.ctx.alarms.raise_alarm(
        rule="test",
        originator="ahu-b1",
        type="equipment_fault",
        severity="major",
        message="风机故障",
        ticket=False,
        now=datetime.now(UTC),
    )
    key = hub.ctx.identity.create_api_key("meter-gw", Role.DEVICE, actor="test")[0]
    readings = [
        {
            "point_id": POINT,
            "value": 1000.0 + i,
            "ts": (since + timedelta(minutes=10 * i)).isoformat(),
        }
        for i in range(144)
    ]
    r = client.post("/api/ingest/readings", json=readings, headers={"X-API-Key": key})
    assert r.json()["accepted"] == 144


@pytest.mark.timeout(300)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_backup_of_a_running_hub_restores_elsewhere_as_it_was(
    backend: str, tmp_path: Path, demo_site: Site, request: pytest.FixtureRequest
) -> None:
    site = demo_site.model_copy(update={"rules": []})  # no alarms but the test's own
    since = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)
    with databases(backend, request) as (first_url, second_url):
        first, second = tmp_path / "first", tmp_path / "second"
        hub = Hub(settings_for(first, first_url), site, factories=())
        archive = tmp_path / "hub-backup.tar.gz"
        with TestClient(hub.app()) as client:
            fill(client, hub, since)
            wait_stored(client, hub, since)
            seen = what_people_see(client, hub, since)
            assert len(seen["users"]) >= 6
            assert (len(seen["bookings"]), len(seen["tickets"]), len(seen["photos"])) == (1, 1, 1)
            assert len(seen["alarms"]) == 1
            assert len(seen["history"]) == 144
            # load while the backup runs: sign-ins and readings keep coming
            stop = threading.Event()
            key = hub.ctx.identity.create_api_key("load", Role.DEVICE, actor="test")[0]

            def load() -> None:
                n = 0
                while not stop.is_set():
                    client.post(
                        "/api/ingest/readings",
                        json=[{"point_id": "meter-b2.total_power", "value": float(n)}],
                        headers={"X-API-Key": key},
                    )
                    n += 1

            worker = threading.Thread(target=load)
            worker.start()
            try:
                out = cli(env_for(first, first_url), "backup", "--to", str(archive))
            finally:
                stop.set()
                worker.join(30)
            assert "hub-backup.tar.gz" in out
        assert archive.stat().st_mode & 0o077 == 0  # the archive is private to its owner
        cli(env_for(second, second_url), "restore", str(archive))
        restored = Hub(settings_for(second, second_url), site, factories=())
        with TestClient(restored.app()) as client:
            assert what_people_see(client, restored, since) == seen
        # a restore never overwrites a hub that has data
        refused = subprocess.run(
            [sys.executable, "-m", "hub", "restore", str(archive)],
            cwd=ROOT,
            env=env_for(second, second_url),
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0
        assert "--force" in refused.stderr


def wait_stored(client: TestClient, hub: Hub, since: datetime) -> None:
    import time

    deadline = time.monotonic() + 20
    while True:
        got = client.portal.call(  # type: ignore[attr-defined]
            hub.ctx.telemetry.history, POINT, since - timedelta(minutes=1), datetime.now(UTC)
        )
        if len(got) >= 144:
            return
        assert time.monotonic() < deadline, len(got)
        time.sleep(0.1)


@contextlib.contextmanager
def databases(
    backend: str, request: pytest.FixtureRequest
) -> Iterator[tuple[str | None, str | None]]:
    """Two databases: where the hub runs, and where its backup is restored."""
    if backend == "sqlite":
        yield None, None
        return
    server = request.getfixturevalue("postgres_url")
    with fresh_database(server) as a, fresh_database(server) as b:
        yield a, b


@pytest.mark.timeout(120)
def test_scheduled_backups_keep_the_newest(tmp_path: Path, quiet_site: Site) -> None:
    settings = Settings(
        data_dir=tmp_path / "hub",
        secret_key=SECRET,
        backup={"every_h": 0.0003, "keep": 2, "folder": tmp_path / "backups"},  # ~1 s
    )
    hub = Hub(settings, quiet_site, factories=())
    with TestClient(hub.app()):
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while hub.ctx.components["backups"]()["changed"] < 4:  # type: ignore[operator]
            assert datetime.now(UTC) < deadline
            threading.Event().wait(0.2)
    kept = sorted(p.name for p in (tmp_path / "backups").glob("hub-*.tar.gz"))
    assert len(kept) == 2
    assert not list((tmp_path / "backups").glob("*.partial"))
