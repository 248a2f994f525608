"""Suggestions and complaints (建议投诉, the 金点子园地): staff write them under their name or
anonymously; each goes to its category's handlers with a target for the first answer and one
for closing on the site's business calendar; the handlers are reminded before a target passes
and the category's leaders told when it has; the writer reads every change, adds to it, rates
the answer; chosen answers go on a public board; figures per month and category.

The writer's side is `Intake`, the back office's `Handling`; this class joins them and adds
the figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.errors import NotFound
from hub.identity.roles import Principal
from hub.services.feedback.base import ANSWERED, FINAL
from hub.services.feedback.handling import Handling
from hub.services.feedback.intake import Draft, Intake, Writer
from hub.services.periods import by_month, period_at
from hub.storage.models import FeedbackItem

__all__ = ["Draft", "Feedback", "Writer"]

DEFAULT_SPAN = timedelta(days=90)  # what Open311 lists when no dates are given


class Feedback(Intake, Handling):
    """Suggestions and complaints, both sides."""

    def view(self, who: Principal, item_id: int) -> dict[str, Any]:
        """An item as this person may see it: whole to its handlers; what writers are shown
        to its writer; on the board, without its writer, to anyone."""
        with self._db.session() as s:
            f = self._item(s, item_id)
            if self.handles(who, f.category):
                return self.public(f, self.entries(s, f, everything=True))
            mine = f.writer is not None and f.writer == who.name
            if mine or (f.public and f.status in (ANSWERED, "closed")):
                return self.public(f, self.entries(s, f, everything=False), writer=mine)
        raise NotFound(f"no item {item_id}", key="not_found", what=f"#{item_id}")

    def search(
        self,
        who: Principal,
        *,
        ids: Sequence[int] = (),
        category: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        final: bool | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Items as Open311 lists them: a handler's categories whole; for anyone else, the
        board and what they sent themselves. Newest first."""
        cats = self.handled_by(who)
        q = select(FeedbackItem)
        mine = FeedbackItem.writer == who.name
        board = FeedbackItem.public.is_(True) & FeedbackItem.status.in_((ANSWERED, "closed"))
        q = q.where(FeedbackItem.category.in_(cats) | mine | board)
        if ids:
            q = q.where(FeedbackItem.id.in_(ids))
        else:
            until = end or self.clock()
            q = q.where(
                FeedbackItem.created_at >= (start or until - DEFAULT_SPAN),
                FeedbackItem.created_at <= until,
            )
        if category:
            q = q.where(FeedbackItem.category == category)
        if final is not None:
            done = FeedbackItem.status.in_(FINAL)
            q = q.where(done if final else ~done)
        q = q.order_by(FeedbackItem.id.desc()).limit(limit)
        with self._db.session() as s:
            return [
                self.public(f, writer=f.category in cats or f.writer == who.name)
                for f in s.scalars(q)
            ]

    def figures(self, who: Principal, year: int) -> dict[str, Any]:
        """Per month and category: received, answered in time, closed (and in time), declined,
        the mean rating — for the categories this person answers (none: no rows)."""
        cats = self.handled_by(who)
        tz = self.calendar.tz
        span = period_at("year", date(year, 1, 1), tz)
        q = select(FeedbackItem).where(
            FeedbackItem.category.in_(cats),
            FeedbackItem.created_at >= span.start,
            FeedbackItem.created_at < span.end,
        )
        with self._db.session() as s:
            cells = by_month(
                s.scalars(q), lambda f: f.created_at, lambda f: f.category, tz, _cell, _count
            )
        rows = [{"month": m, "category": c, **_finish(v)} for m, c, v in cells]
        names = {c: self.categories[c].name for c in cats}
        return {"year": year, "categories": names, "rows": rows}


def _cell() -> dict[str, Any]:
    return {
        "received": 0,
        "answered": 0,
        "answered_in_time": 0,
        "closed": 0,
        "closed_in_time": 0,
        "declined": 0,
        "ratings": [],
    }


def _count(cell: dict[str, Any], f: FeedbackItem) -> None:
    cell["received"] += 1
    if f.responded_at is not None:
        cell["answered"] += 1
        cell["answered_in_time"] += not f.answer_late
    if f.status == "closed":
        cell["closed"] += 1
        cell["closed_in_time"] += not f.close_late
    if f.status == "declined":
        cell["declined"] += 1
    if f.rating is not None:
        cell["ratings"].append(f.rating)


def _finish(cell: dict[str, Any]) -> dict[str, Any]:
    ratings = cell.pop("ratings")
    received = cell["received"]
    return {
        **cell,
        "answered_in_time_pct": round(100 * cell["answered_in_time"] / received, 1)
        if received
        else None,
        "rated": len(ratings),
        "rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }
