"""The inbox: what happens to a person's things, kept per person (read or not) from the
domain events the services already publish — a `Notice` names its people (or their roles),
a `TicketEvent` the people its change concerns. No service writes here itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hub.domain import Event, Notice, TicketEvent
from hub.storage import Database
from hub.storage.models import InboxMessage, User, UserRole

# What a ticket's change says to the people it concerns (the site's language).
TICKET_SAYS = {
    "assigned": "已派单",
    "accepted": "已接单，维修人员将尽快处理",
    "started": "开始维修",
    "held": "暂停（待料）",
    "resolved": "已修复，请确认并评价",
    "confirmed": "已确认完成",
    "reopened": "已重新打开",
    "overdue": "已超时",
    "rating_reminder": "请为这次维修评价",
}


@dataclass(frozen=True, slots=True)
class Letter:
    """One message for the people it names."""

    to: tuple[str, ...]  # usernames, or "role:<role>"
    topic: str
    title: str
    body: str
    link: str
    key: str
    at: datetime


def letter_of(event: Event) -> Letter | None:
    """The message an event is for people, or None."""
    if isinstance(event, Notice) and event.notify:
        key = f"{event.topic}:{event.key or event.ts.isoformat()}"
        return Letter(
            event.notify, event.topic, event.subject, event.body, event.link, key, event.ts
        )
    if isinstance(event, TicketEvent) and event.notify and event.action in TICKET_SAYS:
        title = f"工单 #{event.ticket_id}「{event.title}」{TICKET_SAYS[event.action]}"
        key = f"ticket:{event.ticket_id}:{event.action}:{event.ts.isoformat()}"
        # the technician's changes go to the board, the reporter's to their reports (confirm,
        # rate)
        board = event.action in ("assigned", "reopened", "overdue")
        link = f"/tickets.html#ticket={event.ticket_id}" if board else "/report.html"
        return Letter(event.notify, f"ticket.{event.action}", title, "", link, key, event.ts)
    return None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class InboxService:
    """Messages per person: delivered from events, listed, counted, marked read."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self._db = db
        self._clock = clock

    def now(self) -> datetime:
        """The service's clock."""
        return self._clock()

    def _recipients(self, s: Session, to: Iterable[str]) -> set[str]:
        roles = {t.removeprefix("role:") for t in to if t.startswith("role:")}
        names = {t.removeprefix("user:") for t in to if not t.startswith("role:")}
        q = select(User.username).where(User.active.is_(True))
        if roles:
            q = q.where(
                User.username.in_(names)
                | User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles)))
            )
        else:
            q = q.where(User.username.in_(names))
        return set(s.scalars(q))

    def deliver(self, letters: Sequence[Letter]) -> dict[str, int]:
        """Keep each letter for each of its people (once per person and key); the unread
        counts of the people who got something new."""
        told: set[str] = set()
        with self._db.session() as s:
            insert = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
            for letter in letters:
                for username in sorted(self._recipients(s, letter.to)):
                    row = {
                        "username": username,
                        "topic": letter.topic[:64],
                        "title": letter.title[:300],
                        "body": letter.body,
                        "link": letter.link[:300],
                        "key": letter.key[:200],
                        "created_at": letter.at,
                    }
                    stmt = (
                        insert(InboxMessage)
                        .values(**row)
                        .on_conflict_do_nothing(index_elements=["username", "key"])
                    )
                    if s.execute(stmt).rowcount:  # type: ignore[attr-defined]
                        told.add(username)
            return {u: self._unread(s, u) for u in told}

    @staticmethod
    def _unread(s: Session, username: str) -> int:
        n = s.scalar(
            select(func.count()).where(
                InboxMessage.username == username, InboxMessage.read_at.is_(None)
            )
        )
        return int(n or 0)

    def unread(self, username: str) -> int:
        """How many of the person's messages are unread."""
        with self._db.session() as s:
            return self._unread(s, username)

    def messages(
        self,
        username: str,
        *,
        unread_only: bool = False,
        limit: int = 50,
        before: int | None = None,
    ) -> list[dict[str, Any]]:
        """The person's messages, newest first (`before`: older than this id)."""
        q = select(InboxMessage).where(InboxMessage.username == username)
        if unread_only:
            q = q.where(InboxMessage.read_at.is_(None))
        if before is not None:
            q = q.where(InboxMessage.id < before)
        with self._db.session() as s:
            rows = s.scalars(q.order_by(InboxMessage.id.desc()).limit(limit))
            return [
                {
                    "id": m.id,
                    "topic": m.topic,
                    "title": m.title,
                    "body": m.body,
                    "link": m.link,
                    "created_at": m.created_at.isoformat(),
                    "read": m.read_at is not None,
                }
                for m in rows
            ]

    def mark_read(self, username: str, ids: Sequence[int] | None) -> int:
        """Mark the person's messages read (`ids`, or all of them); their unread count."""
        q = update(InboxMessage).where(
            InboxMessage.username == username, InboxMessage.read_at.is_(None)
        )
        if ids is not None:
            q = q.where(InboxMessage.id.in_(ids))
        with self._db.session() as s:
            s.execute(q.values(read_at=self._clock()))
            return self._unread(s, username)

    def prune(self, before: datetime) -> int:
        """Delete the messages older than `before`."""
        with self._db.session() as s:
            result = s.execute(delete(InboxMessage).where(InboxMessage.created_at < before))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
