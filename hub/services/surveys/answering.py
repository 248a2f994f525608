"""Answering a questionnaire: once each, a draft on the way, anonymous ones by a token only
the browser keeps."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import Conflict, NotFound
from hub.identity.roles import Principal
from hub.services.audience import includes
from hub.services.surveys.base import SurveysBase
from hub.services.surveys.questions import clean, complete
from hub.storage.audit import record
from hub.storage.models import Survey, SurveyParticipant, SurveyResponse


class Answering(SurveysBase):
    """The person's side."""

    # -- the person's side ----------------------------------------------------------------------
    def for_me(self, who: Principal, *, attach: str | None = None) -> list[dict[str, Any]]:
        """The questionnaires open now that are meant for this person, with where they stand:
        `new`, `draft`, `done` (named), or `taken` (anonymous: a token was given; only the
        person's browser knows more)."""
        now = self.clock()
        q = select(Survey).where(
            Survey.status == "open", Survey.opens_at <= now, Survey.closes_at > now
        )
        if attach is not None:
            q = q.where(Survey.attach == attach)
        with self._db.session() as s:
            mine = [
                v
                for v in s.scalars(q.order_by(Survey.closes_at))
                if includes(v.audience, who, self.site)
            ]
            return [self._dict(v, state=self._state(s, v, who)) for v in mine]

    def _state(self, s: Session, v: Survey, who: Principal) -> str:
        if v.anonymous:
            return "taken" if self._took_part(s, v, who) else "new"
        done = s.scalar(
            select(SurveyResponse.submitted).where(
                SurveyResponse.survey_id == v.id, SurveyResponse.username == who.name
            )
        )
        return "new" if done is None else "done" if done else "draft"

    def open_one(self, who: Principal, survey_id: int, token: str | None = None) -> dict[str, Any]:
        """The questionnaire with the person's answers so far (named: theirs; anonymous: those
        saved under `token`)."""
        with self._db.session() as s:
            v = self._answerable(s, who, survey_id, for_reading=True)
            r = self._response(s, v, who, token)
            return {
                **self._dict(v, state=self._state(s, v, who)),
                "intro": v.intro,
                "questions": v.questions,
                "answers": r.answers if r else {},
                "submitted": bool(r and r.submitted),
            }

    def start(self, who: Principal, survey_id: int) -> dict[str, Any]:
        """Take part: a named questionnaire starts the person's draft; an anonymous one gives
        them their token — once (a second is refused: it would be a second answer)."""
        now = self.clock()
        with self._db.session() as s:
            v = self._answerable(s, who, survey_id)
            token = None
            try:
                with s.begin_nested():
                    s.add(SurveyParticipant(survey_id=v.id, username=who.name))
            except IntegrityError:
                if v.anonymous:
                    raise Conflict(
                        "you have taken part already: your answers are under the token your "
                        "browser was given",
                        key="survey.taken",
                    ) from None
            if v.anonymous:
                token = secrets.token_urlsafe(24)
            elif self._response(s, v, who, None) is None:
                s.add(self._new_response(v, who, None, now))
            return {"survey": v.id, "token": token}

    def save(
        self,
        who: Principal,
        survey_id: int,
        answers: dict[str, Any],
        *,
        token: str | None = None,
        submit: bool = False,
    ) -> dict[str, Any]:
        """Keep the person's answers (a draft), or submit them (every required question asked
        answered); a submitted answer is final."""
        now = self.clock()
        with self._db.session() as s:
            v = self._answerable(s, who, survey_id)
            kept = clean(self.questions(v), answers, final=submit)
            r = self._response(s, v, who, token)
            if r is None:
                if v.anonymous:
                    if token is None or not self._took_part(s, v, who):
                        raise Conflict("start it first", key="survey.not_started")
                    r = self._new_response(v, who, token, now)
                    s.add(r)
                else:  # answered straight away, without starting
                    if not self._took_part(s, v, who):
                        s.add(SurveyParticipant(survey_id=v.id, username=who.name))
                    r = self._new_response(v, who, None, now)
                    s.add(r)
            if r.submitted:
                raise Conflict("your answer is in already: one each", key="survey.answered")
            r.answers, r.day = kept, now.astimezone(self.tz).date()
            if submit:
                r.submitted = True
                s.execute(
                    update(Survey).where(Survey.id == v.id).values(answered=Survey.answered + 1)
                )
                if not v.anonymous:
                    record(s, who.name, "survey.answer", str(v.id))
            return {
                "survey": v.id,
                "answers": kept,
                "submitted": r.submitted,
                "complete": complete(self.questions(v), kept),
            }

    def _took_part(self, s: Session, v: Survey, who: Principal) -> bool:
        q = select(SurveyParticipant.id).where(
            SurveyParticipant.survey_id == v.id, SurveyParticipant.username == who.name
        )
        return s.scalar(q) is not None

    def _new_response(
        self, v: Survey, who: Principal, token: str | None, now: datetime
    ) -> SurveyResponse:
        named = not v.anonymous
        return SurveyResponse(
            id=secrets.token_hex(16),
            survey_id=v.id,
            username=who.name if named else None,
            unit=who.work_unit if named else None,
            token_hash=None if named or token is None else self._hash(token),
            answers={},
            submitted=False,
            day=now.astimezone(self.tz).date(),
        )

    def _response(
        self, s: Session, v: Survey, who: Principal, token: str | None
    ) -> SurveyResponse | None:
        if v.anonymous:
            if not token:
                return None
            key = SurveyResponse.token_hash == self._hash(token)
        else:
            key = SurveyResponse.username == who.name
        return s.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == v.id, key))

    def _hash(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def _answerable(
        self, s: Session, who: Principal, survey_id: int, *, for_reading: bool = False
    ) -> Survey:
        v = s.get(Survey, survey_id)
        if v is None or v.status == "withdrawn" or not includes(v.audience, who, self.site):
            raise NotFound(f"no questionnaire {survey_id}", key="not_found", what=f"#{survey_id}")
        now = self.clock()
        if now < v.opens_at or v.status == "scheduled":
            raise Conflict(
                "it is not open yet", key="survey.not_open", at_when=v.opens_at.isoformat()
            )
        if now >= v.closes_at and not for_reading:
            raise Conflict("it has closed", key="survey.closed", at_when=v.closes_at.isoformat())
        return v
