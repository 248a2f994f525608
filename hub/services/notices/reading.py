"""The reader's side of notices: the ones showing for a person, reading and acknowledging
them, their attachments, and what the wall and door displays show."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import nh3
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hub.errors import Conflict, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.notices.files import Files
from hub.storage import Database
from hub.storage.audit import record
from hub.storage.models import Announcement, AnnouncementReceipt


def plain(html: str, limit: int = 200) -> str:
    """The text of the HTML, shortened (for the inbox and the lists)."""
    text = " ".join(nh3.clean(html.replace("<", " <"), tags=set()).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class NoticeReading:
    """Reading notices (the author's side is `Notices`)."""

    _db: Database
    clock: Callable[[], datetime]
    files: Files | None

    def _files(self) -> Files:
        if self.files is None:
            raise Invalid("this hub keeps no attachments", key="notice.file_gone")
        return self.files

    def attachment(self, who: Principal, notice_id: int, file_id: str) -> tuple[Path, str, str]:
        """An attachment's file, name and type, for the notice's readers and its author."""
        with self._db.session() as s:
            row = s.execute(self._showing_to(who.name).where(Announcement.id == notice_id)).first()
            n = row[0] if row is not None else s.get(Announcement, notice_id)
            if n is None or (row is None and n.author != who.name and Role.ADMIN not in who.roles):
                raise NotFound(f"no notice {notice_id}", key="not_found", what=f"#{notice_id}")
            a = next((a for a in n.attachments or [] if a["id"] == file_id), None)
            if a is None:
                raise NotFound("no such attachment", key="not_found", what=file_id)
            return self._files().path(a["file"]), a["name"], a["type"]

    def displayed(self) -> list[dict[str, Any]]:
        """The notices showing now that their authors put on the displays, pinned first."""
        now = self.clock()
        q = (
            select(Announcement)
            .where(
                Announcement.status == "published",
                Announcement.display.is_(True),
                (Announcement.expires_at.is_(None)) | (Announcement.expires_at > now),
            )
            .order_by(Announcement.pinned.desc(), Announcement.publish_at.desc())
            .limit(10)
        )
        with self._db.session() as s:
            return [
                {"id": n.id, "title": n.title, "summary": plain(n.body, 120), "pinned": n.pinned}
                for n in s.scalars(q)
            ]

    def _showing_to(self, username: str) -> Select[Announcement, AnnouncementReceipt]:
        """The notices showing now (published, not expired) with this person's receipt."""
        return (
            select(Announcement, AnnouncementReceipt)
            .join(AnnouncementReceipt, AnnouncementReceipt.announcement_id == Announcement.id)
            .where(
                AnnouncementReceipt.username == username,
                Announcement.status == "published",
                (Announcement.expires_at.is_(None)) | (Announcement.expires_at > self.clock()),
            )
        )

    def mine(self, who: Principal) -> list[dict[str, Any]]:
        """The notices showing for this person: pinned first, then newest, with their receipt."""
        q = self._showing_to(who.name).order_by(
            Announcement.pinned.desc(), Announcement.publish_at.desc()
        )
        with self._db.session() as s:
            return [as_dict(n, r, body=False) for n, r in s.execute(q.limit(100))]

    def read(self, who: Principal, notice_id: int) -> dict[str, Any]:
        """The notice, its text in full; marked read."""
        with self._db.session() as s:
            n, r = self._showing(s, who, notice_id)
            if r.read_at is None:
                r.read_at = self.clock()
            return as_dict(n, r)

    def acknowledge(self, who: Principal, notice_id: int) -> dict[str, Any]:
        """The person confirms having read a notice that asks for it."""
        with self._db.session() as s:
            n, r = self._showing(s, who, notice_id)
            if not n.must_ack:
                raise Conflict("this notice asks no confirmation", key="notice.no_ack")
            now = self.clock()
            r.read_at = r.read_at or now
            if r.acked_at is None:
                r.acked_at = now
                record(s, who.name, "notice.acknowledge", str(n.id))
            return as_dict(n, r)

    def waiting_for(self, username: str) -> list[dict[str, Any]]:
        """The notices showing that this person has still to acknowledge (the home's)."""
        q = (
            self._showing_to(username)
            .where(AnnouncementReceipt.acked_at.is_(None), Announcement.must_ack.is_(True))
            .order_by(Announcement.publish_at.desc())
            .limit(20)
        )
        with self._db.session() as s:
            return [as_dict(n, body=False) for n, _ in s.execute(q)]

    def _showing(
        self, s: Session, who: Principal, notice_id: int
    ) -> tuple[Announcement, AnnouncementReceipt]:
        row = s.execute(self._showing_to(who.name).where(Announcement.id == notice_id)).first()
        if row is None:  # not theirs, not published, withdrawn or expired
            raise NotFound(f"no notice {notice_id}", key="not_found", what=f"#{notice_id}")
        return row[0], row[1]


def as_dict(
    n: Announcement, r: AnnouncementReceipt | None = None, *, body: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": n.id,
        "title": n.title,
        "summary": plain(n.body),
        "author": n.author,
        "audience": n.audience,
        "publish_at": n.publish_at.isoformat(),
        "expires_at": n.expires_at.isoformat() if n.expires_at else None,
        "pinned": n.pinned,
        "must_ack": n.must_ack,
        "status": n.status,
        "recipients": n.recipients,
        "reminded_at": n.reminded_at.isoformat() if n.reminded_at else None,
        "display": n.display,
        "attachments": [
            {k: a[k] for k in ("id", "name", "type", "size")} for a in n.attachments or []
        ],
    }
    if body:
        out["body"] = n.body
    if r is not None:
        out["read_at"] = r.read_at.isoformat() if r.read_at else None
        out["acked_at"] = r.acked_at.isoformat() if r.acked_at else None
    return out
