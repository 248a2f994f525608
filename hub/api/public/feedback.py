"""Suggestions and complaints."""

from __future__ import annotations

from hub.api.public.base import Out, Timestamp


class FeedbackCategoryPublic(Out):
    """A category a writer chooses from: who answers it and its targets (business minutes)."""

    id: str
    name: str
    name_en: str | None
    unit: str | None
    unit_name: str | None
    answer_min: int
    close_min: int
    mine: bool  # the signed-in person answers it


class FeedbackPlace(Out):
    """A building or a room an item can be about."""

    kind: str  # building, room
    id: str
    building: str


class FeedbackChange(Out):
    """One change to an item: who (`writer` for an anonymous writer, `hub` for the hub's
    reminders and escalations), what, the note; `shown`: whether the writer sees it."""

    ts: Timestamp
    actor: str
    action: str
    note: str | None
    shown: bool


class FeedbackPublic(Out):
    """A suggestion or a complaint: what and where, its state and targets, the answer, the
    writer's rating; `writer` is empty for an anonymous item and on the board; `code`, only in
    the answer to an anonymous writer's submission, is the follow-up code (shown once)."""

    id: int
    kind: str
    category: str
    category_name: str
    unit: str | None
    unit_name: str | None
    title: str
    body: str
    building: str | None
    room: str | None
    asset: str | None
    place: str
    lat: float | None
    lon: float | None
    photos: int
    anonymous: bool
    writer: str | None
    source: str
    status: str
    created_at: Timestamp
    updated_at: Timestamp
    responded_at: Timestamp | None
    answered_at: Timestamp | None
    closed_at: Timestamp | None
    answer_due: Timestamp
    close_due: Timestamp
    answer_late: bool
    close_late: bool
    escalated_at: Timestamp | None
    handler: str | None
    reply: str | None
    reason: str | None
    rating: int | None
    rating_note: str | None
    public: bool
    log: list[FeedbackChange]
    code: str | None = None


class FeedbackFigureRow(Out):
    """One month (0: the year) and category ("": all of them)."""

    month: int
    category: str
    received: int
    answered: int
    answered_in_time: int
    answered_in_time_pct: float | None
    closed: int
    closed_in_time: int
    declined: int
    rated: int
    rating: float | None


class FeedbackFigures(Out):
    """A year's figures for the categories the reader answers."""

    year: int
    categories: dict[str, str]
    rows: list[FeedbackFigureRow]
