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
import logging
import random
import re
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import urllib3

from hub.domain import Event
from hub.tasks import cancel
from hub.telemetry.influx_http import (
    InfluxConfig,
    InfluxHttp,
    _Refused,
)
from hub.telemetry.influx_reads import InfluxReads
from hub.telemetry.schema import Tags, event_line
from hub.telemetry.spool import Spool, SpooledBatch, SpoolFull, WhenFull, pack
from hub.telemetry.sqlite import to_us

__all__ = ["InfluxConfig", "InfluxTelemetryStore"]

log = logging.getLogger(__name__)


_PARTIAL = re.compile(r"partial write.*dropped=(\d+)", re.S)


class InfluxTelemetryStore(InfluxReads):
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
