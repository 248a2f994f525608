"""Task helpers shared by the core, the adapters and the rules engine."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


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
