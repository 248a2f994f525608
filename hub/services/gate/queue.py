"""Gate decisions from many terminals at once: queued on the event loop and decided in
batches on one thread of their own (group commit).

Decisions are serialised anyway (anti-passback reads and writes the visitor's state), so a
hundred terminals calling together would each wait for the database's one writer; here the
decisions that arrive while a batch is being decided form the next batch, decided in one
transaction and committed once. A lone terminal still gets its answer from a batch of one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_BATCH = 64


@dataclass(frozen=True, slots=True)
class Presented:
    """What a gate terminal presents: a QR pass or a plate read, at a gate, in or out."""

    terminal: str
    gate_id: str
    direction: str
    qr: str | None = None
    plate: str | None = None
    terminal_ts: datetime | None = None


DecideMany = Callable[[list[Presented]], list[dict[str, Any] | Exception]]


class DecisionQueue:
    """Batches `Presented` credentials for a `decide_many` (GateService's)."""

    def __init__(self, decide_many: DecideMany, max_batch: int = MAX_BATCH) -> None:
        self._decide_many = decide_many
        self.max_batch = max_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate")
        self._pending: list[tuple[Presented, asyncio.Future[dict[str, Any]]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0
        self.decided = 0

    async def decide(self, presented: Presented) -> dict[str, Any]:
        """The decision on `presented` (raises what `GateService.decide` would)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending.append((presented, answer))
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain(), name="gate:decisions")
        return await answer

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            items = [p for p, _ in batch]
            try:
                results = await loop.run_in_executor(self._executor, self._decide_many, items)
            except Exception as err:  # e.g. the database is away: every caller hears of it
                results = [err] * len(batch)
            self.batches += 1
            self.decided += len(batch)
            for (_, answer), result in zip(batch, results, strict=True):
                if answer.done():  # the caller went away; the decision stands, logged
                    continue
                if isinstance(result, StopIteration):  # a Future refuses to carry one
                    result = RuntimeError(f"decision failed: {result!r}")
                if isinstance(result, Exception):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)
