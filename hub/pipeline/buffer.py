"""A bounded FIFO counted in events, moved in batches (asyncio.Queue moves one item a call)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class Buffer(Generic[T]):
    """FIFO with a capacity in items; `put_many` waits for room, `get_batch` for items.

    `task_done(n)` / `join()` work like asyncio.Queue's: join returns once every item put has
    been taken and marked done.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: deque[T] = deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._unfinished = 0
        self._done = asyncio.Event()
        self._done.set()

    def __len__(self) -> int:
        return len(self._items)

    def room(self) -> int:
        """How many items fit now."""
        return self.capacity - len(self._items)

    def _added(self, n: int) -> None:
        self._unfinished += n
        self._done.clear()
        self._readable.set()
        if len(self._items) >= self.capacity:
            self._writable.clear()

    async def put_many(self, items: Sequence[T]) -> None:
        """Append all items in order, waiting whenever the buffer is full."""
        i = 0
        while i < len(items):
            room = self.capacity - len(self._items)
            if room <= 0:
                self._writable.clear()
                await self._writable.wait()
                continue
            chunk = items[i : i + room]
            self._items.extend(chunk)
            i += len(chunk)
            self._added(len(chunk))

    def put_nowait_many(self, items: Sequence[T]) -> bool:
        """Append all items if they fit, else none (False)."""
        if len(items) > self.capacity - len(self._items):
            return False
        self._items.extend(items)
        self._added(len(items))
        return True

    def put_dropping_oldest(self, items: Sequence[T]) -> int:
        """Append, dropping the oldest items to make room; returns how many were dropped."""
        if not items:
            return 0
        keep = items[-self.capacity :]
        never_added = len(items) - len(keep)
        evicted = 0
        while len(self._items) + len(keep) > self.capacity:
            self._items.popleft()
            evicted += 1
        self._items.extend(keep)
        self._added(len(keep))
        self.task_done(evicted)  # evicted items were counted when added and will never be taken
        return evicted + never_added

    async def get_batch(self, max_items: int) -> list[T]:
        """The oldest items, at least one, at most `max_items`."""
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        n = min(max_items, len(self._items))
        batch = [self._items.popleft() for _ in range(n)]
        if len(self._items) < self.capacity:
            self._writable.set()
        return batch

    def task_done(self, n: int = 1) -> None:
        """Mark n taken items as handled."""
        if n <= 0:
            return
        self._unfinished -= n
        if self._unfinished <= 0:
            self._unfinished = 0
            self._done.set()

    async def join(self) -> None:
        """Wait until every item put has been handled."""
        await self._done.wait()
