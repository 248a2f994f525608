"""Telemetry write throughput: the hub's sink beside a bare baseline, in the same run.

InfluxDB: N readings handed to the hub's telemetry sink in the batches the pipeline delivers
(5,000 envelopes), serialised, spooled durably and shipped into a real influxd, timed until
InfluxDB has them all; beside the same points serialised with f-strings and POSTed in
batches of 5,000 to /write. SQLite: the same batches through the sink into the embedded
store; beside a bare `executemany` of the same rows into the same table layout.
Goal: >= 0.8 of each baseline.

Also reported (not the headline): the same writes end to end, published into the pipeline
in batches of 500 (validation, fan-out, then the sink), i.e. what the pipeline adds.

    python bench/telemetry.py [--quick]
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import urllib3
from _common import parse, result

from hub.domain import Reading
from hub.pipeline import Envelope, Pipeline
from hub.telemetry import SQLiteTelemetryStore, TelemetrySink
from hub.telemetry.influx import InfluxConfig, InfluxTelemetryStore
from hub.telemetry.schema import series_meta
from hub.telemetry.sqlite import to_us
from tests.support.servers import InfluxServer, influx_server

BATCH = 5000
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def make_readings(n: int, points: int = 200) -> list[Reading]:
    """n readings spread over `points` meters, one per point per second."""
    return [
        Reading(
            f"meter-{i % points:03d}.power",
            1000.0 + (i % 977) * 0.5,
            "W",
            T0 + timedelta(seconds=i // points),
        )
        for i in range(n)
    ]


def tags(points: int = 200):  # type: ignore[no-untyped-def]
    return series_meta(
        "bench",
        [(f"meter-{p:03d}", f"b{p % 5}", None, [f"meter-{p:03d}.power"]) for p in range(points)],
    )


def envelope_batches(readings: list[Reading]) -> list[list[Envelope]]:
    """The batches of envelopes the pipeline hands the sink (made before timing starts)."""
    now = time.monotonic()
    return [
        [Envelope("bench", r, now) for r in readings[i : i + BATCH]]
        for i in range(0, len(readings), BATCH)
    ]


async def feed(
    store,
    readings: list[Reading],
    via_pipeline: bool,  # type: ignore[no-untyped-def]
    batches: list[list[Envelope]] | None = None,
) -> None:
    """Into the sink as the pipeline delivers it, or through the whole pipeline."""
    sink = TelemetrySink(store)
    if not via_pipeline:
        for batch in batches or envelope_batches(readings):
            await sink(batch)
        return
    pipeline = Pipeline(maxsize=20_000)
    pipeline.subscribe("telemetry", sink, max_batch=BATCH, maxsize=20_000)
    await pipeline.start()
    for i in range(0, len(readings), 500):  # as a poll cycle or an ingest request delivers
        await pipeline.publish_many("bench", readings[i : i + 500])
    await pipeline.stop(timeout=600)


async def hub_influx(
    server: InfluxServer, readings: list[Reading], spool: Path, via_pipeline: bool = False
) -> float:
    db = f"hub_{uuid.uuid4().hex[:8]}"
    server.query(f'CREATE DATABASE "{db}"')
    store = InfluxTelemetryStore(InfluxConfig(url=server.url, database=db), tags(), spool)
    await store.start()
    batches = None if via_pipeline else envelope_batches(readings)
    started = time.perf_counter()
    await feed(store, readings, via_pipeline, batches)
    assert await store.flush(600)
    elapsed = time.perf_counter() - started
    await store.close()
    assert server.count("reading", database=db) == len(readings)
    return len(readings) / elapsed


def raw_influx(server: InfluxServer, readings: list[Reading]) -> float:
    db = f"raw_{uuid.uuid4().hex[:8]}"
    server.query(f'CREATE DATABASE "{db}"')
    http = urllib3.PoolManager()
    started = time.perf_counter()
    for i in range(0, len(readings), BATCH):
        body = "\n".join(
            f"reading,building=b{int(r.point_id[6:9]) % 5},device={r.point_id[:9]},"
            f"point={r.point_id},site=bench,unit=W q=0i,value={r.value} {to_us(r.ts)}"
            for r in readings[i : i + BATCH]
        )
        resp = http.request("POST", f"{server.url}/write?db={db}&precision=u", body=body.encode())
        assert resp.status == 204, resp.data
    elapsed = time.perf_counter() - started
    assert server.count("reading", database=db) == len(readings)
    return len(readings) / elapsed


async def hub_sqlite(readings: list[Reading], folder: Path, via_pipeline: bool = False) -> float:
    store = SQLiteTelemetryStore(folder / f"hub-{uuid.uuid4().hex[:6]}.db", tags())
    batches = None if via_pipeline else envelope_batches(readings)
    started = time.perf_counter()
    await feed(store, readings, via_pipeline, batches)
    elapsed = time.perf_counter() - started
    await store.close()
    return len(readings) / elapsed


def raw_sqlite(readings: list[Reading], folder: Path) -> float:
    conn = sqlite3.connect(folder / f"raw-{uuid.uuid4().hex[:6]}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # The same table layout as the hub's store: samples keyed by (integer series id, time).
    conn.execute(
        "CREATE TABLE readings (sid INTEGER NOT NULL, ts INTEGER NOT NULL, "
        "value REAL NOT NULL, quality INTEGER NOT NULL, PRIMARY KEY (sid, ts)) "
        "WITHOUT ROWID"
    )
    sids: dict[str, int] = {}
    started = time.perf_counter()
    for i in range(0, len(readings), BATCH):
        rows = [
            (sids.setdefault(r.point_id, len(sids)), to_us(r.ts), r.value, 0)
            for r in readings[i : i + BATCH]
        ]
        conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(readings) / elapsed


def main() -> None:
    args = parse(__doc__ or "")
    n = 50_000 if args.quick else 200_000
    readings = make_readings(n)
    with tempfile.TemporaryDirectory() as tmp, influx_server() as server:
        folder = Path(tmp)
        # Warm up both paths once (shard creation, imports), then measure.
        raw_influx(server, readings[:5000])
        raw_i = raw_influx(server, readings)
        hub_i = asyncio.run(hub_influx(server, readings, folder / "spool.db"))
        e2e_i = asyncio.run(hub_influx(server, readings, folder / "spool2.db", True))
        raw_s = raw_sqlite(readings, folder)
        hub_s = asyncio.run(hub_sqlite(readings, folder))
        e2e_s = asyncio.run(hub_sqlite(readings, folder, True))
    print(f"points: {n}")
    print(f"influxdb  hub sink (serialise+spool+ship):   {hub_i:10.0f} points/s")
    print(f"influxdb  raw batched /write POSTs:          {raw_i:10.0f} points/s")
    print(f"influxdb  end to end with the pipeline:      {e2e_i:10.0f} points/s")
    print(f"sqlite    hub sink (store):                  {hub_s:10.0f} points/s")
    print(f"sqlite    bare executemany:                  {raw_s:10.0f} points/s")
    print(f"sqlite    end to end with the pipeline:      {e2e_s:10.0f} points/s")
    result(
        "telemetry",
        hub_i,
        "points/s",
        raw_i,
        0.8,
        sqlite={
            "figure": round(hub_s),
            "baseline": round(raw_s),
            "ratio": round(hub_s / raw_s, 3),
            "goal": 0.8,
        },
        with_pipeline={"influxdb": round(e2e_i), "sqlite": round(e2e_s)},
    )


if __name__ == "__main__":
    main()
