"""A virtual clock for services that take `clock=`."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """Returns `now`, which the test sets or advances."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move on and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now
