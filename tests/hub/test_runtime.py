"""The composition root: what a starting hub does by itself."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from hub.domain import Reading
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from hub.telemetry import SQLiteTelemetryStore


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
            retention = client.get("/api/health").json()["components"]["retention"]
            if retention["last_run"] is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert retention["last_deleted"] == 1
        assert retention["retention_days"] == 30
        kept = client.portal.call(  # type: ignore[attr-defined]
            hub.ctx.telemetry.history, "meter-b1.total_energy", now - timedelta(days=365), now
        )
        assert [s.value for s in kept] == [2.0]
