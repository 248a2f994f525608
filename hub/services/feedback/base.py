"""What the writer's and the handlers' sides of suggestions and complaints share: the
categories and who answers them, the follow-up codes, the item as the API shows it, and the
inbox events."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import NotFound
from hub.identity.roles import Principal, Role
from hub.site import Site
from hub.site.calendar import BusinessCalendar
from hub.site.feedback import FeedbackCategory, feedback_categories
from hub.storage import Database
from hub.storage.models import FeedbackEntry, FeedbackItem

Announce = Callable[[Notice], None]
KINDS = ("suggestion", "complaint")
OPEN = ("received", "accepted", "in_hand")  # waiting for the handlers
ANSWERED = "answered"
FINAL = ("closed", "declined")
WRITER = "writer"  # the actor of an anonymous writer's changes in the log
HUB = "hub"  # the hub's own (reminders, escalations, closing answered items)
# the follow-up code: 16 of Crockford's base-32 letters (80 bits), shown in groups of four
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
WARN_AT = 0.75  # the handlers are reminded when this share of a target has passed
MAX_PHOTOS = 3
MAX_PHOTO = 6 * 1024 * 1024
KIND_WORD = {"suggestion": "建议", "complaint": "投诉"}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def new_code() -> str:
    """A fresh follow-up code, e.g. `7KQ2-M9XD-4HTR-0BCW`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normal_code(code: str) -> str:
    """The code as typed, made canonical: no dashes or spaces, upper case, O→0, I/L→1."""
    text = "".join(code.split()).replace("-", "").upper()
    return text.translate(str.maketrans("OIL", "011"))


class FeedbackBase:
    """The parts both sides use."""

    def __init__(
        self,
        db: Database,
        site: Site,
        secret: bytes,
        photos: Path,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._db = db
        self._secret = hmac.new(secret, b"feedback follow-up codes", hashlib.sha256).digest()
        self.photos = photos
        self.clock = clock
        self.categories: dict[str, FeedbackCategory] = feedback_categories(site)
        self.calendar = BusinessCalendar.of(site.site)
        self.units = {u.id: u for u in site.work_units}
        self.buildings = {b.id: b for b in site.buildings}
        self.rooms = {r.id: r for r in site.rooms}
        self.assets = {a.id: a for a in site.section("assets")}
        self.announce: Announce = lambda _n: None

    # -- who answers ----------------------------------------------------------------------------
    def handles(self, who: Principal, category: str) -> bool:
        """Whether this person answers items of the category (its handlers, holders of its
        role, its leaders, administrators)."""
        c = self.categories.get(category)
        if Role.ADMIN in who.roles:
            return True
        if c is None:
            return False
        if who.name in c.handlers or who.name in c.leaders:
            return True
        if not c.leaders and Role.MANAGER in who.roles:
            return True
        return c.role is not None and c.role in {r.value for r in who.roles}

    def handled_by(self, who: Principal) -> list[str]:
        """The categories this person answers."""
        return [c for c in self.categories if self.handles(who, c)]

    def handlers(self, category: str) -> tuple[str, ...]:
        """Whom the inbox tells of a new item of the category (usernames and `role:` groups)."""
        c = self.categories[category]
        return tuple([*c.handlers, *([f"role:{c.role}"] if c.role else [])])

    def leaders(self, category: str) -> tuple[str, ...]:
        """Whom the inbox tells when the category's target is missed."""
        c = self.categories[category]
        return tuple(c.leaders) or ("role:manager",)

    # -- codes ----------------------------------------------------------------------------------
    def code_hash(self, code: str) -> str:
        """What is kept of a follow-up code: its keyed hash (the hub's secret)."""
        return hmac.new(self._secret, normal_code(code).encode(), hashlib.sha256).hexdigest()

    def _by_code(self, s: Session, code: str) -> FeedbackItem:
        text = normal_code(code)
        row = None
        if len(text) == CODE_LENGTH and all(ch in ALPHABET for ch in text):
            q = select(FeedbackItem).where(FeedbackItem.code_hash == self.code_hash(text))
            row = s.scalar(q)
        if row is None:
            raise NotFound("no item has this follow-up code", key="feedback.code")
        return row

    # -- what is shown --------------------------------------------------------------------------
    def place(self, f: FeedbackItem) -> str:
        """Where, in words."""
        if f.asset and f.asset in self.assets:
            return str(getattr(self.assets[f.asset], "name", f.asset))
        if f.room and f.room in self.rooms:
            return self.rooms[f.room].name
        if f.building and f.building in self.buildings:
            return self.buildings[f.building].name
        return f.address or ""

    def public(
        self, f: FeedbackItem, log: Iterable[FeedbackEntry] = (), *, writer: bool = True
    ) -> dict[str, Any]:
        """The item as its writer or a handler sees it (`writer`: the writer's name, when it
        has one); `log`: the changes to show."""
        c = self.categories.get(f.category)
        unit = self.units.get(c.unit) if c and c.unit else None
        return {
            "id": f.id,
            "kind": f.kind,
            "category": f.category,
            "category_name": c.name if c else f.category,
            "unit": c.unit if c else None,
            "unit_name": unit.name if unit else None,
            "title": f.title,
            "body": f.body,
            "building": f.building,
            "room": f.room,
            "asset": f.asset,
            "place": self.place(f),
            "lat": f.lat,
            "lon": f.lon,
            "photos": len(f.photos or []),
            "anonymous": f.writer is None,
            "writer": f.writer if writer else None,
            "source": f.source,
            "status": f.status,
            "created_at": f.created_at.isoformat(),
            "updated_at": f.updated_at.isoformat(),
            "responded_at": _iso(f.responded_at),
            "answered_at": _iso(f.answered_at),
            "closed_at": _iso(f.closed_at),
            "answer_due": f.answer_due.isoformat(),
            "close_due": f.close_due.isoformat(),
            "answer_late": f.answer_late,
            "close_late": f.close_late,
            "escalated_at": _iso(f.escalated_at),
            "handler": f.handler,
            "reply": f.reply,
            "reason": f.reason,
            "rating": f.rating,
            "rating_note": f.rating_note,
            "public": f.public,
            "log": [
                {
                    "ts": e.ts.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "note": e.note,
                    "shown": e.shown,
                }
                for e in log
            ],
        }

    @staticmethod
    def log(
        s: Session,
        f: FeedbackItem,
        actor: str,
        action: str,
        now: datetime,
        note: str | None = None,
        *,
        shown: bool = True,
        **detail: Any,
    ) -> None:
        """Add a change to the item's log."""
        s.add(
            FeedbackEntry(
                item_id=f.id,
                ts=now,
                actor=actor,
                action=action,
                note=note,
                shown=shown,
                detail=detail,
            )
        )
        f.updated_at = now

    @staticmethod
    def entries(s: Session, f: FeedbackItem, *, everything: bool) -> list[FeedbackEntry]:
        """The item's log in order: all of it (the handlers'), or what the writer sees."""
        q = select(FeedbackEntry).where(FeedbackEntry.item_id == f.id)
        if not everything:
            q = q.where(FeedbackEntry.shown.is_(True))
        return list(s.scalars(q.order_by(FeedbackEntry.ts, FeedbackEntry.id)))

    def tell(
        self, f: FeedbackItem, topic: str, subject: str, body: str, people: Iterable[str | None]
    ) -> Notice | None:
        """The inbox event for these people about the item (None when nobody is to be told)."""
        names = tuple(sorted({p for p in people if p and p != HUB}))
        if not names:
            return None
        return Notice(
            topic=f"feedback.{topic}",
            subject=subject,
            body=body,
            ts=self.clock(),
            notify=names,
            key=f"feedback:{f.id}:{topic}:{f.updated_at.isoformat()}",
            link=f"/feedback.html#item={f.id}",
        )

    def headline(self, f: FeedbackItem) -> str:
        """`【投诉·食堂餐饮】title`."""
        c = self.categories.get(f.category)
        return f"【{KIND_WORD.get(f.kind, f.kind)}·{c.name if c else f.category}】{f.title}"

    def _item(self, s: Session, item_id: int) -> FeedbackItem:
        f = s.get(FeedbackItem, item_id)
        if f is None:
            raise NotFound(f"no item {item_id}", key="not_found", what=f"#{item_id}")
        return f


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None
