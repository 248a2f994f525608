"""The embedded telemetry backend: one SQLite file in WAL mode.

Timestamps are integer microseconds since the Unix epoch (UTC). Each point is a series with a
small integer id (`series.sid`), and its samples are keyed by (sid, ts): compact keys, and
writing the same sample twice keeps one, as InfluxDB does for a series and timestamp. All
writes go through one thread and one connection; reads use their own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.domain import DeviceStatus, Event, PositionFix, Reading, Sighting, SubjectKind
from hub.telemetry import counters
from hub.telemetry.aggregate import AggFn, AggRow, check_args, sql_aggregate
from hub.telemetry.counters import us
from hub.telemetry.port import Latest, Sample, TelemetryError
from hub.telemetry.schema import CODE_QUALITY, QUALITY_CODE, Tags

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    sid INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, quality INTEGER NOT NULL,
    PRIMARY KEY (sid, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_status (
    device_id TEXT NOT NULL, ts INTEGER NOT NULL, online INTEGER NOT NULL,
    fault INTEGER NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (device_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS positions (
    subject_id TEXT NOT NULL, ts INTEGER NOT NULL, subject_kind TEXT NOT NULL,
    lat REAL, lon REAL, x REAL, y REAL, floor TEXT, accuracy REAL, speed REAL, heading REAL,
    zone_id TEXT, source TEXT NOT NULL, PRIMARY KEY (subject_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
    sid INTEGER PRIMARY KEY, point_id TEXT NOT NULL UNIQUE,
    device TEXT, building TEXT, floor TEXT, unit TEXT);
CREATE TABLE IF NOT EXISTS sightings (
    badge_id TEXT NOT NULL, ts INTEGER NOT NULL, checkpoint_id TEXT NOT NULL,
    rssi REAL, distance REAL, source TEXT NOT NULL,
    PRIMARY KEY (badge_id, ts, checkpoint_id)) WITHOUT ROWID;
"""

# A point's latest value is derived, not stored: the newest row of its series, one seek on
# the (sid, ts) primary key. No second table to keep in step on every write.
_LATEST = """
SELECT s.point_id, r.ts, r.value, r.quality, COALESCE(s.unit, '') FROM series s
JOIN readings r ON r.sid = s.sid AND r.ts = (SELECT MAX(ts) FROM readings WHERE sid = s.sid)
"""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(ts: datetime) -> int:
    """Microseconds since the epoch (exact: integer arithmetic on the timedelta)."""
    return (ts - _EPOCH) // _US


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
        columns = {r[1] for r in self._wconn.execute("PRAGMA table_info(series)")}
        if "unit" not in columns:  # a file from before units lived on the series
            self._wconn.execute("ALTER TABLE series ADD COLUMN unit TEXT")
        self.tags = tags or Tags("", {}, {})
        self._sids: dict[str, int] = {}
        self._load_sids()
        if tags is not None:
            self._register([p for p in tags.points if p not in self._sids])
        self._local = threading.local()
        self.written = 0
        self.batches = 0
        self.last_batch_seconds = 0.0
        self.last_error: str | None = None

    def _register(self, point_ids: list[str]) -> None:
        """Give new points a series id, with the tags aggregates group by (writer thread)."""
        for pid in point_ids:
            t = self.tags.point(pid, "")
            self._wconn.execute(
                "INSERT INTO series (point_id, device, building, floor) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (point_id) DO UPDATE SET device = excluded.device, "
                "building = excluded.building, floor = excluded.floor",
                (pid, t.get("device"), t.get("building"), t.get("floor")),
            )
        self._load_sids()

    def _load_sids(self) -> None:
        rows = self._wconn.execute("SELECT point_id, sid, unit FROM series").fetchall()
        self._sids = {pid: sid for pid, sid, _ in rows}
        self._units = {sid: unit for _, sid, unit in rows}

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
        rows: list[tuple[int, int, float, int]] = []
        units: dict[int, str] = {}  # series whose unit is new or changed
        statuses, positions, sightings = [], [], []
        codes, sids, add, epoch, us = QUALITY_CODE, self._sids, rows.append, _EPOCH, _US
        for e in events:
            if type(e) is Reading:  # one pass: the hot path
                pid = e.point_id
                ts = (e.ts - epoch) // us
                value = e.value if type(e.value) is float else float(e.value)
                q = codes[e.quality]
                sid = sids.get(pid)
                if sid is None:
                    self._register([pid])
                    sids = self._sids
                    sid = sids[pid]
                add((sid, ts, value, q))
                if self._units.get(sid) != e.unit:
                    units[sid] = e.unit
                continue
            match e:
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
        c = self._wconn
        c.execute("BEGIN")
        try:
            if rows:
                c.executemany("INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?)", rows)
                if units:
                    c.executemany(
                        "UPDATE series SET unit = ? WHERE sid = ?",
                        [(u, sid) for sid, u in units.items()],
                    )
                    self._units.update(units)
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
        readings = rows
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
            rows = await self._read(_LATEST, ())
        else:
            ids = list(point_ids)
            rows = []
            for i in range(0, len(ids), 500):  # stay below SQLite's variable limit
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows += await self._read(f"{_LATEST} WHERE s.point_id IN ({marks})", chunk)
        return {
            r[0]: Latest(
                point_id=r[0], ts=from_us(r[1]), value=r[2], quality=CODE_QUALITY[r[3]], unit=r[4]
            )
            for r in rows
        }

    async def history(
        self, point_id: str, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[Sample]:
        rows = await self._read(
            "SELECT r.ts, r.value, r.quality FROM readings r JOIN series s ON s.sid = r.sid "
            "WHERE s.point_id = ? AND r.ts >= ? AND r.ts < ? ORDER BY r.ts LIMIT ?",
            (point_id, to_us(start), to_us(end), limit),
        )
        return [Sample(from_us(r[0]), r[1], CODE_QUALITY[r[2]]) for r in rows]

    async def histories(
        self, ranges: Sequence[tuple[str, datetime, datetime]], *, limit: int = 10_000
    ) -> list[list[Sample]]:
        # each a short range scan of the (sid, ts) key, over the reader threads
        return list(await asyncio.gather(*(self.history(*r, limit=limit) for r in ranges)))

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

    async def counter_windows(
        self,
        point_ids: Sequence[str],
        start: datetime,
        end: datetime,
        every: timedelta,
        offset: timedelta = timedelta(0),
    ) -> list[counters.CounterWindow]:
        ids = list(point_ids)
        if not ids:
            return []
        lo, hi, step, off = to_us(start), to_us(end), us(every), us(offset)
        parts = [ids[i::2] for i in range(min(2, len(ids)))]  # both reader threads at once
        results = await asyncio.gather(
            *(self._read(*counters.sql_windows(part, lo, hi, step, off)) for part in parts)
        )
        return [
            counters.CounterWindow(p, from_us(int(w)), int(n), float(last), float(low), float(high))
            for rows in results
            for p, w, n, last, low, high in rows
        ]

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
