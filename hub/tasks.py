"""Task helpers shared by the core, the adapters and the rules engine."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

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
    """A hub component that runs a job every `every_s` seconds (first after one period, or at
    once with `at_start`). A blocking job runs in a worker thread, a coroutine function on
    the loop. The job returns how many things it changed; a failure (the database away) is
    logged and counted, shown in the health until a run succeeds, and the next period tries
    again."""

    def __init__(
        self,
        name: str,
        every_s: float,
        job: Callable[[], int] | Callable[[], Awaitable[int]],
        *,
        at_start: bool = False,
    ) -> None:
        self.name = name
        self._every = every_s
        self._job = job
        # a coroutine function, or an object whose __call__ is one, runs on the loop
        self._async = inspect.iscoroutinefunction(job) or inspect.iscoroutinefunction(
            getattr(job, "__call__", None)  # noqa: B004 - the method, not callable()
        )
        self._at_start = at_start
        # set by the composition root for jobs only the leading hub process may run
        self.leads: Callable[[], bool] = lambda: True
        self._task: asyncio.Task[None] | None = None
        self.changed = 0
        self.failures = 0
        self.last_run: datetime | None = None
        self.last_error = ""

    async def start(self) -> None:
        """Start the timer."""
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        if not self._at_start:
            await asyncio.sleep(self._every)
        while True:
            if not self.leads():  # another hub worker runs this job
                await asyncio.sleep(self._every)
                continue
            try:
                if self._async:
                    self.changed += await self._job()  # type: ignore[misc]
                else:
                    self.changed += await asyncio.to_thread(self._job)  # type: ignore[arg-type]
                self.last_run, self.last_error = datetime.now(UTC), ""
            except Exception as err:  # the loop boundary: log, count, next period
                self.failures += 1
                self.last_error = str(err) or type(err).__name__
                log.exception("periodic job %s failed", self.name)
            await asyncio.sleep(self._every)

    async def stop(self) -> None:
        """Stop the timer."""
        if self._task is not None:
            await cancel([self._task])

    def health(self) -> dict[str, object]:
        """Counts, the last run, and the last failure while it lasts."""
        alive = self._task is None or not self._task.done()
        return {
            "status": "down" if not alive else ("degraded" if self.last_error else "ok"),
            **({} if self.leads() else {"standby": True}),
            "changed": self.changed,
            "failures": self.failures,
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "error": self.last_error,
        }
