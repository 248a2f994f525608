"""Questionnaires."""

from __future__ import annotations

from typing import Any

from hub.api.public.base import Out, Timestamp
from hub.api.public.notices import NoticeAudience


class SurveyPublic(Out):
    """A questionnaire as listed: for a person, where they stand (`state`: new, draft, done,
    or taken — an anonymous one they were given a token for); for its author, how many have
    started (`started`) and answered."""

    id: int
    title: str
    author: str
    audience: NoticeAudience
    anonymous: bool
    attach: str | None
    opens_at: Timestamp
    closes_at: Timestamp
    status: str  # scheduled, open, closed, withdrawn
    answered: int
    count: int
    state: str | None = None
    started: int | None = None


class SurveyOpen(SurveyPublic):
    """A questionnaire to answer: its introduction, questions, and the answers so far."""

    intro: str
    questions: list[dict[str, Any]]
    answers: dict[str, Any]
    submitted: bool


class SurveyStarted(Out):
    """Taking part: an anonymous questionnaire's token (keep it: it is the only way back to
    the answers, and there is no second), or null for a named one."""

    survey: int
    token: str | None


class SurveySaved(Out):
    """The answers as kept, whether submitted, and whether every required one is answered."""

    survey: int
    answers: dict[str, Any]
    submitted: bool
    complete: bool


class SurveyResults(SurveyPublic):
    """The submitted answers counted, question by question."""

    questions: list[dict[str, Any]]
