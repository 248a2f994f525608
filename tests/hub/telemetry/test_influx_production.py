"""InfluxDB as production runs it (docs/deployment.md), on Debian's influxd 1.6: authentication
on, the hub signing in as its own user, its points in a named retention policy. A hub whose
user does not exist yet keeps everything in its spool, says why in health, and delivers all
of it once the user is created; reads come from the same retention policy."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.domain import Reading
from hub.telemetry.influx import InfluxConfig, InfluxTelemetryStore
from hub.telemetry.schema import series_meta
from tests.support.servers import InfluxServer, influx_server

TAGS = series_meta("demo", [("meter-b1", "b1", None, ["meter-b1.energy"])])


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server(auth=True) as server:
        # the retention the compose file gives the bucket, as a 1.x retention policy
        server.query('CREATE RETENTION POLICY "800d" ON "hub" DURATION 800d REPLICATION 1')
        yield server


def test_anonymous_clients_are_refused(influx: InfluxServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{influx.url}/query?q=SHOW+DATABASES", timeout=5)
    assert refused.value.code == 401


async def test_the_hub_signs_in_keeps_what_it_cannot_write_and_reads_its_policy(
    influx: InfluxServer, tmp_path: Path
) -> None:
    store = InfluxTelemetryStore(
        InfluxConfig(
            url=influx.url,
            database="hub",
            retention_policy="800d",
            username="hub",
            password="hub-secret",
            timeout=5,
        ),
        TAGS,
        tmp_path / "spool.db",
        backoff_base=0.05,
        backoff_cap=0.5,
    )
    await store.start()
    try:
        t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        readings = [
            Reading("meter-b1.energy", 1000.0 + i, "kWh", t0 + timedelta(minutes=i))
            for i in range(120)
        ]
        await store.write(readings)
        deadline = asyncio.get_running_loop().time() + 10
        while not store.health().get("error"):  # the user is not there yet
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        health = store.health()
        assert health["status"] == "degraded"
        assert "401" in str(health["error"]), health["error"]
        assert health["spool_batches"] >= 1  # kept, not lost

        influx.query("CREATE USER hub WITH PASSWORD 'hub-secret'")
        influx.query('GRANT ALL ON "hub" TO hub')
        assert await store.flush(timeout=20)
        series = influx.query('SELECT COUNT("value") FROM "hub"."800d"."reading"')
        assert series[0]["values"][0][1] == 120  # type: ignore[index]
        assert influx.count("reading") == 0  # nothing in the default policy
        hist = await store.history("meter-b1.energy", t0, t0 + timedelta(hours=3))
        assert [s.value for s in hist] == [r.value for r in readings]
        assert store.health()["status"] == "ok"
    finally:
        await store.close()
