"""Applying for a card or permit, and its chain of approvals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid
from hub.identity.roles import Principal
from hub.services.gate.plates import normalise
from hub.services.images import NotAnImage, clean_photo, keep_photo, photo_bytes
from hub.services.permits.base import HELD, LIVE, MAX_DOCUMENT, PermitsBase
from hub.site.permits import DOCUMENTS, PermitKind
from hub.storage.audit import record
from hub.storage.models import ApprovalStep, Permit


class Applying(PermitsBase):
    """Applications and their approvals."""

    # -- applying ---------------------------------------------------------------------------
    def apply(
        self,
        who: Principal,
        kind: str,
        *,
        documents: dict[str, str] | None = None,
        plate: str | None = None,
        doors: Sequence[str] = (),
        note: str = "",
        renews: int | None = None,
    ) -> dict[str, Any]:
        """An application, with every document the kind asks for (photos: data URLs); a
        parking permit's plate, door access's doors. Nothing is kept if anything is wrong."""
        k = self._kind(kind)
        docs = documents or {}
        missing = [d for d in k.documents if not docs.get(d)]
        if missing:
            raise Invalid(
                f"the application needs {', '.join(missing)}",
                field="documents",
                key="permit.document",
                document=DOCUMENTS[missing[0]],
                document_en=missing[0].replace("_", " "),
            )
        stray = [d for d in docs if d not in k.documents]
        if stray:
            raise Invalid(f"{stray[0]} is not asked for", field="documents", key="permit.stray")
        if renews is not None:  # a renewal carries the card's plate and doors unless changed
            with self._db.session() as s:
                card = self._renewing(s, who, k, renews)
                plate, doors = plate or card.plate, doors or list(card.doors or [])
        normal = self._plate(k, plate)
        doors = self._doors(k, doors)
        cleaned = {d: self._document(docs[d]) for d in k.documents}
        now = self.clock()
        with self._db.session() as s:
            old = self._renewing(s, who, k, renews) if renews is not None else None
            if normal:
                self._plate_free(s, normal, old.id if old else None)
            p = Permit(
                kind=k.id,
                holder=who.name,
                unit=who.work_unit,
                status="applied",
                step=0,
                plate=normal or (old.plate if old else None),
                doors=doors or (old.doors if old else []),
                documents={},
                note=note.strip()[:1000],
                renews=old.id if old else None,
                applied_at=now,
                updated_at=now,
            )
            s.add(p)
            s.flush()
            p.documents = {
                d: keep_photo(self.files, f"p{p.id}-{d}", data) for d, data in cleaned.items()
            }
            self._log(s, p, who.name, "applied", now, renews=p.renews)
            record(s, who.name, "permit.apply", str(p.id), kind=k.id)
            told = self._advance(s, p, now) if not k.chain else self._tell_deciders(s, p)
            out = self._dict(s, p)
        if told:
            self.announce(told)
        return out

    def _kind(self, kind: str) -> PermitKind:
        if kind not in self.kinds:
            raise Invalid(f"no kind {kind!r}", field="kind", key="permit.kind")
        return self.kinds[kind]

    def _plate(self, k: PermitKind, plate: str | None) -> str | None:
        if not k.plate:
            if plate:
                raise Invalid("this kind takes no plate", field="plate", key="permit.stray")
            return None
        normal = normalise(plate or "")
        if not normal or len(normal) < 5:
            raise Invalid(
                "a parking permit needs the car's plate", field="plate", key="permit.plate"
            )
        return normal

    def _doors(self, k: PermitKind, doors: Sequence[str]) -> list[str]:
        if not k.doors:
            if doors:
                raise Invalid("this kind opens no doors", field="doors", key="permit.stray")
            return []
        unknown = [d for d in doors if d not in self.doors]
        if unknown or not doors:
            raise Invalid("name the buildings or rooms", field="doors", key="permit.doors")
        return list(dict.fromkeys(doors))

    @staticmethod
    def _document(data_url: str) -> bytes:
        try:
            data = photo_bytes(data_url)
            if len(data) > MAX_DOCUMENT:
                raise Invalid(
                    "a document's photo is too large", field="documents", key="permit.size"
                )
            return clean_photo(data)
        except NotAnImage as err:
            raise Invalid(f"document: {err}", field="documents", key="permit.photo") from None

    def _plate_free(self, s: Session, plate: str, renewing: int | None) -> None:
        q = select(Permit.id).where(Permit.plate == plate, Permit.status.in_(HELD))
        other = [i for i in s.scalars(q) if i != renewing]
        if other:
            raise Conflict(
                f"{plate} holds a permit already (#{other[0]})",
                key="permit.plate_taken",
                plate=plate,
            )

    def _renewing(self, s: Session, who: Principal, k: PermitKind, renews: int) -> Permit:
        old = s.get(Permit, renews)
        if old is None or old.holder != who.name or old.kind != k.id or old.status not in LIVE:
            raise Conflict("only a valid card of yours is renewed", key="permit.renew")
        return old

    def decide(self, who: Principal, permit_id: int, action: str, note: str = "") -> dict[str, Any]:
        """approve (the next step, or through), return (for changes, with a note) or refuse
        (with a reason)."""
        if action not in ("approve", "return", "refuse"):
            raise Invalid("approve, return or refuse", field="action", key="permit.action")
        if action != "approve" and not note.strip():
            raise Invalid("say why", field="note", key="permit.note")
        now = self.clock()
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if p.status != "applied":
                raise Conflict(
                    f"the application is {p.status}", key="permit.state", status_word=p.status
                )
            if not self.may_decide(who, p):
                names, role = self.deciders(p)
                raise Forbidden(
                    "this step is not yours",
                    key="approval.not_yours",
                    whom=", ".join(names) or role or "",
                )
            s.add(
                ApprovalStep(
                    kind="permit",
                    subject=str(p.id),
                    unit=p.unit,
                    step=p.step + 1,
                    approver=who.name,
                    approved=action == "approve",
                    note=note.strip(),
                    at=now,
                )
            )
            record(s, who.name, f"permit.{action}", str(p.id))
            if action == "approve":
                p.step += 1
                self._log(s, p, who.name, "approved", now, note.strip() or None, step=p.step)
                told = self._advance(s, p, now)
            else:
                p.status = "returned" if action == "return" else "refused"
                p.reason = note.strip()
                p.ended_at = now if action == "refuse" else None
                self._log(s, p, who.name, p.status, now, note.strip())
                told = self._tell(p, p.status, note.strip(), [p.holder])
            out = self._dict(s, p)
        if told:
            self.announce(told)
        return out

    def _advance(self, s: Session, p: Permit, now: datetime) -> Notice | None:
        """Through the chain: approved (the window is told); else the next deciders are."""
        if p.step < len(self.kinds[p.kind].chain):
            return self._tell_deciders(s, p)
        p.status, p.approved_at = "approved", now
        issuer = self.kinds[p.kind].issuer
        return self._tell(p, "approved", "请制证", [p.holder, f"role:{issuer}"])

    def _tell_deciders(self, s: Session, p: Permit) -> Notice | None:
        names, role = self.deciders(p)
        return self._tell(
            p, "to_approve", f"{p.holder} 申请", [*names, *([f"role:{role}"] if role else [])]
        )

    def resubmit(
        self,
        who: Principal,
        permit_id: int,
        *,
        documents: dict[str, str] | None = None,
        plate: str | None = None,
        doors: Sequence[str] | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """A returned application, changed and sent again (its chain from the start)."""
        now = self.clock()
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if p.holder != who.name or p.status != "returned":
                raise Conflict(
                    "only a returned application of yours", key="permit.state", status_word=p.status
                )
            k = self.kinds[p.kind]
            if plate is not None and k.plate:
                p.plate = self._plate(k, plate)
                self._plate_free(s, p.plate or "", p.id)
            if doors is not None and k.doors:
                p.doors = self._doors(k, doors)
            for d, url in (documents or {}).items():
                if d not in k.documents:
                    raise Invalid(f"{d} is not asked for", field="documents", key="permit.stray")
                p.documents = {
                    **p.documents,
                    d: keep_photo(self.files, f"p{p.id}-{d}", self._document(url)),
                }
            if note is not None:
                p.note = note.strip()[:1000]
            p.status, p.step, p.reason = "applied", 0, None
            self._log(s, p, who.name, "resubmitted", now)
            told = self._advance(s, p, now) if not k.chain else self._tell_deciders(s, p)
            out = self._dict(s, p)
        if told:
            self.announce(told)
        return out
