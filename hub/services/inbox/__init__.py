"""The inbox as the hub runs it: a pipeline consumer of the events that concern people
(notices, ticket changes) that keeps them per person and pushes each person's unread count to
their own live connections; and the job deleting old messages."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from hub.live import LiveHub
from hub.pipeline import Envelope
from hub.services.assembly import Consumer, Part, Shared
from hub.services.inbox.service import InboxService, Letter, letter_of
from hub.tasks import Periodic

__all__ = ["InboxService", "Letter", "assemble", "letter_of"]

KINDS = ("notice", "ticket")
KEEP = timedelta(days=180)


class InboxConsumer:
    """Delivers a batch's letters, then tells each person who got one their unread count."""

    def __init__(self, inbox: InboxService, live: LiveHub) -> None:
        self.inbox, self.live = inbox, live

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        letters = [x for env in batch if (x := letter_of(env.event)) is not None]
        if not letters:
            return
        counts = await asyncio.to_thread(self.inbox.deliver, letters)
        for username, unread in counts.items():
            self.live.tell(username, {"type": "inbox", "key": username, "unread": unread})


def assemble(shared: Shared, live: LiveHub) -> Part[InboxService]:
    """The inbox service, its consumer and the job keeping it to half a year."""
    inbox = InboxService(shared.db)

    async def prune() -> int:
        return await asyncio.to_thread(inbox.prune, inbox.now() - KEEP)

    return Part(
        inbox,
        consumers=[Consumer("inbox", InboxConsumer(inbox, live), kinds=KINDS)],
        singletons=[Periodic("inbox_retention", 3600, prune)],
    )
