"""Notices."""

from __future__ import annotations

from hub.api.public.base import Out, Timestamp


class NoticeAudiences(Out):
    """Whom a notice can be for: the site's work units, buildings and the people's roles
    (by id)."""

    units: list[str]
    roles: list[str]
    buildings: list[str]


class NoticeAudience(Out):
    """Everyone (`all`), or these work units, the work units in these buildings, and these
    roles."""

    all: bool
    units: list[str]
    roles: list[str]
    buildings: list[str] = []


class NoticeAttachment(Out):
    """A file attached to a notice (`GET /api/notices/{id}/attachments/{file id}`); uploaded
    before publishing, it is what `POST /api/notices/attachments` answers."""

    id: str
    name: str
    type: str
    size: int


class NoticeOnDisplay(Out):
    """A notice the wall and the rooms' door displays show."""

    id: int
    title: str
    summary: str
    pinned: bool


class NoticePublic(Out):
    """A notice: its title, the start of its text (`summary`) and, opened, the whole text as
    sanitised HTML (`body`); its audience, times, whether pinned or to be acknowledged; for its
    reader, when they read and acknowledged it."""

    id: int
    title: str
    summary: str
    body: str | None = None
    author: str
    audience: NoticeAudience
    publish_at: Timestamp
    expires_at: Timestamp | None
    pinned: bool
    must_ack: bool
    status: str
    recipients: int
    reminded_at: Timestamp | None
    display: bool = False
    attachments: list[NoticeAttachment] = []
    read_at: Timestamp | None = None
    acked_at: Timestamp | None = None
    read: int | None = None  # the author's view: how many have read it
    acknowledged: int | None = None
    reminded: int | None = None  # after a reminder: how many were reminded


class Straggler(Out):
    """A recipient who has not read, or not acknowledged, a notice."""

    username: str
    unit: str | None
    unit_name: str | None
    read: bool
    acknowledged: bool


class NoticeReceipts(NoticePublic):
    """A notice with its readers' figures and who has still to read or acknowledge it."""

    stragglers: list[Straggler]
