"""Windowed aggregates of readings, defined once and pushed down to each backend.

Samples of BAD quality (`q` = 2: a counter going backwards, a value out of its plausible
range) are left out of every aggregate. Windows are aligned to the Unix epoch plus `offset`
(offset=-8h for days in Asia/Shanghai, as InfluxQL's `GROUP BY time(1d, -8h)`); a window is
reported only when it has data (InfluxQL `fill(none)`). Groups are a tag of the series:
point, device, building, floor.

- mean, max, min, sum, count: over the samples of the group in the window.
- last: the value of the newest sample (per point; across several points ties are arbitrary).
- increase (counters): the sum of the non-negative differences between consecutive samples of
  each point inside [start, end), each difference counted in the window of its later sample;
  a negative difference (a counter reset) counts nothing and is left to the energy reports,
  which flag it. InfluxQL: SUM over NON_NEGATIVE_DIFFERENCE in a subquery grouped by series.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.telemetry.schema import GROUP_TAGS, Measurement


class AggFn(enum.StrEnum):
    """Aggregate functions the telemetry stores compute."""

    MEAN = "mean"
    MAX = "max"
    MIN = "min"
    SUM = "sum"
    COUNT = "count"
    LAST = "last"
    INCREASE = "increase"


@dataclass(frozen=True, slots=True)
class AggRow:
    """One window of one group."""

    group: str
    start: datetime
    value: float


def _us(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


def check_args(every: timedelta, group_by: str, start: datetime, end: datetime) -> None:
    """Refuse windows and groups the backends can't agree on."""
    if every <= timedelta(0) or _us(every) % 1_000_000:
        raise ValueError("every must be a positive whole number of seconds")
    if group_by not in GROUP_TAGS:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_TAGS)}")
    if start >= end:
        raise ValueError("start must be before end")


def influxql_aggregate(
    fn: AggFn,
    where_points: str,
    start: datetime,
    end: datetime,
    every: timedelta,
    group_by: str,
    offset: timedelta,
) -> str:
    """The InfluxQL for an aggregate (`where_points` is a filter on the point tag)."""
    from hub.telemetry.sqlite import to_us

    check_args(every, group_by, start, end)
    span = f"time >= {to_us(start)}u AND time < {to_us(end)}u"
    good = '"q" < 2'
    window = f"time({_us(every) // 1_000_000}s, {_us(offset) // 1_000_000}s)"
    group = f'GROUP BY {window}, "{group_by}" fill(none)'
    m = Measurement.READING
    if fn is AggFn.INCREASE:
        return (
            f'SELECT SUM("d") FROM (SELECT NON_NEGATIVE_DIFFERENCE("value") AS "d" FROM "{m}" '
            f"WHERE ({where_points}) AND {good} AND {span} GROUP BY *) WHERE {span} {group}"
        )
    return (
        f'SELECT {fn.value.upper()}("value") FROM "{m}" '
        f"WHERE ({where_points}) AND {good} AND {span} {group}"
    )


def sql_aggregate(
    fn: AggFn,
    point_ids: list[str],
    start_us: int,
    end_us: int,
    every: timedelta,
    group_by: str,
    offset: timedelta,
) -> tuple[str, list[object]]:
    """The SQLite query and its parameters for an aggregate (same semantics as InfluxQL)."""
    every_us, off_us = _us(every), _us(offset)
    marks = ",".join("?" * len(point_ids))
    col = f"s.{group_by}" if group_by != "point" else "s.point_id"
    base = (
        "FROM readings r JOIN series s ON s.sid = r.sid "
        f"WHERE s.point_id IN ({marks}) AND r.ts >= ? AND r.ts < ? AND r.quality < 2"
    )
    base_params: list[object] = [*point_ids, start_us, end_us]
    window = "((r.ts - ?) / ?) * ? + ?"
    window_params: list[object] = [off_us, every_us, every_us, off_us]
    if fn is AggFn.INCREASE:
        sql = (
            f"WITH d AS (SELECT {col} AS g, r.ts AS ts, "
            f"r.value - LAG(r.value) OVER (PARTITION BY r.sid ORDER BY r.ts) AS d {base}) "
            "SELECT g, ((ts - ?) / ?) * ? + ? AS w, SUM(d) FROM d "
            "WHERE d IS NOT NULL AND d >= 0 GROUP BY g, w ORDER BY g, w"
        )
        return sql, [*base_params, *window_params]
    if fn is AggFn.LAST:
        sql = (
            f"WITH x AS (SELECT {col} AS g, {window} AS w, r.value AS v, "
            f"ROW_NUMBER() OVER (PARTITION BY {col}, {window} ORDER BY r.ts DESC) AS rn {base}) "
            "SELECT g, w, v FROM x WHERE rn = 1 ORDER BY g, w"
        )
        return sql, [*window_params, *window_params, *base_params]
    sql_fn = {"mean": "AVG", "max": "MAX", "min": "MIN", "sum": "SUM", "count": "COUNT"}[fn.value]
    sql = f"SELECT {col} AS g, {window} AS w, {sql_fn}(r.value) {base} GROUP BY g, w ORDER BY g, w"
    return sql, [*window_params, *base_params]
