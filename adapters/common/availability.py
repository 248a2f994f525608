"""Whether a device answers: failures in a row, a circuit breaker, backoff with jitter.

Shared by the pollers of every protocol. After `breaker_after` failed polls in a row the
breaker opens: the device is reported offline once and only probed at the backoff interval
(doubling from the poll interval up to `backoff_max_s`, with jitter so a fleet of devices
that failed together doesn't retry together). The first answer closes it and the device is
reported online once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Availability:
    """A device's reachability state and what to do about a failure."""

    interval_s: float
    breaker_after: int = 3
    backoff_max_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random)
    state: str = "unknown"  # unknown | online | offline
    failures: int = 0  # failed polls in a row
    last_error: str | None = None

    def failed(self, error: str) -> bool:
        """Record a failed poll; True when this one turns the device offline (report it)."""
        self.failures += 1
        self.last_error = error
        if self.failures >= self.breaker_after and self.state != "offline":
            self.state = "offline"
            return True
        return False

    def answered(self) -> bool:
        """Record an answer; True when the device was not online before (report it)."""
        was = self.state
        self.failures = 0
        self.state = "online"
        return was != "online"

    @property
    def breaker_open(self) -> bool:
        """Whether the device is only being probed."""
        return self.failures >= self.breaker_after

    def backoff(self) -> float:
        """Seconds to wait after the current run of failures: doubling, capped, jittered."""
        delay = min(self.backoff_max_s, self.interval_s * 2.0 ** min(self.failures - 1, 20))
        return delay * self.rng.uniform(0.5, 1.0)
