"""The window: issuing, handing over, suspending, revoking; expiry, reminders, purging."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.domain import Notice
from hub.errors import Conflict, Invalid
from hub.identity.roles import Principal, Role
from hub.services.permits.base import ENDED, LIVE, PermitsBase
from hub.storage.audit import record
from hub.storage.models import Permit


class Window(PermitsBase):
    """What the windows (and the hub's jobs) do to cards."""

    def issue(self, who: Principal, permit_id: int) -> dict[str, Any]:
        """Made and ready at the window: numbered, valid from now; its holder is told. A
        renewal replaces the card it renews."""
        now = self.clock()
        with self._db.session() as s:
            p = self._get(s, permit_id)
            self._window(who, p)
            if p.status != "approved":
                raise Conflict(
                    f"the application is {p.status}", key="permit.state", status_word=p.status
                )
            k = self.kinds[p.kind]
            p.status, p.issued_at = "issued", now
            p.valid_from, p.valid_until = now, now + timedelta(days=k.valid_days)
            p.number = f"{k.id.upper()[:3]}-{now.astimezone(self.tz):%Y}-{p.id:05d}"
            if p.renews is not None and (old := s.get(Permit, p.renews)) is not None:
                old.status, old.ended_at = "replaced", now
                self._log(s, old, who.name, "replaced", now, f"#{p.id}")
            self._log(s, p, who.name, "issued", now, number=p.number)
            record(s, who.name, "permit.issue", str(p.id), number=p.number, plate=p.plate)
            told = self._tell(p, "issued", f"编号 {p.number}", [p.holder])
            out = self._dict(s, p)
        if p.plate:
            self.plates_changed()  # this worker's gate knows the plate at once (others: 10 s)
        if told:
            self.announce(told)
        return out

    def act(self, who: Principal, permit_id: int, action: str, note: str = "") -> dict[str, Any]:
        """At the window: collected (handed over), suspend, resume, revoke. The holder: lost."""
        moves = {
            "collect": (("issued",), "collected"),
            "suspend": (LIVE, "suspended"),
            "resume": (("suspended",), None),
            "revoke": ((*LIVE, "suspended", "approved"), "revoked"),
            "lost": ((*LIVE, "suspended"), "lost"),
        }
        if action not in moves:
            raise Invalid(
                "collect, suspend, resume, revoke or lost", field="action", key="permit.action"
            )
        now = self.clock()
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if action == "lost":
                if p.holder != who.name and Role.ADMIN not in who.roles:
                    self._window(who, p)
            else:
                self._window(who, p)
            allowed, to = moves[action]
            if p.status not in allowed:
                raise Conflict(f"the card is {p.status}", key="permit.state", status_word=p.status)
            if action in ("suspend", "revoke") and not note.strip():
                raise Invalid("say why", field="note", key="permit.note")
            p.status = to or ("collected" if p.collected_at else "issued")
            if action == "collect":
                p.collected_at = now
            if p.status in ENDED:
                p.ended_at, p.reason = now, note.strip() or None
            self._log(s, p, who.name, action, now, note.strip() or None)
            record(s, who.name, f"permit.{action}", str(p.id), plate=p.plate)
            told = self._tell(p, action, note.strip(), [p.holder]) if action != "collect" else None
            out = self._dict(s, p)
        if p.plate and action == "resume":
            self.plates_changed()
        if told:
            self.announce(told)
        return out

    # -- the hub's jobs ---------------------------------------------------------------------
    def sweep(self) -> int:
        """Expire the cards past their validity; remind holders of those about to expire;
        how many changed."""
        now = self.clock()
        told: list[Notice | None] = []
        n = 0
        with self._db.session() as s:
            for p in s.scalars(
                select(Permit).where(
                    Permit.status.in_((*LIVE, "suspended")), Permit.valid_until <= now
                )
            ):
                p.status, p.ended_at = "expired", now
                self._log(s, p, "hub", "expired", now)
                n += 1
            for p in s.scalars(
                select(Permit).where(Permit.status.in_(LIVE), Permit.reminded_at.is_(None))
            ):
                k = self.kinds.get(p.kind)
                if k and p.valid_until and p.valid_until - timedelta(days=k.remind_days) <= now:
                    p.reminded_at = now
                    self._log(s, p, "hub", "reminded", now)
                    when = p.valid_until.astimezone(self.tz)
                    told.append(
                        self._tell(p, "renew", f"将于 {when:%Y-%m-%d} 到期，请及时续办", [p.holder])
                    )
                    n += 1
        for t in told:
            if t:
                self.announce(t)
        return n

    def purge(self, before: datetime) -> int:
        """Delete the documents' photos of applications decided (issued, refused, ended)
        before `before`: personal data kept no longer than it is needed."""
        n = 0
        with self._db.session() as s:
            q = select(Permit).where(
                Permit.purged_at.is_(None),
                Permit.status.not_in(("applied", "returned", "approved")),
                Permit.updated_at < before,
            )
            for p in s.scalars(q):
                for f in (p.documents or {}).values():
                    (self.files / f).unlink(missing_ok=True)
                p.documents, p.purged_at = {}, self.clock()
                n += 1
            if n:
                record(s, "hub", "permit.purge", "", permits=n, before=before.isoformat())
        return n
