"""Notices (通知公告): the back office publishes a notice to everyone, or to some work units
and roles, now or at a set time, until an expiry; pinned ones come first; a notice may ask its
readers to acknowledge it. Its recipients are fixed when it is published — one receipt each,
read and acknowledged — so the author sees exactly who has not read or acknowledged it and
can remind them, once. Recipients hear of it through the inbox (a `Notice` event naming them:
WeCom / DingTalk follow where configured). The text is HTML, sanitised on the way in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import nh3
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.audience import Audience
from hub.services.audience import people as audience_of
from hub.services.notices.files import Files
from hub.services.notices.reading import NoticeReading, as_dict, plain
from hub.site import Site
from hub.storage import Database
from hub.storage.audit import record
from hub.storage.models import Announcement, AnnouncementReceipt

Announce = Callable[[Notice], None]
PUBLISHERS = frozenset({Role.ADMIN, Role.MANAGER})
# what a notice's text may hold: structure, emphasis, lists, links (nothing that runs or loads)
TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "h3", "h4", "blockquote", "a"}
ATTRIBUTES = {"a": {"href"}}
MAX_BODY = 100_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


def sanitise(html: str) -> str:
    """The notice's HTML with only the allowed tags and links kept (scripts, handlers, styles,
    images and other schemes dropped)."""
    return nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"}
    ).strip()


class Notices(NoticeReading):
    """Publishing, reading and acknowledging notices; receipts and reminders."""

    def __init__(
        self,
        db: Database,
        site: Site,
        clock: Callable[[], datetime] = _utcnow,
        files: Files | None = None,
    ) -> None:
        self._db = db
        self.files = files
        self.site = site
        self.units = {u.id: u for u in site.work_units}
        self.clock = clock
        self.announce: Announce = lambda _n: None

    # -- the author's side ----------------------------------------------------------------------
    def publish(
        self,
        who: Principal,
        *,
        title: str,
        body: str,
        audience: Audience,
        publish_at: datetime | None = None,
        expires_at: datetime | None = None,
        pinned: bool = False,
        must_ack: bool = False,
        attachments: Sequence[str] = (),
        display: bool = False,
    ) -> dict[str, Any]:
        """A new notice, published now or at `publish_at` (then it waits, `release_due`), with
        the author's staged uploads (`stage`) attached; `display`: on the wall and the rooms'
        door displays too."""
        if not who.roles & PUBLISHERS:
            raise Forbidden("administrators and managers publish notices", key="forbidden")
        now = self.clock()
        title = " ".join(title.split())
        clean = sanitise(body)
        if not title or not plain(clean):
            raise Invalid("a notice needs a title and some text", field="body", key="notice.empty")
        if len(clean) > MAX_BODY:
            raise Invalid("the text is too long", field="body", key="notice.too_long")
        audience.check(self.site, "notice")
        at = max(publish_at or now, now)
        if expires_at is not None and expires_at <= at:
            raise Invalid(
                "it would expire before it shows", field="expires_at", key="notice.expiry"
            )
        files = self._files().staged(who.name, list(attachments)) if attachments else []
        with self._db.session() as s:
            n = Announcement(
                title=title[:200],
                body=clean,
                author=who.name,
                audience=audience.as_json(),
                publish_at=at,
                expires_at=expires_at,
                pinned=pinned,
                must_ack=must_ack,
                status="scheduled",
                created_at=now,
                display=display,
                attachments=[],
            )
            s.add(n)
            s.flush()
            n.attachments = [a.as_json(self._files().keep(n.id, a)) for a in files]
            record(s, who.name, "notice.create", str(n.id), title=n.title, audience=n.audience)
            told = self._release(s, n) if at <= now else []
            out = as_dict(n)
        if told:
            self._tell(out, told)
        return out

    def release_due(self) -> int:
        """Publish the scheduled notices whose time has come; how many."""
        now = self.clock()
        done: list[tuple[dict[str, Any], list[str]]] = []
        with self._db.session() as s:
            q = select(Announcement).where(
                Announcement.status == "scheduled", Announcement.publish_at <= now
            )
            for n in s.scalars(q):
                done.append((as_dict(n), self._release(s, n)))
        for out, told in done:
            self._tell(out, told)
        return len(done)

    def _release(self, s: Session, n: Announcement) -> list[str]:
        """Fix the recipients (a receipt each) and mark the notice published; their names."""
        people = audience_of(s, n.audience, self.site)
        for username, unit in people:
            s.add(AnnouncementReceipt(announcement_id=n.id, username=username, unit=unit))
        n.status, n.recipients = "published", len(people)
        record(s, "hub", "notice.publish", str(n.id), recipients=len(people))
        return [u for u, _ in people]

    def _tell(self, n: dict[str, Any], people: Sequence[str], *, remind: bool = False) -> None:
        """Tell these people of the notice (through the inbox): that it is out, or again."""
        if not people:
            return
        if remind:
            mark, body = "提醒", "请阅读" + ("并确认" if n["must_ack"] else "") + "这条通知。"
        else:
            mark, body = "请确认" if n["must_ack"] else "通知", n["summary"]
        self.announce(
            Notice(
                topic="notice.remind" if remind else "notice.published",
                subject=f"【{mark}】{n['title']}",
                body=body,
                ts=self.clock(),
                notify=tuple(people),
                key=f"notice:{n['id']}" + (":remind" if remind else ""),
                link=f"/notices.html#notice={n['id']}",
            )
        )

    def stage(self, who: Principal, name: str, data: bytes) -> dict[str, Any]:
        """An upload kept for the author's next notice (a day, unless published with it)."""
        if not who.roles & PUBLISHERS:
            raise Forbidden("administrators and managers publish notices", key="forbidden")
        a = self._files().stage(who.name, name, data)
        return {"id": a.id, "name": a.name, "type": a.type, "size": a.size}

    def withdraw(self, who: Principal, notice_id: int) -> dict[str, Any]:
        """The author (or an administrator) takes a notice back: it shows no more."""
        with self._db.session() as s:
            n = self._own(s, who, notice_id)
            n.status = "withdrawn"
            record(s, who.name, "notice.withdraw", str(n.id))
            return as_dict(n)

    def receipts(self, who: Principal, notice_id: int) -> dict[str, Any]:
        """Who has read and acknowledged the notice, by work unit, and who has not."""
        with self._db.session() as s:
            n = self._own(s, who, notice_id)
            rows = list(
                s.scalars(
                    select(AnnouncementReceipt)
                    .where(AnnouncementReceipt.announcement_id == n.id)
                    .order_by(AnnouncementReceipt.unit, AnnouncementReceipt.username)
                )
            )
            waiting = [r for r in rows if r.read_at is None or (n.must_ack and r.acked_at is None)]
            return {
                **as_dict(n),
                "read": sum(1 for r in rows if r.read_at is not None),
                "acknowledged": sum(1 for r in rows if r.acked_at is not None),
                "stragglers": [
                    {
                        "username": r.username,
                        "unit": r.unit,
                        "unit_name": self.units[r.unit].name if r.unit in self.units else None,
                        "read": r.read_at is not None,
                        "acknowledged": r.acked_at is not None,
                    }
                    for r in waiting
                ],
            }

    def remind(self, who: Principal, notice_id: int) -> dict[str, Any]:
        """Tell, once, those who have not read (or not acknowledged) the notice again."""
        with self._db.session() as s:
            n = self._own(s, who, notice_id)
            if n.status != "published":
                raise Conflict("the notice is not showing", key="notice.not_showing")
            if n.reminded_at is not None:
                raise Conflict(
                    "a notice's stragglers are reminded once",
                    key="notice.reminded",
                    at_when=n.reminded_at.isoformat(),
                )
            unread = AnnouncementReceipt.read_at.is_(None)
            waiting = unread | AnnouncementReceipt.acked_at.is_(None) if n.must_ack else unread
            q = select(AnnouncementReceipt.username).where(
                AnnouncementReceipt.announcement_id == n.id, waiting
            )
            people = list(s.scalars(q))
            n.reminded_at = self.clock()
            record(s, who.name, "notice.remind", str(n.id), people=len(people))
            out = {**as_dict(n), "reminded": len(people)}
        self._tell(out, people, remind=True)
        return out

    def authored(self, who: Principal) -> list[dict[str, Any]]:
        """The notices this person published (an administrator: all), newest first, with
        their read and acknowledged counts."""
        with self._db.session() as s:
            q = select(Announcement).order_by(Announcement.id.desc()).limit(100)
            if Role.ADMIN not in who.roles:
                q = q.where(Announcement.author == who.name)
            out = []
            for n in s.scalars(q):
                counts = s.execute(
                    select(
                        func.count(AnnouncementReceipt.read_at),
                        func.count(AnnouncementReceipt.acked_at),
                    ).where(AnnouncementReceipt.announcement_id == n.id)
                ).one()
                out.append({**as_dict(n), "read": counts[0], "acknowledged": counts[1]})
            return out

    def _own(self, s: Session, who: Principal, notice_id: int) -> Announcement:
        n = s.get(Announcement, notice_id)
        if n is None or (n.author != who.name and Role.ADMIN not in who.roles):
            raise NotFound(f"no notice {notice_id}", key="not_found", what=f"#{notice_id}")
        return n

    # -- the reader's side ----------------------------------------------------------------------
    def forget_receipts(self, before: datetime) -> int:
        """Delete the notices (and receipts: who read what) that expired before `before`."""
        with self._db.session() as s:
            old = list(
                s.scalars(
                    select(Announcement).where(
                        Announcement.expires_at.is_not(None), Announcement.expires_at < before
                    )
                )
            )
            for n in old:
                if self.files is not None:
                    self.files.delete([a["file"] for a in n.attachments or []])
                s.delete(n)
        if self.files is not None:
            self.files.sweep_staging(self.clock())
        return len(old)
