"""Reading telemetry back from InfluxDB: latest values, history, tracks, aggregates and the
counter windows of the energy report, each in as few InfluxQL queries as it takes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import urllib3

from hub.domain import PositionFix, SubjectKind
from hub.telemetry import counters
from hub.telemetry.aggregate import AggFn, AggRow, influxql_aggregate
from hub.telemetry.counters import us
from hub.telemetry.influx_http import InfluxHttp, _Refused, point_filter, q_str, q_time
from hub.telemetry.port import Latest, Sample, TelemetryError
from hub.telemetry.schema import CODE_QUALITY, Measurement
from hub.telemetry.sqlite import from_us, to_us

REPORT_TIMEOUT_S = 300.0  # a year's report reads a lot
WINDOW_QUERIES = 2  # counter windows are asked for in this many queries at once


STATEMENTS = 50  # history statements sent in one request


def _history_q(point_id: str, start: datetime, end: datetime, limit: int) -> str:
    return (
        f'SELECT "value", "q" FROM "{Measurement.READING}" WHERE "point" = {q_str(point_id)} '
        f"AND time >= {q_time(start)} AND time < {q_time(end)} ORDER BY time LIMIT {int(limit)}"
    )


def _samples(series: list[dict[str, Any]], limit: int) -> list[Sample]:
    rows = sorted((tuple(v) for s in series for v in s["values"]), key=lambda v: v[0])
    return [
        Sample(from_us(ts), float(v), CODE_QUALITY.get(int(q or 0), CODE_QUALITY[0]))
        for ts, v, q in rows[:limit]
    ]


class InfluxReads:
    """The queries of the InfluxDB store (its `http` client, run on its reader thread)."""

    http: InfluxHttp
    _reader: ThreadPoolExecutor

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
        return _samples(await self._query(_history_q(point_id, start, end, limit)), limit)

    async def histories(
        self, ranges: Sequence[tuple[str, datetime, datetime]], *, limit: int = 10_000
    ) -> list[list[Sample]]:
        # many statements to a request (one HTTP round trip and one parse for 50 ranges: the
        # report's 200 meters' first hours took 200 requests), two requests at once
        chunks = [ranges[i : i + STATEMENTS] for i in range(0, len(ranges), STATEMENTS)]
        limiter = asyncio.Semaphore(WINDOW_QUERIES)

        async def run(chunk: Sequence[tuple[str, datetime, datetime]]) -> list[list[Sample]]:
            q = ";".join(_history_q(p, a, b, limit) for p, a, b in chunk)
            async with limiter:
                results = await self._query_all(q, REPORT_TIMEOUT_S)
            return [_samples(series, limit) for series in results]

        return [h for part in await asyncio.gather(*(run(c) for c in chunks)) for h in part]

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
