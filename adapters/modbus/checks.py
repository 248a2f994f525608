"""Plausibility of decoded values (pure): range, counters going backwards or jumping.

An energy counter that reads less than before, or more than its `max_rate` allows since the
last good value, is marked BAD (stored for diagnosis, left out of aggregates and energy) and
does not move the counter's baseline. A counter that reads lower and then keeps counting up
from there `RESET_CONFIRM` times in a row was reset or replaced: the new level is accepted.
When the wall clock goes back (an NTP step), the rate can't be judged for that reading; the
next ones are judged from it (otherwise every reading would look like a jump until the clock
caught up again, and an hour of energy would be lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.modbus.points import PointSpec
from hub.domain import Quality

RESET_CONFIRM = 3


@dataclass
class CounterState:
    """What a counter check remembers between samples."""

    last: float | None = None
    last_ts: float | None = None  # seconds
    below: list[float] = field(default_factory=list)  # consecutive lower readings


def check(
    spec: PointSpec, value: float, ts: float, state: CounterState
) -> tuple[Quality, str | None]:
    """The quality of a decoded value and the reason when it isn't good; updates `state`."""
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        return Quality.BAD, "out_of_range"
    if not spec.counter:
        return Quality.GOOD, None
    if state.last is None:
        state.last, state.last_ts = value, ts
        return Quality.GOOD, None
    if value < state.last:
        below = state.below
        if below and value < below[-1]:
            below.clear()  # not counting up from the new level: noise, start over
        below.append(value)
        if len(below) >= RESET_CONFIRM:
            state.last, state.last_ts = value, ts
            below.clear()
            return Quality.GOOD, "counter_reset"
        return Quality.BAD, "counter_backwards"
    state.below.clear()
    if state.last_ts is not None and ts <= state.last_ts:
        # the wall clock went back (an NTP step): no rate to judge; carry on from here
        state.last, state.last_ts = value, ts
        return Quality.GOOD, None
    if spec.max_rate is not None and state.last_ts is not None:
        hours = max(ts - state.last_ts, 1e-3) / 3600
        if (value - state.last) / hours > spec.max_rate:
            return Quality.BAD, "counter_jump"
    state.last, state.last_ts = value, ts
    return Quality.GOOD, None
