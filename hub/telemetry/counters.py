"""Counters (energy, water, gas registers) for energy reports, pushed down to each backend.

The store answers one cheap aggregate query per period: for each point and window, the
count of good readings (`q` < 2) and their last, lowest and highest values. Windows are
*interval ending* — right-closed, as meter interval data is: a reading at exactly midnight
closes the day before. From those rows (`profile()`):

- a window is **regular** when the window before it has readings, its own readings are as
  many as usual, none is below the previous window's last reading and its last reading is
  its highest: it used `last − previous last`, with no reading pulled;
- any other window (a counter that went down, readings missing, the first one) is computed
  exactly from its raw readings, which are fetched for it alone: the sum of the non-negative
  differences between consecutive readings, each counted in the window of the later one, and
  the **steps** that need a decision — a counter that went down (reset, replacement,
  rollover) or readings further apart than `gap` — for `hub.services.energy.counting`.

A reading that went down and came back up within one window without going below the window's
first reading or above its last is not seen as a step (the Modbus adapter marks such glitches
BAD, and BAD readings are left out of everything).

InfluxQL: COUNT, LAST, MIN, MAX grouped by time and point, windows offset by a microsecond to
be right-closed. SQL: GROUP BY on the (sid, ts) key, the last value joined back by key.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.telemetry.aggregate import AggRow
from hub.telemetry.schema import Measurement

US = 1_000_000
USUAL = 0.8  # a window with fewer readings than this share of the point's most is checked


@dataclass(frozen=True, slots=True)
class Step:
    """Two consecutive good readings of a counter that went down or are far apart."""

    point: str
    before: datetime
    at: datetime
    prev: float
    value: float


@dataclass(frozen=True, slots=True)
class CounterWindow:
    """A point's good readings in a right-closed window (start, start + every]."""

    point: str
    start: datetime
    count: int
    last: float
    low: float
    high: float
    clean: bool = True  # False: BAD readings are in these figures (the window is recomputed)


def us(td: timedelta) -> int:
    """Whole microseconds."""
    return (td.days * 86_400 + td.seconds) * US + td.microseconds


def sql_windows(
    point_ids: list[str], lo_us: int, hi_us: int, every_us: int, offset_us: int
) -> tuple[str, list[object]]:
    """SQLite: (point, window start, count, last, min, max) per point and window. Each
    window's figures are short range scans on the (sid, ts) key, not one GROUP BY over the
    period (which sorts every reading: three times slower)."""
    first = ((lo_us - offset_us) // every_us) * every_us + offset_us
    marks = ",".join("?" * len(point_ids))
    span = "r.sid = s.sid AND r.ts > k.w AND r.ts <= k.w + ? AND r.quality < 2"
    sql = (
        "WITH RECURSIVE k(w) AS (SELECT ? UNION ALL SELECT w + ? FROM k WHERE w + ? < ?), "
        f"s AS (SELECT sid, point_id FROM series WHERE point_id IN ({marks})) "
        "SELECT point_id, w, n, last, lo, hi FROM (SELECT s.point_id AS point_id, k.w AS w, "
        f"(SELECT COUNT(*) FROM readings r WHERE {span}) AS n, "
        f"(SELECT value FROM readings r WHERE {span} ORDER BY r.ts DESC LIMIT 1) AS last, "
        f"(SELECT MIN(value) FROM readings r WHERE {span}) AS lo, "
        f"(SELECT MAX(value) FROM readings r WHERE {span}) AS hi "
        "FROM s CROSS JOIN k) WHERE n > 0 ORDER BY point_id, w"
    )
    params: list[object] = [first, every_us, every_us, hi_us, *point_ids]
    params += [every_us] * 4
    return sql, params


def influxql_windows(
    where_points: str, lo_us: int, hi_us: int, every_us: int, offset_us: int, *, bad: bool
) -> str:
    """InfluxQL: count, last, min, max per point and window of every reading (a filter on
    the quality field would double the work), or with `bad` the count of BAD ones (windows
    with any are recomputed from their good readings). Windows come back a microsecond
    late."""
    fields = 'COUNT("value")'
    if not bad:
        fields += ', LAST("value"), MIN("value"), MAX("value")'
    quality = '"q" = 2 AND ' if bad else ""
    return (
        f'SELECT {fields} FROM "{Measurement.READING}" WHERE ({where_points}) AND {quality}'
        f"time > {lo_us}u AND time <= {hi_us}u "
        f'GROUP BY time({every_us}u, {(offset_us + 1) % every_us}u), "point" fill(none)'
    )


Windows = Callable[
    [Sequence[str], datetime, datetime, timedelta, timedelta], Awaitable[list[CounterWindow]]
]
# several points' good readings, each (point, lo, hi) in (lo, hi], oldest first
Raw = Callable[
    [Sequence[tuple[str, datetime, datetime]]], Awaitable[list[list[tuple[datetime, float]]]]
]


async def profile(
    windows: Windows,
    raw: Raw,
    point_ids: Sequence[str],
    start: datetime,
    end: datetime,
    every: timedelta,
    *,
    offset: timedelta = timedelta(0),
    gap: timedelta = timedelta(minutes=15),
    lookback: timedelta = timedelta(days=2),
) -> tuple[list[AggRow], list[Step]]:
    """Each point's increase per window of (start, end] and its steps (see the module).

    `windows(points, lo, hi, every, offset)` aggregates (lo, hi]; `raw([(point, lo, hi),
    ...])` gives each range's good readings in (lo, hi], oldest first (all in one call: the
    store asks for them in as few round trips as it can)."""
    rows = await windows(point_ids, start - lookback, end, every, offset)
    by_point: dict[str, list[CounterWindow]] = defaultdict(list)
    for r in rows:
        by_point[r.point].append(r)
    deltas: list[AggRow] = []
    todo: list[tuple[str, datetime, datetime, set[datetime]]] = []  # raw ranges to compute
    for point, ws in by_point.items():
        ws.sort(key=lambda w: w.start)
        usual = max(w.count for w in ws) * USUAL
        prev: CounterWindow | None = None
        for w in ws:
            if w.start >= start:
                regular = (
                    prev is not None
                    and prev.clean
                    and w.clean
                    and prev.start + every == w.start
                    and w.count >= usual
                    and w.low >= prev.last
                    and w.high == w.last
                )
                if regular:
                    assert prev is not None
                    deltas.append(AggRow(point, w.start, w.last - prev.last))
                else:  # exactly, from its readings and the one before them
                    lo = prev.start if prev is not None else w.start
                    if todo and todo[-1][0] == point and todo[-1][2] >= lo:
                        todo[-1] = (point, todo[-1][1], w.start + every, todo[-1][3] | {w.start})
                    else:
                        todo.append((point, lo, w.start + every, {w.start}))
            prev = w
    steps: list[Step] = []
    fetched = await raw([(point, lo, hi) for point, lo, hi, _ in todo]) if todo else []
    for (point, _, _, which), readings in zip(todo, fetched, strict=True):
        sums: dict[datetime, float] = defaultdict(float)
        for (t1, v1), (t2, v2) in itertools.pairwise(readings):
            at = start + -((start - t2) // every) * every - every  # window of t2
            if at not in which:
                continue
            sums[at] += max(0.0, v2 - v1)
            if v2 < v1 or t2 - t1 > gap:
                steps.append(Step(point, t1, t2, v1, v2))
        deltas.extend(AggRow(point, at, v) for at, v in sorted(sums.items()))
    deltas.sort(key=lambda r: (r.group, r.start))
    steps.sort(key=lambda s: (s.point, s.at))
    return deltas, steps
