"""The embedded telemetry backend: one SQLite file in WAL mode.

Timestamps are integer microseconds since the Unix epoch (UTC). A point's samples are keyed by
(point_id, ts), so writing the same sample twice keeps one, as InfluxDB does for a series and
timestamp. All writes go through one thread and one connection; reads use their own.
"""

from __future__ import annotations

import asyncio
import calendar
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.domain import DeviceStatus, Event, PositionFix, Quality, Reading, Sighting, SubjectKind
from hub.telemetry.aggregate import AggFn, AggRow, check_args, sql_aggregate
from hub.telemetry.port import Latest, Sample, TelemetryError
from hub.telemetry.schema import Tags

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    point_id TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, quality TEXT NOT NULL,
    PRIMARY KEY (point_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    point_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, value REAL NOT NULL, quality TEXT NOT NULL,
    unit TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_status (
    device_id TEXT NOT NULL, ts INTEGER NOT NULL, online INTEGER NOT NULL,
    fault INTEGER NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (device_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS positions (
    subject_id TEXT NOT NULL, ts INTEGER NOT NULL, subject_kind TEXT NOT NULL,
    lat REAL, lon REAL, x REAL, y REAL, floor TEXT, accuracy REAL, speed REAL, heading REAL,
    zone_id TEXT, source TEXT NOT NULL, PRIMARY KEY (subject_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
    point_id TEXT PRIMARY KEY, device TEXT, building TEXT, floor TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sightings (
    badge_id TEXT NOT NULL, ts INTEGER NOT NULL, checkpoint_id TEXT NOT NULL,
    rssi REAL, distance REAL, source TEXT NOT NULL,
    PRIMARY KEY (badge_id, ts, checkpoint_id)) WITHOUT ROWID;
"""

_UPSERT_LATEST = """
INSERT INTO latest (point_id, ts, value, quality, unit) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (point_id) DO UPDATE SET
    ts = excluded.ts, value = excluded.value, quality = excluded.quality, unit = excluded.unit
WHERE excluded.ts >= latest.ts
"""


def to_us(ts: datetime) -> int:
    """Microseconds since the epoch."""
    return calendar.timegm(ts.utctimetuple()) * 1_000_000 + ts.microsecond


def from_us(us: int) -> datetime:
    """The UTC datetime of microseconds since the epoch."""
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class SQLiteTelemetryStore:
    """Telemetry in a local SQLite file: the default, needing no server."""

    name = "sqlite"

    def __init__(self, path: str | Path, tags: Tags | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="telemetry-write")
        self._reader = ThreadPoolExecutor(2, thread_name_prefix="telemetry-read")
        self._wconn = _connect(self.path)
        self._wconn.executescript(SCHEMA)
        self.tags = tags or Tags("", {}, {})
        self._known_series: set[str] = set()
        if tags is not None:
            self._register(list(tags.points))
        self._local = threading.local()
        self.written = 0
        self.batches = 0
        self.last_batch_seconds = 0.0
        self.last_error: str | None = None

    def _register(self, point_ids: list[str]) -> None:
        """Record the tags of series the aggregate queries group by (writer thread only)."""
        rows = []
        for pid in point_ids:
            t = self.tags.point(pid, "")
            rows.append((pid, t.get("device"), t.get("building"), t.get("floor")))
        self._wconn.executemany("INSERT OR REPLACE INTO series VALUES (?, ?, ?, ?)", rows)
        self._known_series.update(point_ids)

    def _rconn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            self._local.conn = conn
        return conn

    async def start(self) -> None:
        """Nothing runs in the background."""

    # -- writes ---------------------------------------------------------------------------

    async def write(self, events: Sequence[Event]) -> int:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._writer, self._write_sync, list(events))
        except sqlite3.Error as err:
            self.last_error = str(err)
            raise TelemetryError(f"sqlite write failed: {err}") from err

    def _write_sync(self, events: list[Event]) -> int:
        started = time.perf_counter()
        readings, statuses, positions, sightings = [], [], [], []
        for e in events:
            match e:
                case Reading():
                    readings.append(
                        (e.point_id, to_us(e.ts), float(e.value), e.quality.value, e.unit)
                    )
                case DeviceStatus():
                    statuses.append((e.device_id, to_us(e.ts), e.online, e.fault, e.detail))
                case PositionFix():
                    positions.append(
                        (
                            e.subject_id,
                            to_us(e.ts),
                            e.subject_kind.value,
                            e.lat,
                            e.lon,
                            e.x,
                            e.y,
                            e.floor,
                            e.accuracy_m,
                            e.speed_mps,
                            e.heading_deg,
                            e.zone_id,
                            e.source,
                        )
                    )
                case Sighting():
                    sightings.append(
                        (e.badge_id, to_us(e.ts), e.checkpoint_id, e.rssi, e.distance_m, e.source)
                    )
                case _:
                    pass
        new = {r[0] for r in readings} - self._known_series
        if new:
            self._register(sorted(new))
        c = self._wconn
        c.execute("BEGIN")
        try:
            if readings:
                c.executemany(
                    "INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?)",
                    [r[:4] for r in readings],
                )
                c.executemany(_UPSERT_LATEST, readings)
            if statuses:
                c.executemany(
                    "INSERT OR REPLACE INTO device_status VALUES (?, ?, ?, ?, ?)", statuses
                )
            if positions:
                c.executemany(
                    "INSERT OR REPLACE INTO positions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", positions
                )
            if sightings:
                c.executemany(
                    "INSERT OR REPLACE INTO sightings VALUES (?, ?, ?, ?, ?, ?)", sightings
                )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        n = len(readings) + len(statuses) + len(positions) + len(sightings)
        self.written += n
        self.batches += 1
        self.last_batch_seconds = time.perf_counter() - started
        self.last_error = None
        return n

    # -- reads ----------------------------------------------------------------------------

    async def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            return self._rconn().execute(sql, params).fetchall()

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._reader, run)
        except sqlite3.Error as err:
            raise TelemetryError(f"sqlite read failed: {err}") from err

    async def latest(self, point_ids: Sequence[str] | None = None) -> dict[str, Latest]:
        if point_ids is None:
            rows = await self._read("SELECT point_id, ts, value, quality, unit FROM latest", ())
        else:
            ids = list(point_ids)
            rows = []
            for i in range(0, len(ids), 500):  # stay below SQLite's variable limit
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows += await self._read(
                    f"SELECT point_id, ts, value, quality, unit FROM latest "
                    f"WHERE point_id IN ({marks})",
                    chunk,
                )
        return {
            r[0]: Latest(
                point_id=r[0], ts=from_us(r[1]), value=r[2], quality=Quality(r[3]), unit=r[4]
            )
            for r in rows
        }

    async def history(
        self, point_id: str, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[Sample]:
        rows = await self._read(
            "SELECT ts, value, quality FROM readings WHERE point_id = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts LIMIT ?",
            (point_id, to_us(start), to_us(end), limit),
        )
        return [Sample(from_us(r[0]), r[1], Quality(r[2])) for r in rows]

    async def track(
        self, subject_id: str, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[PositionFix]:
        rows = await self._read(
            "SELECT ts, subject_kind, lat, lon, x, y, floor, accuracy, speed, heading, zone_id, "
            "source FROM positions WHERE subject_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?",
            (subject_id, to_us(start), to_us(end), limit),
        )
        return [
            PositionFix(
                subject_id=subject_id,
                ts=from_us(r[0]),
                subject_kind=SubjectKind(r[1]),
                lat=r[2],
                lon=r[3],
                x=r[4],
                y=r[5],
                floor=r[6],
                accuracy_m=r[7],
                speed_mps=r[8],
                heading_deg=r[9],
                zone_id=r[10],
                source=r[11],
            )
            for r in rows
        ]

    async def aggregate(
        self,
        fn: AggFn,
        point_ids: Sequence[str],
        start: datetime,
        end: datetime,
        every: timedelta,
        *,
        group_by: str = "point",
        offset: timedelta = timedelta(0),
    ) -> list[AggRow]:
        check_args(every, group_by, start, end)
        out: list[AggRow] = []
        ids = list(point_ids)
        if not ids:
            return out
        sql, params = sql_aggregate(fn, ids, to_us(start), to_us(end), every, group_by, offset)
        for g, w, v in await self._read(sql, params):
            if v is not None:
                out.append(AggRow(g or "", from_us(int(w)), float(v)))
        return out

    async def prune(self, before: datetime) -> int:
        cutoff = to_us(before)

        def run() -> int:
            n = 0
            for table in ("readings", "device_status", "positions", "sightings"):
                n += self._wconn.execute(f"DELETE FROM {table} WHERE ts < ?", (cutoff,)).rowcount
            return n

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, run)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.last_error is None else "degraded",
            "backend": self.name,
            "path": str(self.path),
            "written": self.written,
            "batches": self.batches,
            "last_batch_ms": round(self.last_batch_seconds * 1000, 2),
            **({"error": self.last_error} if self.last_error else {}),
        }

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self._wconn.close)
        self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)
