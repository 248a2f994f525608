"""Questionnaires (问卷调查): the questionnaire and its questions, who has taken part (one row a
person: what keeps answers to one each), and the answers. In an anonymous questionnaire the
answers carry no name, no unit, no time finer than the day and a random id; what ties a person
to their draft is a token only their browser holds (its keyed hash is kept with the answers),
and nothing ties the participants' rows to the answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.models.base import Base, utcnow


class Survey(Base):
    """A questionnaire: its questions, audience, opening and closing, whether anonymous."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64), index=True)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"all", "units", "roles"}
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    anonymous: Mapped[bool] = mapped_column(default=False)
    attach: Mapped[str | None] = mapped_column(String(16), default=None)  # canteen, repairs
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # open, withdrawn
    answered: Mapped[int] = mapped_column(Integer, default=0)  # answers submitted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyParticipant(Base):
    """Someone who has taken part (started or answered): one each, which is what keeps a
    person to one answer. For an anonymous questionnaire it says only that they took a token."""

    __tablename__ = "survey_participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("survey_id", "username", name="uq_survey_participants_who"),
        Index("ix_survey_participants_username", "username"),
    )


class SurveyResponse(Base):
    """One person's answers, a draft until submitted. Named: with their username and unit;
    anonymous: with the keyed hash of their token instead, and the day only."""

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not a sequence
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    username: Mapped[str | None] = mapped_column(String(64), default=None)
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted: Mapped[bool] = mapped_column(default=False)
    day: Mapped[date]  # when last saved or submitted, to the day

    __table_args__ = (
        UniqueConstraint("survey_id", "username", name="uq_survey_responses_who"),
        UniqueConstraint("survey_id", "token_hash", name="uq_survey_responses_token"),
        Index("ix_survey_responses_survey", "survey_id", "submitted"),
    )
