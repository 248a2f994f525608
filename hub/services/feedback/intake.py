"""The writer's side of suggestions and complaints: writing one (under one's name, or
anonymously with a follow-up code), following it, adding to it, rating the answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Invalid, NotFound
from hub.identity.roles import Principal
from hub.services.feedback.base import (
    ANSWERED,
    FINAL,
    KINDS,
    MAX_PHOTO,
    MAX_PHOTOS,
    OPEN,
    WARN_AT,
    WRITER,
    FeedbackBase,
    new_code,
)
from hub.services.images import NotAnImage, clean_photo, keep_photo, photo_bytes
from hub.storage.audit import record
from hub.storage.models import FeedbackItem

MAX_TEXT = 5000
RATE_WITHIN = timedelta(days=14)  # a closed item waits this long on its writer's home to be rated
Writer = Principal | str  # a named writer, or the follow-up code of an anonymous one


@dataclass(frozen=True)
class Draft:
    """What a writer sends."""

    kind: str
    category: str
    title: str
    body: str
    building: str | None = None
    room: str | None = None
    asset: str | None = None
    photos: tuple[str, ...] = field(default_factory=tuple)  # data: URLs or base64
    anonymous: bool = False
    lat: float | None = None
    lon: float | None = None
    address: str | None = None


class Intake(FeedbackBase):
    """Writing and following suggestions and complaints."""

    def submit(self, who: Principal, d: Draft, *, source: str = "web") -> dict[str, Any]:
        """A new item, routed to its category's handlers; an anonymous one comes back with its
        follow-up code (shown once: the hub keeps only its keyed hash)."""
        self._check(d)
        now = self.clock()
        c = self.categories[d.category]
        code = new_code() if d.anonymous else None
        photos = [self._decode(p) for p in d.photos]  # every one checked before anything kept
        with self._db.session() as s:
            f = FeedbackItem(
                kind=d.kind,
                category=d.category,
                title=" ".join(d.title.split())[:200],
                body=d.body.strip(),
                building=d.building or self._building_of(d),
                room=d.room,
                asset=d.asset,
                address=(d.address or "").strip()[:200] or None,
                lat=d.lat,
                lon=d.lon,
                photos=[],
                writer=None if d.anonymous else who.name,
                writer_unit=None if d.anonymous else who.work_unit,
                code_hash=self.code_hash(code) if code else None,
                source=source,
                status="received",
                created_at=now,
                updated_at=now,
                answer_due=self.calendar.after(now, c.answer_min),
                close_due=self.calendar.after(now, c.close_min),
                answer_warn_at=self.calendar.after(now, c.answer_min * WARN_AT),
                close_warn_at=self.calendar.after(now, c.close_min * WARN_AT),
            )
            s.add(f)
            s.flush()
            f.photos = [keep_photo(self.photos, f"fb{f.id}", jpeg) for jpeg in photos]
            actor = WRITER if d.anonymous else who.name
            self.log(s, f, actor, "received", now, source=source)
            record(
                s,
                "anonymous" if d.anonymous else who.name,
                "feedback.submit",
                str(f.id),
                kind=f.kind,
                category=f.category,
            )
            out = self.public(f, self.entries(s, f, everything=False))
            where = self.place(f)
            told = self.tell(
                f,
                "received",
                self.headline(f),
                f"{where + ' · ' if where else ''}{f.body[:200]}",
                self.handlers(f.category),
            )
        if told:
            self.announce(told)
        return {**out, "code": code} if code else out

    def _check(self, d: Draft) -> None:
        if d.kind not in KINDS:
            raise Invalid("a suggestion or a complaint", field="kind", key="feedback.kind")
        if d.category not in self.categories:
            raise Invalid(f"no category {d.category!r}", field="category", key="feedback.category")
        if not " ".join(d.title.split()) or not d.body.strip():
            raise Invalid("say what it is about", field="body", key="feedback.empty")
        if len(d.body) > MAX_TEXT:
            raise Invalid("the text is too long", field="body", key="feedback.too_long")
        for name, value, known in (
            ("building", d.building, self.buildings),
            ("room", d.room, self.rooms),
            ("asset", d.asset, self.assets),
        ):
            if value and value not in known:
                raise Invalid(f"no {name} {value!r}", field=name, key="feedback.place")
        if (d.lat is None) != (d.lon is None):
            raise Invalid("a latitude and a longitude", field="lat", key="feedback.position")
        if d.lat is not None and d.lon is not None and not _on_earth(d.lat, d.lon):
            raise Invalid("not a position on earth", field="lat", key="feedback.position")
        if len(d.photos) > MAX_PHOTOS:
            raise Invalid(
                f"at most {MAX_PHOTOS} photos", field="photos", key="feedback.photos", n=MAX_PHOTOS
            )

    def _building_of(self, d: Draft) -> str | None:
        if d.room and d.room in self.rooms:
            return self.rooms[d.room].building
        if d.asset and d.asset in self.assets:
            return getattr(self.assets[d.asset], "building", None)
        return None

    @staticmethod
    def _decode(data_url: str) -> bytes:
        """The photo, checked and cleaned (a JPEG without metadata)."""
        try:
            data = photo_bytes(data_url)
            if len(data) > MAX_PHOTO:
                mb = MAX_PHOTO // (1024 * 1024)
                raise Invalid(
                    f"photo: larger than {mb} MB", field="photos", key="feedback.photo_size", mb=mb
                )
            return clean_photo(data)
        except NotAnImage as err:
            raise Invalid(f"photo: {err}", field="photos") from None

    def _writers(self, s: Session, writer: Writer, item_id: int | None) -> FeedbackItem:
        """The item, if this is its writer (a named writer by the item's id, an anonymous one
        by the code alone)."""
        if isinstance(writer, str):
            return self._by_code(s, writer)
        f = s.get(FeedbackItem, item_id) if item_id is not None else None
        if f is None or f.writer is None or f.writer != writer.name:
            raise NotFound(f"no item {item_id}", key="not_found", what=f"#{item_id}")
        return f

    def mine(self, who: Principal) -> list[dict[str, Any]]:
        """What this person wrote under their name, newest first (anonymous ones are not
        theirs in the database: they follow those with the code)."""
        q = (
            select(FeedbackItem)
            .where(FeedbackItem.writer == who.name)
            .order_by(FeedbackItem.id.desc())
            .limit(100)
        )
        with self._db.session() as s:
            return [self.public(f) for f in s.scalars(q)]

    def followed(self, writer: Writer, item_id: int | None = None) -> dict[str, Any]:
        """The item and the changes its writer sees (the handlers' internal notes not)."""
        with self._db.session() as s:
            f = self._writers(s, writer, item_id)
            return self.public(f, self.entries(s, f, everything=False))

    def add(self, writer: Writer, text: str, item_id: int | None = None) -> dict[str, Any]:
        """The writer adds to the item (more detail, or: the answer does not settle it); an
        answered item goes back to the handlers."""
        text = text.strip()
        if not text:
            raise Invalid("say something", field="text", key="feedback.empty")
        now = self.clock()
        with self._db.session() as s:
            f = self._writers(s, writer, item_id)
            if f.status in FINAL:
                raise Conflict("the item is closed: write a new one", key="feedback.closed")
            reopened = f.status == ANSWERED
            if reopened:
                f.status = "in_hand"
            actor = f.writer or WRITER
            self.log(s, f, actor, "added", now, text[:MAX_TEXT], reopened=reopened)
            record(s, "anonymous" if f.writer is None else f.writer, "feedback.add", str(f.id))
            told = self.tell(
                f,
                "added",
                f"【补充】{self.headline(f)}",
                text[:200],
                [f.handler, *self.handlers(f.category)],
            )
            out = self.public(f, self.entries(s, f, everything=False))
        if told:
            self.announce(told)
        return out

    def rate(
        self, writer: Writer, rating: int, note: str = "", item_id: int | None = None
    ) -> dict[str, Any]:
        """The writer rates the answer (1-5), once."""
        if not 1 <= rating <= 5:
            raise Invalid("a rating is 1 to 5", field="rating", key="feedback.rating")
        now = self.clock()
        told: Notice | None = None
        with self._db.session() as s:
            f = self._writers(s, writer, item_id)
            if f.status not in (ANSWERED, "closed"):
                raise Conflict("rate it once it is answered", key="feedback.not_answered")
            if f.rating is not None:
                raise Conflict("it is rated already", key="feedback.rated")
            f.rating, f.rating_note, f.rated_at = rating, note.strip()[:500] or None, now
            self.log(s, f, f.writer or WRITER, "rated", now, f.rating_note, rating=rating)
            record(s, "anonymous" if f.writer is None else f.writer, "feedback.rate", str(f.id))
            told = self.tell(
                f, "rated", f"【评价 {rating}/5】{f.title}", f.rating_note or "", [f.handler]
            )
            out = self.public(f, self.entries(s, f, everything=False))
        if told:
            self.announce(told)
        return out

    def photo(self, who: Principal | str, item_id: int | None, n: int) -> Path:
        """The file of an item's n-th photo, for its writer or its handlers."""
        with self._db.session() as s:
            f = s.get(FeedbackItem, item_id) if item_id is not None else None
            if isinstance(who, str) or f is None or not self.handles(who, f.category):
                f = self._writers(s, who, item_id)  # not its handler: its writer, or nothing
            if not 0 <= n < len(f.photos or []):
                raise NotFound("no such photo", key="not_found", what=f"#{n}")
            return self.photos / f.photos[n]

    def waiting_for_writer(self, who: Principal) -> list[dict[str, Any]]:
        """A named writer's items still open, or answered (or closed in the last fortnight)
        and not rated (the home's)."""
        recent = self.clock() - RATE_WITHIN
        q = (
            select(FeedbackItem)
            .where(
                FeedbackItem.writer == who.name,
                FeedbackItem.status.in_([*OPEN, ANSWERED])
                | (
                    (FeedbackItem.status == "closed")
                    & FeedbackItem.rating.is_(None)
                    & (FeedbackItem.closed_at >= recent)
                ),
            )
            .order_by(FeedbackItem.id.desc())
            .limit(20)
        )
        with self._db.session() as s:
            return [self.public(f) for f in s.scalars(q)]


def _on_earth(lat: float, lon: float) -> bool:
    """A latitude and longitude that can be a place (0, 0 is a tracker's missing fix)."""
    return -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0, 0)
