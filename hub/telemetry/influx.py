"""The InfluxDB backend: writes through a durable spool, queries with InfluxQL on /query.

Writes: `write()` serialises a batch to line protocol and appends it to the spool (durable
on return); a shipper task posts the oldest batch, deletes it when the server took it, and
otherwise:

- connection errors, timeouts, 5xx, 429: retried with exponential backoff and full jitter
  (honouring Retry-After), oldest first, for as long as it takes;
- 401/403/404 (credentials, missing database/bucket): a configuration problem, retried the
  same way and shown in health, never dropped;
- 400/422 (bad point): InfluxDB 1.x writes the good points of a batch and answers "partial
  write"; otherwise the batch is split in halves until the bad line is alone, and that line
  alone is dropped and counted;
- 413 (body too large): the batch is split in halves.

APIs: "v1" posts to `/write?db=&rp=&precision=u` (InfluxDB 1.x, and 2.x/3.x's compatibility
endpoint); "v2" writes through influxdb-client's WriteApi (`/api/v2/write`, token, org,
bucket). Queries use InfluxQL on `/query` for both (2.x answers it through a DBRP mapping).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import random
import re
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import urllib3

from hub.domain import Event, PositionFix, SubjectKind
from hub.tasks import cancel
from hub.telemetry import counters
from hub.telemetry.aggregate import AggFn, AggRow, influxql_aggregate
from hub.telemetry.counters import us
from hub.telemetry.port import Latest, Sample, TelemetryError
from hub.telemetry.schema import CODE_QUALITY, Measurement, Tags, event_line
from hub.telemetry.spool import Spool, SpooledBatch, SpoolFull, WhenFull, pack
from hub.telemetry.sqlite import from_us, to_us

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InfluxConfig:
    """Where and how to reach InfluxDB."""

    url: str
    api: Literal["v1", "v2"] = "v1"
    database: str = "hub"  # v1 database; for 2.x the DBRP-mapped name used by /query
    retention_policy: str | None = None
    username: str | None = None
    password: str | None = None
    token: str | None = None  # v2 / 3.x
    org: str | None = None
    bucket: str | None = None
    timeout: float = 10.0


class _Refused(Exception):
    def __init__(self, status: int, body: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status, self.body, self.retry_after = status, body, retry_after


class InfluxHttp:
    """Blocking HTTP to one InfluxDB server (called from worker threads)."""

    def __init__(self, config: InfluxConfig) -> None:
        self.config = config
        self._http = urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)
        self._v2: Any = None
        headers = {}
        if config.token:
            headers["Authorization"] = f"Token {config.token}"
        elif config.username:
            headers.update(
                urllib3.make_headers(basic_auth=f"{config.username}:{config.password or ''}")
            )
        self._headers = headers

    def write(self, payload: bytes) -> None:
        """POST one gzip'd batch; raises _Refused or a urllib3 error."""
        if self.config.api == "v2":
            self._write_v2(payload)
            return
        params = {"db": self.config.database, "precision": "u"}
        if self.config.retention_policy:
            params["rp"] = self.config.retention_policy
        r = self._http.request(
            "POST",
            f"{self.config.url}/write?{urlencode(params)}",
            body=payload,
            headers={
                **self._headers,
                "Content-Encoding": "gzip",
                "Content-Type": "text/plain; charset=utf-8",
            },
            timeout=self.config.timeout,
        )
        if r.status >= 300:
            retry = r.headers.get("Retry-After")
            raise _Refused(
                r.status,
                r.data.decode("utf-8", "replace"),
                float(retry) if retry and retry.isdigit() else None,
            )

    def _write_v2(self, payload: bytes) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.domain.write_precision import WritePrecision
        from influxdb_client.rest import ApiException

        if self._v2 is None:
            client = InfluxDBClient(
                url=self.config.url,
                token=self.config.token or "",
                org=self.config.org or "",
                timeout=int(self.config.timeout * 1000),
                enable_gzip=True,
            )
            self._v2 = client.write_api(write_options=SYNCHRONOUS)
        try:
            self._v2.write(
                bucket=self.config.bucket,
                org=self.config.org,
                record=gzip.decompress(payload).decode("utf-8"),
                write_precision=WritePrecision.US,
            )
        except ApiException as err:
            raise _Refused(int(err.status or 0), str(err.body or err.reason)) from err

    def query(self, q: str, timeout: float | None = None) -> list[dict[str, Any]]:
        """Run InfluxQL; the first statement's series."""
        return self.query_all(q, timeout)[0]

    def query_all(self, q: str, timeout: float | None = None) -> list[list[dict[str, Any]]]:
        """Run InfluxQL statements (`;`-separated); each one's series, in order."""
        params = {"db": self.config.database, "q": q, "epoch": "u"}
        if self.config.retention_policy:  # read where the writes go, not the default policy
            params["rp"] = self.config.retention_policy
        r = self._http.request(
            "POST",
            f"{self.config.url}/query",
            body=urlencode(params),
            headers={**self._headers, "Content-Type": "application/x-www-form-urlencoded"},
            timeout=timeout or self.config.timeout,
        )
        if r.status >= 300:
            raise _Refused(r.status, r.data.decode("utf-8", "replace"))
        out: list[list[dict[str, Any]]] = []
        for result in json.loads(r.data)["results"]:
            if "error" in result:
                raise TelemetryError(f"InfluxQL error: {result['error']}")
            out.append(result.get("series", []))
        return out


def q_str(value: str) -> str:
    """An InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def q_time(ts: datetime) -> str:
    """An InfluxQL time literal (integer microseconds)."""
    return f"{to_us(ts)}u"


REPORT_TIMEOUT_S = 300.0  # a year's report reads a lot
WINDOW_QUERIES = 2  # counter windows are asked for in this many queries at once


def point_filter(point_ids: Sequence[str]) -> str:
    """`"point" = 'a' OR "point" = 'b'`."""
    return " OR ".join(f'"point" = {q_str(p)}' for p in point_ids)


_PARTIAL = re.compile(r"partial write.*dropped=(\d+)", re.S)


class InfluxTelemetryStore:
    """Telemetry in InfluxDB, with nothing lost while the server is away."""

    name = "influxdb"

    def __init__(
        self,
        config: InfluxConfig,
        tags: Tags,
        spool_path: str | Path,
        *,
        spool_max_bytes: int = 1 << 30,
        when_full: WhenFull = "block",
        alarm_at: float = 0.8,
        backoff_base: float = 0.5,
        backoff_cap: float = 60.0,
    ) -> None:
        self.config = config
        self.tags = tags
        self.http = InfluxHttp(config)
        self.spool = Spool(spool_path, max_bytes=spool_max_bytes, when_full=when_full)
        self.alarm_at = alarm_at
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self._spooler = ThreadPoolExecutor(1, thread_name_prefix="influx-spool")
        self._sender = ThreadPoolExecutor(1, thread_name_prefix="influx-send")
        self._reader = ThreadPoolExecutor(3, thread_name_prefix="influx-query")
        self._wake = asyncio.Event()
        self._shipper: asyncio.Task[None] | None = None
        # figures for health and metrics
        self.written = 0
        self.bad_points = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_batch_seconds = 0.0
        self._recent: deque[tuple[float, int]] = deque(maxlen=600)
        self._alarmed = False

    # -- writes ---------------------------------------------------------------------------

    async def write(self, events: Sequence[Event]) -> int:
        """Serialise and spool a batch; returns once it is on disk."""
        lines = []
        for e in events:
            ln = event_line(e, self.tags, to_us(e.ts))
            if ln is not None:
                lines.append(ln)
        if not lines:
            return 0
        payload = pack(lines)
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(self._spooler, self.spool.append, payload, len(lines))
                break
            except SpoolFull:
                self.last_error = "spool full: waiting for InfluxDB to take the backlog"
                await asyncio.sleep(1.0)
        self._check_usage()
        self._ensure_shipper()
        self._wake.set()
        return len(lines)

    def _ensure_shipper(self) -> None:
        if self._shipper is None or self._shipper.done():
            self._shipper = asyncio.create_task(self._ship_forever(), name="influx-shipper")

    async def start(self) -> None:
        """Begin shipping what an earlier run left in the spool."""
        self._ensure_shipper()
        self._wake.set()

    def _check_usage(self) -> None:
        usage = self.spool.usage()
        if usage >= self.alarm_at and not self._alarmed:
            self._alarmed = True
            log.warning(
                "telemetry spool at %.0f%% of its limit: InfluxDB is not keeping up", usage * 100
            )
        elif usage < self.alarm_at * 0.9:
            self._alarmed = False

    async def _ship_forever(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            batch = await loop.run_in_executor(self._spooler, self.spool.oldest)
            if batch is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=5.0)
                continue
            started = time.perf_counter()
            try:
                await loop.run_in_executor(self._sender, self.http.write, batch.payload)
            except _Refused as err:
                if err.status in (400, 422):
                    await self._bad_data(batch, err)
                    attempt = 0
                    continue
                if err.status == 413 and batch.points > 1:
                    await self._split(batch)
                    continue
                attempt += 1
                await self._backoff(attempt, str(err), err.retry_after)
                continue
            except (urllib3.exceptions.HTTPError, OSError) as err:
                attempt += 1
                await self._backoff(attempt, f"{type(err).__name__}: {err}", None)
                continue
            self.last_batch_seconds = time.perf_counter() - started
            await loop.run_in_executor(self._spooler, self.spool.delete, batch)
            self.written += batch.points
            self._recent.append((time.monotonic(), batch.points))
            self.last_error = None
            attempt = 0
            self._check_usage()

    async def _backoff(self, attempt: int, error: str, retry_after: float | None) -> None:
        self.failures += 1
        if self.last_error != error:
            log.warning(
                "InfluxDB write failed (%s); %d points wait in the spool", error, self.spool.points
            )
        self.last_error = error
        delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** min(attempt, 16)))  # noqa: S311
        if retry_after is not None:
            delay = max(delay, retry_after)
        await asyncio.sleep(delay)

    async def _split(self, batch: SpooledBatch) -> None:
        lines = batch.lines()
        mid = len(lines) // 2
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._spooler, self.spool.replace, batch, [lines[:mid], lines[mid:]]
        )

    async def _bad_data(self, batch: SpooledBatch, err: _Refused) -> None:
        loop = asyncio.get_running_loop()
        partial = _PARTIAL.search(err.body)
        if partial is not None:
            # 1.x wrote the good points. It counts type conflicts in dropped=N, but not lines
            # it could not parse ("unable to parse '...'", one per line), so add those.
            dropped = int(partial.group(1)) + err.body.count("unable to parse")
            self.bad_points += dropped
            self.written += batch.points - dropped
            log.error("InfluxDB dropped %d bad point(s): %s", dropped, err.body[:300])
            await loop.run_in_executor(self._spooler, self.spool.delete, batch)
            return
        if batch.points > 1:
            await self._split(batch)
            return
        self.bad_points += 1
        log.error(
            "InfluxDB refused a point, dropped: %s — %s", batch.lines()[0][:300], err.body[:300]
        )
        await loop.run_in_executor(self._spooler, self.spool.delete, batch)

    async def flush(self, timeout: float = 30.0) -> bool:
        """Wait until the spool is empty (True) or the timeout passes (False)."""
        self._ensure_shipper()
        self._wake.set()
        deadline = time.monotonic() + timeout
        while self.spool.batches:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # -- queries --------------------------------------------------------------------------

    async def _query(self, q: str) -> list[dict[str, Any]]:
        return (await self._query_all(q))[0]

    async def _query_all(self, q: str, timeout: float | None = None) -> list[list[dict[str, Any]]]:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._reader, self.http.query_all, q, timeout)
        except _Refused as err:
            raise TelemetryError(f"InfluxDB refused the query: {err}") from err
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise TelemetryError(f"InfluxDB unreachable: {err}") from err

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
        # a few queries at once: influxd works on each with a core of its own
        parts = [ids[i::WINDOW_QUERIES] for i in range(min(WINDOW_QUERIES, len(ids)))]
        queries = [
            counters.influxql_windows(point_filter(p), lo, hi, step, off, bad=False) for p in parts
        ]
        queries.append(counters.influxql_windows(point_filter(ids), lo, hi, step, off, bad=True))
        *parts_out, bad_out = await asyncio.gather(
            *(self._query_all(q, REPORT_TIMEOUT_S) for q in queries)
        )
        unclean = {
            (series.get("tags", {}).get("point", ""), ts)
            for series in bad_out[0]
            for ts, n in series["values"]
            if n
        }
        out = []
        for result in parts_out:
            for series in result[0]:
                point = series.get("tags", {}).get("point", "")
                for ts, n, last, low, high in series["values"]:
                    if n:  # windows come back one microsecond late
                        out.append(
                            counters.CounterWindow(
                                point,
                                from_us(ts - 1),
                                int(n),
                                float(last),
                                float(low),
                                float(high),
                                clean=(point, ts) not in unclean,
                            )
                        )
        return out

    async def latest(self, point_ids: Sequence[str] | None = None) -> dict[str, Latest]:
        out: dict[str, Latest] = {}
        chunks: list[Sequence[str] | None] = (
            [None]
            if point_ids is None
            else [list(point_ids)[i : i + 200] for i in range(0, len(point_ids), 200)]
        )
        for chunk in chunks:
            if chunk is not None and not chunk:
                continue
            where = f"WHERE {point_filter(chunk)} " if chunk else ""
            series = await self._query(
                f'SELECT LAST("value") AS "value", "q" FROM "{Measurement.READING}" {where}'
                'GROUP BY "point", "unit"'
            )
            for s in series:
                pid, unit = s["tags"]["point"], s["tags"].get("unit", "")
                ts, value, q = s["values"][0]
                if pid not in out or out[pid].ts < from_us(ts):
                    out[pid] = Latest(
                        pid,
                        from_us(ts),
                        float(value),
                        unit,
                        CODE_QUALITY.get(int(q or 0), CODE_QUALITY[0]),
                    )
        return out

    async def history(
        self, point_id: str, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[Sample]:
        series = await self._query(
            f'SELECT "value", "q" FROM "{Measurement.READING}" WHERE "point" = {q_str(point_id)} '
            f"AND time >= {q_time(start)} AND time < {q_time(end)} ORDER BY time LIMIT {int(limit)}"
        )
        rows = sorted((tuple(v) for s in series for v in s["values"]), key=lambda v: v[0])
        return [
            Sample(from_us(ts), float(v), CODE_QUALITY.get(int(q or 0), CODE_QUALITY[0]))
            for ts, v, q in rows[:limit]
        ]

    async def track(
        self, subject_id: str, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[PositionFix]:
        series = await self._query(
            'SELECT "lat", "lon", "x", "y", "floor", "accuracy", "speed", "heading", "zone", '
            f'"source", "subject_kind" FROM "{Measurement.POSITION}" '
            f'WHERE "subject" = {q_str(subject_id)} AND time >= {q_time(start)} '
            f"AND time < {q_time(end)} ORDER BY time LIMIT {int(limit)}"
        )
        out = []
        for s in series:
            for ts, lat, lon, x, y, floor, acc, speed, heading, zone, source, kind in s["values"]:
                out.append(
                    PositionFix(
                        subject_id=subject_id,
                        subject_kind=SubjectKind(kind),
                        ts=from_us(ts),
                        source=source or "",
                        lat=lat,
                        lon=lon,
                        x=x,
                        y=y,
                        floor=floor,
                        accuracy_m=acc,
                        speed_mps=speed,
                        heading_deg=heading,
                        zone_id=zone,
                    )
                )
        return sorted(out, key=lambda f: f.ts)[:limit]

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
        q = influxql_aggregate(fn, point_filter(point_ids), start, end, every, group_by, offset)
        out = []
        for s in await self._query(q):
            group = s.get("tags", {}).get(group_by, "")
            for ts, value in s["values"]:
                if value is not None:
                    out.append(AggRow(group, from_us(ts), float(value)))
        return sorted(out, key=lambda r: (r.group, r.start))

    async def prune(self, before: datetime) -> int:
        """InfluxDB enforces retention itself (retention policy / bucket retention)."""
        return 0

    # -- observation ----------------------------------------------------------------------

    def rate(self, window: float = 60.0) -> float:
        """Points written per second over the last `window` seconds."""
        now = time.monotonic()
        n = sum(p for t, p in self._recent if now - t <= window)
        return n / window

    def health(self) -> dict[str, Any]:
        usage = self.spool.usage()
        status = "ok"
        if self.last_error or usage >= self.alarm_at:
            status = "degraded"
        return {
            "status": status,
            "backend": self.name,
            "url": self.config.url,
            "api": self.config.api,
            "written": self.written,
            "write_rate": round(self.rate(), 1),
            "last_batch_ms": round(self.last_batch_seconds * 1000, 2),
            "spool_batches": self.spool.batches,
            "spool_points": self.spool.points,
            "spool_bytes": self.spool.bytes,
            "spool_usage": round(usage, 4),
            "spool_age_s": round(self.spool.oldest_age(), 1),
            "spool_policy": self.spool.when_full,
            "dropped_bad_points": self.bad_points,
            "dropped_spool_full": self.spool.dropped_points,
            "write_failures": self.failures,
            **({"error": self.last_error} if self.last_error else {}),
        }

    async def close(self) -> None:
        """Stop shipping (the spool keeps what wasn't shipped) and release threads."""
        if self._shipper is not None:
            await cancel([self._shipper])
        for pool in (self._sender, self._reader):
            pool.shutdown(wait=True)
        self._spooler.submit(self.spool.close).result()
        self._spooler.shutdown(wait=True)
