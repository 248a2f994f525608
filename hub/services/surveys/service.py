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

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.audience import Audience, includes
from hub.services.audience import people as audience_of
from hub.services.surveys.questions import Question, check, clean, complete, tally
from hub.site import Site
from hub.storage import Database
from hub.storage.audit import record
from hub.storage.models import Survey, SurveyParticipant, SurveyResponse

Announce = Callable[[Notice], None]
AUTHORS = frozenset({Role.ADMIN, Role.MANAGER})
# who may attach a questionnaire to a service's own page, besides the authors
ATTACHERS = {"canteen": Role.CANTEEN, "repairs": Role.DISPATCHER}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Surveys:
    """Making, answering and counting questionnaires."""

    def __init__(
        self, db: Database, site: Site, secret: bytes, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self._db = db
        self._key = hmac.new(secret, b"questionnaire tokens", hashlib.sha256).digest()
        self.site = site
        self.units = {u.id: u for u in site.work_units}
        self.tz = ZoneInfo(site.site.timezone)
        self.clock = clock
        self.announce: Announce = lambda _n: None

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
            started = s.scalar(
                select(func.count(SurveyParticipant.id)).where(SurveyParticipant.survey_id == v.id)
            )
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
            taken = s.scalar(
                select(SurveyParticipant.id).where(
                    SurveyParticipant.survey_id == v.id, SurveyParticipant.username == who.name
                )
            )
            return "taken" if taken else "new"
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

    @staticmethod
    def questions(v: Survey) -> list[Question]:
        """Its questions as checked when it was made."""
        return [Question.model_validate(q) for q in v.questions]

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

    def _dict(self, v: Survey, **extra: Any) -> dict[str, Any]:
        now = self.clock()
        running = v.status == "open" and v.opens_at <= now < v.closes_at
        return {
            "id": v.id,
            "title": v.title,
            "author": v.author,
            "audience": v.audience,
            "anonymous": v.anonymous,
            "attach": v.attach,
            "opens_at": v.opens_at.isoformat(),
            "closes_at": v.closes_at.isoformat(),
            "status": v.status if v.status != "open" else "open" if running else "closed",
            "answered": v.answered,
            "count": len(v.questions),
            **extra,
        }
