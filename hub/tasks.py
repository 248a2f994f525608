"""Task helpers shared by the core, the adapters and the rules engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)


async def cancel(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel tasks and wait until each has ended.

    A cancellation can be lost (Python 3.11's `asyncio.wait_for` drops one that races with
    the inner result, and a library may swallow one), which would leave `await task`
    hanging at shutdown: cancel again every second until the task has ended.
    """
    tasks = list(tasks)
    pending = [t for t in tasks if not t.done()]
    while pending:
        for t in pending:
            t.cancel()
        await asyncio.wait(pending, timeout=1.0)
        pending = [t for t in pending if not t.done()]
    for t in tasks:
        if t.done() and not t.cancelled():
            with contextlib.suppress(Exception):
                t.exception()  # retrieved: no "exception was never retrieved" noise


class Periodic:
    """A hub component that runs a blocking job in a worker thread every `every_s` seconds
    (first after one period). The job returns how many things it changed; a failure (the
    database away) is logged and counted, and the next period tries again."""

    def __init__(self, name: str, every_s: float, job: Callable[[], int]) -> None:
        self.name = name
        self._every = every_s
        self._job = job
        self._task: asyncio.Task[None] | None = None
        self.changed = 0
        self.failures = 0

    async def start(self) -> None:
        """Start the timer."""
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                self.changed += await asyncio.to_thread(self._job)
            except Exception:  # the loop boundary: log, count, next period
                self.failures += 1
                log.exception("periodic job %s failed", self.name)

    async def stop(self) -> None:
        """Stop the timer."""
        if self._task is not None:
            await cancel([self._task])

    def health(self) -> dict[str, object]:
        """Counts."""
        return {"status": "ok", "changed": self.changed, "failures": self.failures}
