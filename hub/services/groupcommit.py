"""Group commit: work that is serialised anyway (gate decisions, canteen orders held against
a dish's last portions) queued on the event loop and done in batches on one thread of its own.

A hundred callers at once would each wait for the database's one writer and pay for their own
transaction; here what arrives while a batch is being done forms the next batch, done in one
transaction and committed once. A lone caller still gets its answer from a batch of one. The
`run_many` function decides how one item's failure is kept from the others (its own
savepoint, or a retry one by one); it answers each item with a result or the exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 64


class GroupCommit(Generic[T, R]):
    """Batches items for `run_many` (a list of items in, a result or exception per item out)."""

    def __init__(
        self,
        run_many: Callable[[list[T]], list[R | Exception]],
        *,
        name: str,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._run_many = run_many
        self.name = name
        self.max_batch = max_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0
        self.done = 0

    async def submit(self, item: T) -> R:
        """The item's result (raises what `run_many` answered for it)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, answer))
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain(), name=f"{self.name}:batches")
        return await answer

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            items = [p for p, _ in batch]
            results: list[R | Exception]
            try:
                results = await loop.run_in_executor(self._executor, self._run_many, items)
            except Exception as err:  # e.g. the database is away: every caller hears of it
                results = [err] * len(batch)
            self.batches += 1
            self.done += len(batch)
            for (_, answer), result in zip(batch, results, strict=True):
                if answer.done():  # the caller went away; what was done stands
                    continue
                if isinstance(result, StopIteration):  # a Future refuses to carry one
                    result = RuntimeError(f"{self.name} failed: {result!r}")
                if isinstance(result, Exception):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)
