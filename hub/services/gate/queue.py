"""What gate terminals present, and the queue that decides it in batches (group commit,
`hub.services.groupcommit`): decisions are serialised anyway (anti-passback reads and writes
the visitor's state), so a hundred terminals calling together are decided in a few
transactions, each committed once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.services.groupcommit import GroupCommit


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


class DecisionQueue(GroupCommit[Presented, dict[str, Any]]):
    """Batches `Presented` credentials for a `decide_many` (GateService's)."""

    def __init__(self, decide_many: DecideMany) -> None:
        super().__init__(decide_many, name="gate")

    async def decide(self, presented: Presented) -> dict[str, Any]:
        """The decision on `presented` (raises what `GateService.decide` would)."""
        return await self.submit(presented)
