"""The database going away (a PostgreSQL restart): requests get a clear 503 and change
nothing, the hub keeps running and reports the database down, and it serves again by itself
once the database is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.health import full_health
from tests.support.servers import PostgresServer

PASSWORD = "outage test password"


@pytest.fixture
def pg() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.remove()


def test_a_database_restart_gives_503s_then_the_hub_serves_again(
    pg: PostgresServer, tmp_path: Path, demo_site: Site
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        database_url=pg.url,
        leader_check_s=0.2,
    )
    hub = Hub(settings, demo_site.model_copy(update={"devices": []}), factories=())
    with TestClient(hub.app()) as client:
        hub.ctx.identity.ensure_user("staff", PASSWORD, [Role.STAFF], work_unit="u-office")
        token = client.post(
            "/api/auth/token", data={"username": "staff", "password": PASSWORD}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        day = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=2)
        start = datetime.combine(day, datetime.min.time(), ZoneInfo("Asia/Shanghai")).replace(
            hour=9
        )

        def book(hour: int) -> int:
            body = {
                "room_id": "r-101",
                "start": start.replace(hour=hour).isoformat(),
                "end": start.replace(hour=hour + 1).isoformat(),
                "title": f"{hour} 点的会",
            }
            return client.post("/api/bookings", json=body, headers=auth).status_code

        assert book(9) == 201
        pg.stop()
        r = client.get("/api/bookings", headers=auth)
        assert r.status_code == 503
        assert r.headers["retry-after"] == "5"
        assert "database is unavailable" in r.json()["detail"]
        assert book(10) == 503
        unseen = {"X-API-Key": "dyh_0123456789ab_notlookedupyet"}  # needs the database
        health = client.get("/api/health", headers=unseen)  # no details: nobody can be checked
        assert (health.status_code, health.json()) == (503, {"status": "down"})
        pg.start()
        assert book(11) == 201  # the pool reconnects by itself
        titles = [b["title"] for b in client.get("/api/bookings?mine=true", headers=auth).json()]
        assert titles == ["9 点的会", "11 点的会"]  # the refused one changed nothing
        # the lock that made this hub the leader went with the server; it takes it again
        deadline = time.monotonic() + 20
        while not full_health(client)["components"]["leadership"]["leader"]:
            assert time.monotonic() < deadline, full_health(client)
            time.sleep(0.1)
