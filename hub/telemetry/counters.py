"""Counters (energy, water, gas registers) pushed down to each backend, for energy reports.

- **Deltas**: per point and window, the sum of the non-negative differences between
  consecutive good readings (`q` < 2). Windows are *interval ending* — right-closed, as meter
  interval data is: a reading at exactly midnight closes the day before, so a day's figure is
  the reading at its end minus the reading at its start. The reading before the window (up to
  `lookback` earlier) is the first difference's baseline. InfluxQL: SUM over
  NON_NEGATIVE_DIFFERENCE, windows offset by one microsecond to be right-closed.
- **Steps**: the few differences that need a decision instead of a sum — a counter that went
  down (reset, replacement, rollover) or readings further apart than `gap` (the consumption
  across the gap is spread over it, and the windows it touches are estimates). InfluxQL finds
  them with DIFFERENCE and ELAPSED in subqueries filtered on their result, then reads the two
  readings around each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.telemetry.schema import Measurement

US = 1_000_000


@dataclass(frozen=True, slots=True)
class Step:
    """Two consecutive good readings of a counter that went down or are far apart."""

    point: str
    before: datetime
    at: datetime
    prev: float
    value: float


def us(td: timedelta) -> int:
    """Whole microseconds."""
    return (td.days * 86_400 + td.seconds) * US + td.microseconds


def window_start(ts_us: int, every_us: int, offset_us: int) -> int:
    """The start of the right-closed window (start, start + every] holding `ts_us`."""
    return ((ts_us - 1 - offset_us) // every_us) * every_us + offset_us


def _base_sql(n: int) -> str:
    marks = ",".join("?" * n)
    return (
        "FROM readings r JOIN series s ON s.sid = r.sid "
        f"WHERE s.point_id IN ({marks}) AND r.ts > ? AND r.ts <= ? AND r.quality < 2"
    )


def sql_deltas(
    point_ids: list[str],
    start_us: int,
    end_us: int,
    every_us: int,
    offset_us: int,
    lookback_us: int,
) -> tuple[str, list[object]]:
    """SQLite: (point, window start, sum of non-negative differences)."""
    sql = (
        "WITH d AS (SELECT s.point_id AS g, r.ts AS ts, "
        "r.value - LAG(r.value) OVER (PARTITION BY r.sid ORDER BY r.ts) AS d "
        f"{_base_sql(len(point_ids))}) "
        "SELECT g, ((ts - 1 - ?) / ?) * ? + ? AS w, SUM(d) FROM d "
        "WHERE ts > ? AND d IS NOT NULL AND d >= 0 GROUP BY g, w ORDER BY g, w"
    )
    params: list[object] = [*point_ids, start_us - lookback_us, end_us]
    params += [offset_us, every_us, every_us, offset_us, start_us]
    return sql, params


def sql_steps(
    point_ids: list[str], start_us: int, end_us: int, gap_us: int, lookback_us: int, limit: int
) -> tuple[str, list[object]]:
    """SQLite: (point, previous ts, ts, previous value, value) of each step."""
    sql = (
        "WITH d AS (SELECT s.point_id AS g, r.ts AS ts, r.value AS v, "
        "LAG(r.ts) OVER w AS pts, LAG(r.value) OVER w AS pv "
        f"{_base_sql(len(point_ids))} WINDOW w AS (PARTITION BY r.sid ORDER BY r.ts)) "
        "SELECT g, pts, ts, pv, v FROM d WHERE ts > ? AND pts IS NOT NULL "
        "AND (v < pv OR ts - pts > ?) ORDER BY g, ts LIMIT ?"
    )
    return sql, [*point_ids, start_us - lookback_us, end_us, start_us, gap_us, limit]


def _inner(where_points: str, start_us: int, end_us: int, lookback_us: int) -> str:
    return (
        f'FROM "{Measurement.READING}" WHERE ({where_points}) AND "q" < 2 '
        f"AND time > {start_us - lookback_us}u AND time <= {end_us}u GROUP BY *"
    )


# InfluxDB narrows a subquery's time range to the outer query's, so the outer range starts
# `lookback` early too (else the first difference loses its baseline); the caller drops what
# falls before the start.


def influxql_deltas(
    where_points: str, start_us: int, end_us: int, every_us: int, offset_us: int, lookback_us: int
) -> str:
    """InfluxQL for the deltas; the windows it reports start one microsecond late, and
    windows before `start_us` come back too."""
    return (
        'SELECT SUM("d") FROM (SELECT NON_NEGATIVE_DIFFERENCE("value") AS "d" '
        f"{_inner(where_points, start_us, end_us, lookback_us)}) "
        f"WHERE time > {start_us - lookback_us}u AND time <= {end_us}u "
        f'GROUP BY time({every_us}u, {(offset_us + 1) % every_us}u), "point" fill(none)'
    )


def influxql_drops(where_points: str, start_us: int, end_us: int, lookback_us: int) -> str:
    """InfluxQL: the readings lower than the one before (from `start_us - lookback_us`)."""
    return (
        'SELECT "d" FROM (SELECT DIFFERENCE("value") AS "d" '
        f"{_inner(where_points, start_us, end_us, lookback_us)}) "
        f"WHERE time > {start_us - lookback_us}u AND time <= {end_us}u "
        'AND "d" < 0 GROUP BY "point"'
    )


def influxql_gaps(
    where_points: str, start_us: int, end_us: int, gap_us: int, lookback_us: int
) -> str:
    """InfluxQL: the readings more than `gap` after the one before (from
    `start_us - lookback_us`)."""
    return (
        'SELECT "e" FROM (SELECT ELAPSED("value", 1u) AS "e" '
        f"{_inner(where_points, start_us, end_us, lookback_us)}) "
        f"WHERE time > {start_us - lookback_us}u AND time <= {end_us}u "
        f'AND "e" > {gap_us} GROUP BY "point"'
    )


def influxql_pair(point_filter: str, at_us: int, since_us: int) -> str:
    """InfluxQL: a reading and the good one before it."""
    return (
        f'SELECT "value" FROM "{Measurement.READING}" WHERE ({point_filter}) AND "q" < 2 '
        f"AND time > {since_us}u AND time <= {at_us}u ORDER BY time DESC LIMIT 2"
    )
