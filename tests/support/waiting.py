"""Waiting in tests for something to become true: one helper, sync and async, that polls a
check and fails with what it waited for (never a bare `sleep` standing in for a state)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | None],
    what: str = "the condition",
    timeout: float = 30.0,
    every: float = 0.05,
    explain: Callable[[], object] | None = None,
) -> T:
    """Poll `check` until it returns something true; that value. AssertionError naming `what`
    (and what `explain` says of the state) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() >= deadline:
            detail = f": {explain()}" if explain is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(every)
    return value


async def until(
    check: Callable[[], T | None] | Callable[[], Awaitable[T | None]],
    what: str = "the condition",
    timeout: float = 30.0,
    every: float = 0.02,
    explain: Callable[[], object] | None = None,
) -> T:
    """`wait_for` on the event loop (the loop keeps running while it polls); `check` may be
    a coroutine function."""
    deadline = time.monotonic() + timeout
    while not (value := await _value(check())):
        if time.monotonic() >= deadline:
            detail = f": {explain()}" if explain is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")
        await asyncio.sleep(every)
    return cast(T, value)


async def _value(v: object) -> object:
    return await v if inspect.isawaitable(v) else v
