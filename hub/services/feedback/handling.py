"""The handlers' side of suggestions and complaints: the queue of their categories, each
change with its note (received → accepted → in hand → answered → closed, or declined with a
reason), the board of chosen answers, and the hub's watch over the targets: the handlers are
reminded before one passes, the category's leaders told when it has."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid
from hub.identity.roles import Principal
from hub.services.feedback.base import ANSWERED, FINAL, HUB, OPEN, FeedbackBase
from hub.storage.audit import record
from hub.storage.models import FeedbackItem

# what a handler may do, from which states, to which state (None: the state stays)
MOVES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "accept": (("received",), "accepted"),
    "start": (("received", "accepted"), "in_hand"),
    "answer": ((*OPEN, ANSWERED), ANSWERED),
    "close": ((*OPEN, ANSWERED), "closed"),
    "decline": (OPEN, "declined"),
    "note": ((*OPEN, ANSWERED, *FINAL), None),  # a note for the handlers only
    "publish": ((ANSWERED, "closed"), None),  # on the board, or off it
}
NEEDS_NOTE = ("answer", "decline", "note")
SAID = {  # what the writer is told of a change
    "accept": "已受理",
    "start": "正在办理",
    "answer": "已答复",
    "close": "已办结",
    "decline": "不予受理",
}
AUTO_CLOSE = timedelta(days=7)  # an answered item nobody adds to is closed after this


class Handling(FeedbackBase):
    """What the back office does with suggestions and complaints."""

    def queue(
        self, who: Principal, *, status: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The items of the categories this person answers (none: nothing): open ones,
        oldest first, or those in one state."""
        cats = self.handled_by(who)
        q = select(FeedbackItem).where(FeedbackItem.category.in_(cats))
        if status == "open":
            q = q.where(FeedbackItem.status.in_(OPEN)).order_by(FeedbackItem.id)
        elif status:
            q = q.where(FeedbackItem.status == status).order_by(FeedbackItem.id.desc())
        else:
            q = q.order_by(FeedbackItem.id.desc())
        with self._db.session() as s:
            return [self.public(f, writer=True) for f in s.scalars(q.limit(limit))]

    def open_count(self, who: Principal) -> int:
        """How many items wait for this person's categories (the home's queue)."""
        cats = self.handled_by(who)
        if not cats:
            return 0
        q = select(func.count(FeedbackItem.id)).where(
            FeedbackItem.category.in_(cats), FeedbackItem.status.in_(OPEN)
        )
        with self._db.session() as s:
            return int(s.scalar(q) or 0)

    def _handled(self, s: Session, who: Principal, item_id: int) -> FeedbackItem:
        f = self._item(s, item_id)
        if not self.handles(who, f.category):
            raise Forbidden("this category is answered by others", key="forbidden")
        return f

    def act(
        self, who: Principal, item_id: int, action: str, note: str = "", *, public: bool = True
    ) -> dict[str, Any]:
        """A handler moves the item on, with a note the writer reads (`note`: the handlers'
        own, not shown; `publish`: on the board when `public`, off it otherwise)."""
        if action not in MOVES:
            raise Invalid(f"no action {action!r}", field="action", key="feedback.action")
        note = note.strip()
        if action in NEEDS_NOTE and not note:
            raise Invalid("say why, or what", field="note", key="feedback.note")
        now = self.clock()
        told: list[Notice | None] = []
        with self._db.session() as s:
            f = self._handled(s, who, item_id)
            allowed, to = MOVES[action]
            if f.status not in allowed:
                raise Conflict(
                    f"an item that is {f.status} cannot be {action}ed",
                    key="feedback.state",
                    status_word=f.status,
                )
            if action == "publish":
                f.public = public
                self.log(s, f, who.name, "published" if public else "unpublished", now, shown=False)
            elif action == "note":
                self.log(s, f, who.name, "note", now, note, shown=False)
            else:
                told.append(self._move(s, f, who, action, to or f.status, note, now))
            record(s, who.name, f"feedback.{action}", str(f.id), status=f.status)
            out = self.public(f, self.entries(s, f, everything=True))
        for t in told:
            if t:
                self.announce(t)
        return out

    def _move(
        self,
        s: Session,
        f: FeedbackItem,
        who: Principal,
        action: str,
        to: str,
        note: str,
        now: datetime,
    ) -> Notice | None:
        if f.responded_at is None:  # the first answer the writer gets
            f.responded_at = now
            f.answer_late = f.answer_late or now > f.answer_due
            f.answer_warn_at = None
        f.status = to
        f.handler = f.handler or who.name
        if action == "answer" or (action == "close" and note and f.reply is None):
            f.reply, f.answered_at = note, now  # closed with a word and no answer: the answer
        if action == "decline":
            f.reason = note
        if to in FINAL:
            f.closed_at = now
            f.close_late = f.close_late or now > f.close_due
            f.answer_warn_at = f.close_warn_at = None
        said = note or SAID[action]
        self.log(s, f, who.name, action, now, said)
        return self.tell(f, "changed", f"【{SAID[action]}】{f.title}", said, [f.writer])

    # -- the board ------------------------------------------------------------------------------
    def board(self, *, category: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The answered items their handlers chose to show everyone, newest answer first, with
        nothing of who wrote them."""
        q = select(FeedbackItem).where(
            FeedbackItem.public.is_(True), FeedbackItem.status.in_((ANSWERED, "closed"))
        )
        if category:
            q = q.where(FeedbackItem.category == category)
        q = q.order_by(FeedbackItem.answered_at.desc()).limit(limit)
        with self._db.session() as s:
            return [self.public(f, writer=False) for f in s.scalars(q)]

    # -- the hub's watch ------------------------------------------------------------------------
    def sweep(self, now: datetime | None = None) -> int:
        """Remind the handlers of targets about to pass, tell the leaders of those passed,
        close answered items left alone for a week; how many items changed."""
        now = now or self.clock()
        events: list[Notice | None] = []
        changed = 0
        with self._db.session() as s:
            q = select(FeedbackItem).where(
                FeedbackItem.status.in_(OPEN),
                or_(
                    FeedbackItem.answer_warn_at <= now,
                    FeedbackItem.close_warn_at <= now,
                    (FeedbackItem.responded_at.is_(None))
                    & (FeedbackItem.answer_due <= now)
                    & FeedbackItem.answer_late.is_(False),
                    (FeedbackItem.close_due <= now) & FeedbackItem.close_late.is_(False),
                ),
            )
            for f in s.scalars(q):
                events.extend(self._watch(s, f, now))
                changed += 1
            stale = select(FeedbackItem).where(
                FeedbackItem.status == ANSWERED, FeedbackItem.updated_at <= now - AUTO_CLOSE
            )
            for f in s.scalars(stale):
                f.status, f.closed_at = "closed", now
                self.log(s, f, HUB, "close", now, "答复后 7 天无补充，自动办结")
                events.append(self.tell(f, "changed", f"【已办结】{f.title}", "", [f.writer]))
                changed += 1
        for e in events:
            if e:
                self.announce(e)
        return changed

    def _watch(self, s: Session, f: FeedbackItem, now: datetime) -> list[Notice | None]:
        out: list[Notice | None] = []
        people = [f.handler, *self.handlers(f.category)]
        late = []
        if f.responded_at is None and f.answer_due <= now and not f.answer_late:
            f.answer_late = True
            late.append("answer")
        if f.close_due <= now and not f.close_late:
            f.close_late = True
            late.append("close")
        if late:
            f.escalated_at = now
            f.answer_warn_at = None if "answer" in late else f.answer_warn_at
            f.close_warn_at = None if "close" in late else f.close_warn_at
            what = "、".join({"answer": "答复", "close": "办结"}[x] for x in late)
            self.log(s, f, HUB, "escalated", now, f"超过{what}时限，已报领导督办", targets=late)
            record(s, HUB, "feedback.escalate", str(f.id), targets=late)
            out.append(
                self.tell(
                    f,
                    "escalated",
                    f"【督办】{self.headline(f)}",
                    f"超过{what}时限未办理",
                    [*self.leaders(f.category), *people],
                )
            )
        for which in ("answer", "close"):
            warn = getattr(f, f"{which}_warn_at")
            if warn is not None and warn <= now:
                setattr(f, f"{which}_warn_at", None)
                due = getattr(f, f"{which}_due")
                self.log(s, f, HUB, "reminded", now, shown=False, target=which)
                word = {"answer": "答复", "close": "办结"}[which]
                out.append(
                    self.tell(
                        f,
                        f"remind.{which}",
                        f"【提醒】{self.headline(f)}",
                        f"{word}时限 {due.astimezone(self.calendar.tz):%m-%d %H:%M}",
                        people,
                    )
                )
        return out

    # -- personal data --------------------------------------------------------------------------
    def forget(self, before: datetime) -> int:
        """For items closed before `before`: forget who wrote them, their follow-up codes and
        photos (what stays is counted in the figures and, if chosen, on the board)."""
        with self._db.session() as s:
            q = select(FeedbackItem).where(
                FeedbackItem.status.in_(FINAL),
                FeedbackItem.closed_at < before,
                FeedbackItem.forgotten_at.is_(None),
            )
            rows = list(s.scalars(q))
            for f in rows:
                for name in f.photos or []:
                    (self.photos / name).unlink(missing_ok=True)
                f.writer = f.writer_unit = f.code_hash = None
                f.photos, f.lat, f.lon, f.forgotten_at = [], None, None, self.clock()
            if rows:
                record(s, HUB, "feedback.forget", "", items=len(rows), before=before.isoformat())
            return len(rows)
