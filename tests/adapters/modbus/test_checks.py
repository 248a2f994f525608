"""Counters going backwards or jumping are BAD; a confirmed reset is accepted (pure)."""

from __future__ import annotations

from adapters.modbus.checks import RESET_CONFIRM, CounterState, check
from adapters.modbus.points import PointSpec
from hub.domain import Quality

COUNTER = PointSpec.model_validate(
    {"id": "kwh", "address": 0, "type": "float32", "counter": True, "max_rate": 100, "min": 0}
)


def run(values: list[tuple[float, float]]) -> list[tuple[Quality, str | None]]:
    state = CounterState()
    return [check(COUNTER, v, t, state) for t, v in values]


def test_a_counter_going_backwards_is_bad_and_does_not_move_the_baseline() -> None:
    out = run([(0, 100.0), (60, 101.0), (120, 5.0), (180, 101.5)])
    assert [q for q, _ in out] == [Quality.GOOD, Quality.GOOD, Quality.BAD, Quality.GOOD]
    assert out[2][1] == "counter_backwards"


def test_an_implausible_jump_is_bad() -> None:
    out = run([(0, 100.0), (3600, 150.0), (3660, 400.0)])  # 250 kWh in a minute
    assert out[2] == (Quality.BAD, "counter_jump")


def test_a_reset_is_accepted_once_the_new_level_keeps_counting() -> None:
    seq = [(0, 5000.0)] + [(60 * (i + 1), 1.0 + i) for i in range(RESET_CONFIRM + 1)]
    out = run(seq)
    assert [q for q, _ in out[1:RESET_CONFIRM]] == [Quality.BAD] * (RESET_CONFIRM - 1)
    assert out[RESET_CONFIRM] == (Quality.GOOD, "counter_reset")
    assert out[-1] == (Quality.GOOD, None)


def test_out_of_range_values_are_bad() -> None:
    assert run([(0, -5.0)]) == [(Quality.BAD, "out_of_range")]


def test_a_wall_clock_stepped_back_costs_no_readings() -> None:
    """An NTP step of an hour back: the readings keep counting and stay good (before the fix
    every one looked like a jump until the clock caught up: an hour of energy lost), and a
    real jump after it is still caught."""
    t0 = 10_000.0
    seq = [(t0, 100.0), (t0 + 60, 101.0)]  # then the clock steps back an hour
    seq += [(t0 + 120 - 3600 + 60 * i, 102.0 + i) for i in range(5)]
    seq += [(t0 + 120 - 3600 + 300, 900.0)]  # 800 kWh in a minute
    out = run(seq)
    assert [q for q, _ in out[:-1]] == [Quality.GOOD] * 7
    assert out[-1] == (Quality.BAD, "counter_jump")
