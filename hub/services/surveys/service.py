"""Questionnaires (问卷调查): the back office asks everyone, or some work units and roles, a set
of questions between an opening and a closing time; each person answers once, may save a
draft and finish later; the author watches the results as they come and exports them.

Anonymity is chosen when the questionnaire is made and is fixed once someone has started to
answer. In an anonymous questionnaire a person who starts gets a random token, which only
their browser keeps: the hub records that they took one (so they cannot take a second) and,
apart from that, keeps their answers under the token's keyed hash, with a random id and the
day — nothing that leads from the one to the other. The canteen and the repair service may
attach a short questionnaire to their own pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.audience import Audience
from hub.services.audience import people as audience_of
from hub.services.surveys.answering import Answering
from hub.services.surveys.base import ATTACHERS, AUTHORS
from hub.services.surveys.questions import check, tally
from hub.storage.audit import record
from hub.storage.models import Survey, SurveyParticipant, SurveyResponse

__all__ = ["ATTACHERS", "AUTHORS", "Surveys"]


class Surveys(Answering):
    """Making, answering and counting questionnaires."""

    # -- the author's side ----------------------------------------------------------------------
    def create(
        self,
        who: Principal,
        *,
        title: str,
        intro: str = "",
        questions: Sequence[dict[str, Any]],
        audience: Audience,
        opens_at: datetime | None = None,
        closes_at: datetime,
        anonymous: bool = False,
        attach: str | None = None,
    ) -> dict[str, Any]:
        """A new questionnaire; its audience is told when it opens (now, or by `release_due`)."""
        self._may_author(who, attach)
        title = " ".join(title.split())
        if not title:
            raise Invalid("a questionnaire needs a title", field="title", key="survey.title")
        checked = check(questions)
        audience.check(self.site, "survey")
        now = self.clock()
        opens = max(opens_at or now, now)
        if closes_at <= opens:
            raise Invalid("it would close before it opens", field="closes_at", key="survey.times")
        with self._db.session() as s:
            v = Survey(
                title=title[:200],
                intro=intro.strip()[:5000],
                author=who.name,
                audience=audience.as_json(),
                questions=[q.model_dump(exclude_none=True) for q in checked],
                anonymous=anonymous,
                attach=attach,
                opens_at=opens,
                closes_at=closes_at,
                status="scheduled",
                answered=0,
                created_at=now,
            )
            s.add(v)
            s.flush()
            record(s, who.name, "survey.create", str(v.id), title=v.title, anonymous=anonymous)
            told = self._open(s, v) if opens <= now else []
            out = self._dict(v)
        self._tell(out, told)
        return out

    def _may_author(self, who: Principal, attach: str | None) -> None:
        if attach is not None and attach not in ATTACHERS:
            raise Invalid(f"no service {attach!r}", field="attach", key="survey.attach")
        if who.roles & AUTHORS or (attach and ATTACHERS[attach] in who.roles):
            return
        raise Forbidden("managers and administrators make questionnaires", key="forbidden")

    def release_due(self) -> int:
        """Open the questionnaires whose time has come (telling their audiences); how many."""
        now = self.clock()
        done: list[tuple[dict[str, Any], list[str]]] = []
        with self._db.session() as s:
            q = select(Survey).where(Survey.status == "scheduled", Survey.opens_at <= now)
            for v in s.scalars(q):
                done.append((self._dict(v), self._open(s, v)))
        for out, told in done:
            self._tell(out, told)
        return len(done)

    def _open(self, s: Session, v: Survey) -> list[str]:
        v.status = "open"
        return [u for u, _ in audience_of(s, v.audience, self.site)]

    def _tell(self, v: dict[str, Any], people: list[str]) -> None:
        closes = datetime.fromisoformat(v["closes_at"]).astimezone(self.tz)
        if people:
            self.announce(
                Notice(
                    topic="survey.open",
                    subject=f"【问卷】{v['title']}",
                    body=f"请于 {closes:%m-%d %H:%M} 前填写"
                    + ("（匿名）" if v["anonymous"] else ""),
                    ts=self.clock(),
                    notify=tuple(people),
                    key=f"survey:{v['id']}",
                    link=f"/surveys.html#survey={v['id']}",
                )
            )

    def change(
        self,
        who: Principal,
        survey_id: int,
        *,
        closes_at: datetime | None = None,
        anonymous: bool | None = None,
        questions: Sequence[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Close it later (or sooner); its anonymity and questions only until the first person
        has started to answer."""
        with self._db.session() as s:
            v = self._own(s, who, survey_id)
            started = self._started(s, v.id)
            if (anonymous is not None or questions is not None) and started:
                raise Conflict(
                    "people have started to answer: its anonymity and questions stay",
                    key="survey.started",
                )
            if questions is not None:
                v.questions = [q.model_dump(exclude_none=True) for q in check(questions)]
            if anonymous is not None:
                v.anonymous = anonymous
            if closes_at is not None:
                if closes_at <= v.opens_at:
                    raise Invalid("it would close before it opens", key="survey.times")
                v.closes_at = closes_at
            record(s, who.name, "survey.change", str(v.id))
            return self._dict(v)

    def withdraw(self, who: Principal, survey_id: int) -> dict[str, Any]:
        """It shows no more and takes no answers (what was answered stays for its author)."""
        with self._db.session() as s:
            v = self._own(s, who, survey_id)
            v.status = "withdrawn"
            record(s, who.name, "survey.withdraw", str(v.id))
            return self._dict(v)

    def authored(self, who: Principal) -> list[dict[str, Any]]:
        """The questionnaires this person made (an administrator: all), newest first."""
        q = select(Survey).order_by(Survey.id.desc()).limit(100)
        if Role.ADMIN not in who.roles:
            q = q.where(Survey.author == who.name)
        with self._db.session() as s:
            return [self._dict(v, started=self._started(s, v.id)) for v in s.scalars(q)]

    @staticmethod
    def _started(s: Session, survey_id: int) -> int:
        q = select(func.count(SurveyParticipant.id)).where(SurveyParticipant.survey_id == survey_id)
        return int(s.scalar(q) or 0)

    def results(self, who: Principal, survey_id: int) -> dict[str, Any]:
        """The submitted answers counted (while it runs, too): its author's and administrators'."""
        with self._db.session() as s:
            v = self._own(s, who, survey_id)
            answers = s.scalars(
                select(SurveyResponse.answers).where(
                    SurveyResponse.survey_id == v.id, SurveyResponse.submitted.is_(True)
                )
            )
            return {
                **self._dict(v, started=self._started(s, v.id)),
                "questions": tally(self.questions(v), answers),
            }

    def rows(self, who: Principal, survey_id: int) -> tuple[Survey, list[SurveyResponse]]:
        """The questionnaire and its submitted answers, for an export (its author's)."""
        with self._db.session() as s:
            v = self._own(s, who, survey_id)
            responses = list(
                s.scalars(
                    select(SurveyResponse)
                    .where(SurveyResponse.survey_id == v.id, SurveyResponse.submitted.is_(True))
                    .order_by(SurveyResponse.day, SurveyResponse.id)
                )
            )
            record(s, who.name, "survey.export", str(v.id), rows=len(responses))
            s.expunge_all()
            return v, responses

    def _own(self, s: Session, who: Principal, survey_id: int) -> Survey:
        v = s.get(Survey, survey_id)
        if v is None or (v.author != who.name and Role.ADMIN not in who.roles):
            raise NotFound(f"no questionnaire {survey_id}", key="not_found", what=f"#{survey_id}")
        return v

    # -- personal data --------------------------------------------------------------------------
    def forget(self, before: datetime) -> int:
        """For questionnaires closed before `before`: forget who took part and whose the named
        answers were (the answers stay, counted and exported without names)."""
        with self._db.session() as s:
            ids = list(s.scalars(select(Survey.id).where(Survey.closes_at < before)))
            if not ids:
                return 0
            gone = s.execute(
                delete(SurveyParticipant).where(SurveyParticipant.survey_id.in_(ids))
            ).rowcount  # type: ignore[attr-defined]
            s.execute(
                update(SurveyResponse)
                .where(SurveyResponse.survey_id.in_(ids), SurveyResponse.username.is_not(None))
                .values(username=None, unit=None)
            )
            return int(gone or 0)
