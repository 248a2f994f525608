"""The inbox."""

from __future__ import annotations

from hub.api.public.base import Out, Timestamp


class InboxMessagePublic(Out):
    """A message: what happened (`title`, `body`), where to act on it (`link`), when, read."""

    id: int
    topic: str
    title: str
    body: str
    link: str
    created_at: Timestamp
    read: bool


class InboxCount(Out):
    """The unread count."""

    unread: int
