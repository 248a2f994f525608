"""The composition root: what a starting hub does by itself."""

from __future__ import annotations

import asyncio
import gc
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from fastapi.testclient import TestClient

from hub.domain import Reading
from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from hub.telemetry import SQLiteTelemetryStore
from tests.support.health import full_health


def test_a_starting_hub_enforces_telemetry_retention(tmp_path: Path, demo_site: Site) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="k" * 48, telemetry_retention_days=30)
    now = datetime.now(UTC)

    async def seed() -> None:
        store = SQLiteTelemetryStore(settings.telemetry_path)
        await store.write(
            [
                Reading("meter-b1.total_energy", 1.0, "kWh", now - timedelta(days=90)),
                Reading("meter-b1.total_energy", 2.0, "kWh", now - timedelta(days=1)),
            ]
        )
        await store.close()

    asyncio.run(seed())
    hub = Hub(settings, demo_site, factories=())
    with TestClient(hub.app()) as client:
        # the job's first pass runs in the background right after start-up
        deadline = time.monotonic() + 10
        while True:
            retention = full_health(client)["components"]["retention"]
            if retention["last_run"] is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert retention["last_deleted"] == 1
        assert retention["retention_days"] == 30
        kept = client.portal.call(  # type: ignore[attr-defined]
            hub.ctx.telemetry.history, "meter-b1.total_energy", now - timedelta(days=365), now
        )
        assert [s.value for s in kept] == [2.0]


def test_the_wall_clock_stepping_back_and_forward_loses_nothing(
    tmp_path: Path, demo_site: Site
) -> None:
    """An NTP step of an hour back, then two hours forward, while a gateway pushes readings
    and a user is signed in: every reading is stored, the user stays signed in, every
    component stays healthy."""
    settings = Settings(data_dir=tmp_path, secret_key="k" * 48, telemetry_retention_days=30)
    hub = Hub(settings, demo_site, factories=())
    with TestClient(hub.app()) as client:
        key = hub.ctx.identity.create_api_key("gw", Role.DEVICE, actor="test")[0]
        hub.ctx.identity.ensure_user("duty", "duty password 123", [Role.SECURITY])
        token = client.post(
            "/api/auth/token", data={"username": "duty", "password": "duty password 123"}
        ).json()["access_token"]

        def push(value: float) -> None:
            r = client.post(
                "/api/ingest/readings",
                json=[{"point_id": "meter-b1.total_power", "value": value}],
                headers={"X-API-Key": key},
            )
            assert r.json() == {"accepted": 1, "rejected": []}

        def fine() -> None:
            me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200, me.text
            health = full_health(client)
            assert health["status"] == "ok", health
            assert all(c["status"] == "ok" for c in health["components"].values()), health

        real = datetime.now(UTC)
        push(1.0)
        with time_machine.travel(real - timedelta(hours=1), tick=True):
            push(2.0)
            time.sleep(1.5)  # a rules tick and a live frame pass in the stepped-back time
            fine()
        with time_machine.travel(real + timedelta(hours=2), tick=True):
            push(3.0)
            time.sleep(1.5)
            fine()
        deadline = time.monotonic() + 10
        while True:
            kept = client.portal.call(  # type: ignore[attr-defined]
                hub.ctx.telemetry.history,
                "meter-b1.total_power",
                real - timedelta(hours=2),
                real + timedelta(hours=3),
            )
            if len(kept) == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert [s.value for s in kept] == [2.0, 1.0, 3.0]  # in time order, as stamped


def test_a_started_hub_keeps_its_setup_out_of_full_garbage_collections(
    tmp_path: Path, demo_site: Site
) -> None:
    """A full collection over everything the hub builds to start (~265,000 objects) stalls the
    event loop for ~140 ms (measured; docs/benchmarks.md): a started hub freezes them, so the
    collector walks only what the running hub makes."""
    hub = Hub(Settings(data_dir=tmp_path, secret_key="k" * 48), demo_site, factories=())
    before = gc.get_freeze_count()
    with TestClient(hub.app()):
        assert gc.get_freeze_count() > before
        tracked = sum(len(gc.get_objects(generation)) for generation in range(3))
        assert tracked < gc.get_freeze_count()  # most long-lived objects are out of view
