"""The inbox."""

from __future__ import annotations

from hub.api.public.base import Out, Timestamp
from hub.api.public.canteen import MenuItemPublic


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


class HomeItem(Out):
    """One thing on the home: `kind` (meeting, car, trip, visit, repair, meal, notice,
    approval), its title, when, state, where to act on it, and what the person may do now
    (`check_in`, `rate`, `approve`, `acknowledge`)."""

    kind: str
    id: str
    title: str
    when: Timestamp | None
    state: str
    link: str
    action: str


class NextMeal(Out):
    """The canteen's next meal still open for ordering, each dish with what is left."""

    canteen: str
    day: str
    meal: str
    name: str
    name_en: str | None
    cutoff: str
    items: list[MenuItemPublic]


class HomePublic(Out):
    """A person's home."""

    user: str
    roles: list[str]
    items: list[HomeItem]
    waiting: list[HomeItem]
    queues: dict[str, int]
    unread: int
    menu: NextMeal | None = None  # the next meal still open for ordering, with its dishes
