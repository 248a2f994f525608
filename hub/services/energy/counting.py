"""Consumption from counter deltas (pure): the store's per-window sums of non-negative
differences, corrected for the steps it found.

- A counter that went down was reset or replaced (it restarted from zero: the new reading is
  what it counted since) or rolled over (a meter with `rollover` R: value + R − previous).
  The negative difference itself is never counted; each such step is flagged. A drop smaller
  than `NOISE` of the register is the register's own precision and counts nothing.
- Two readings further apart than the gap threshold: the increase between them (already in
  the window of the later reading) is spread evenly over the time between them, and each
  window it touches is marked estimated.
Windows are right-closed (start, start + every], as the store computes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.telemetry.counters import Step

ROLLOVER_NEAR = 0.9  # a drop from above 90 % of the rollover value is a rollover, not a reset
# A drop this small against the register is its own noise (a float32 register reads 0.02 low at
# 280,000 kWh), not a reset: it counts nothing. Counting it as a reset would count the register.
NOISE = 1e-5


@dataclass(frozen=True, slots=True)
class Flag:
    """Something a report's reader should know about a meter's data."""

    meter: str
    kind: str  # reset, rollover, gap
    start: datetime
    end: datetime
    amount: float  # what was counted for it (kWh, m³)


@dataclass
class Consumption:
    """One counter's consumption per window, and what had to be decided about it."""

    windows: dict[datetime, float] = field(default_factory=dict)
    estimated: set[datetime] = field(default_factory=set)
    flags: list[Flag] = field(default_factory=list)

    @property
    def total(self) -> float:
        """The sum over every window."""
        return sum(self.windows.values())


def window_of(ts: datetime, origin: datetime, every: timedelta) -> datetime:
    """The start of the right-closed window holding `ts` (windows start at origin + k·every)."""
    k = -((origin - ts) // every) - 1  # ceil((ts - origin) / every) - 1
    return origin + k * every


def step_amount(step: Step, rollover: float | None) -> tuple[float, str | None]:
    """What a step counts, and how it is flagged (None: an ordinary difference)."""
    if step.value >= step.prev - NOISE * abs(step.prev):
        return max(0.0, step.value - step.prev), None
    if rollover is not None and step.prev >= ROLLOVER_NEAR * rollover:
        return step.value + rollover - step.prev, "rollover"
    return step.value, "reset"


def consumption(
    meter: str,
    deltas: Iterable[tuple[datetime, float]],
    steps: Iterable[Step],
    *,
    start: datetime,
    end: datetime,
    every: timedelta,
    gap: timedelta,
    rollover: float | None = None,
) -> Consumption:
    """A counter's consumption per window of (start, end], windows aligned on `start`."""
    out = Consumption()
    windows: dict[datetime, float] = defaultdict(float)
    for w, v in deltas:
        windows[w] += v
    for step in steps:
        if not start < step.at <= end:
            continue
        amount, kind = step_amount(step, rollover)
        here = window_of(step.at, start, every)
        if kind is not None:  # the store left the negative difference out: count this instead
            windows[here] += amount
        if step.at - step.before > gap:
            windows[here] -= amount  # spread over the gap instead
            spread = (step.at - step.before).total_seconds()
            w = start + ((max(step.before, start) - start) // every) * every
            while w < min(step.at, end):
                overlap = min(w + every, step.at) - max(w, step.before)
                if overlap > timedelta(0):
                    windows[w] += amount * overlap.total_seconds() / spread
                    out.estimated.add(w)
                w += every
            kind = "gap" if kind is None else f"{kind}+gap"
        if kind is not None:
            out.flags.append(Flag(meter, kind, step.before, step.at, amount))
    out.windows = {w: v for w, v in sorted(windows.items()) if start <= w < end}
    return out
