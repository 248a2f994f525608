"""Reachability: offline once after the breaker opens, online once, backoff grows and is capped."""

from __future__ import annotations

import random

from adapters.common.availability import Availability


def test_offline_and_online_are_reported_once_per_change() -> None:
    a = Availability(interval_s=10, breaker_after=3)
    assert a.answered() is True  # unknown -> online: report
    assert a.answered() is False
    assert [a.failed("timeout") for _ in range(5)] == [False, False, True, False, False]
    assert a.state == "offline"
    assert a.breaker_open
    assert a.answered() is True
    assert not a.breaker_open


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    a = Availability(interval_s=10, breaker_after=1, backoff_max_s=60, rng=random.Random(1))
    delays = []
    for _ in range(6):
        a.failed("x")
        delays.append(a.backoff())
    assert 5 <= delays[0] <= 10
    assert 10 <= delays[1] <= 20
    assert all(30 <= d <= 60 for d in delays[3:])
