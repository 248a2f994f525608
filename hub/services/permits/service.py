"""Cards and permits (卡证办理): a person applies from their phone with the documents the kind
asks for; the kind's chain approves (their unit's approvers, then the back office), returns it
for changes or refuses it; the window issues it (the holder is told it is ready) and hands it
over; it is renewed before it expires (the holder reminded), reported lost, suspended, revoked.
What a permit does: an issued parking permit's plate opens the gate while it is valid (the
gate asks at every decision, so a revocation holds at once on every hub worker); door access
is exported per door for the access-control system."""

from __future__ import annotations

import statistics
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.errors import Forbidden, NotFound
from hub.identity.roles import Principal, Role
from hub.services.periods import by_month, period_at
from hub.services.permits.applying import Applying
from hub.services.permits.base import LIVE
from hub.services.permits.window import Window
from hub.storage.models import Permit


class Permits(Applying, Window):
    """Applications, approvals, the window and the register."""

    # -- reading ----------------------------------------------------------------------------
    def mine(self, who: Principal) -> list[dict[str, Any]]:
        """This person's cards and applications, newest first."""
        q = select(Permit).where(Permit.holder == who.name).order_by(Permit.id.desc()).limit(100)
        with self._db.session() as s:
            return [self._dict(s, p) for p in s.scalars(q)]

    def one(self, who: Principal, permit_id: int) -> dict[str, Any]:
        """A card or application with its history: its holder's, its deciders', the window's."""
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if not (p.holder == who.name or self.may_decide(who, p) or self._sees_register(who, p)):
                raise NotFound(f"no permit {permit_id}", key="not_found", what=f"#{permit_id}")
            return self._dict(s, p, full=True)

    def waiting_for(self, who: Principal) -> list[dict[str, Any]]:
        """Applications whose next step is this person's (the home's approvals)."""
        if not self.decides_anything(who):
            return []  # most staff decide nothing: no search through the applications
        with self._db.session() as s:
            q = select(Permit).where(Permit.status == "applied").order_by(Permit.id).limit(500)
            return [self._dict(s, p) for p in s.scalars(q) if self.may_decide(who, p)]

    def register(
        self, who: Principal, *, kind: str | None = None, status: str | None = None, q: str = ""
    ) -> list[dict[str, Any]]:
        """Every card and application the reader's window (or a manager, an administrator)
        sees, newest first."""
        if not self._sees_register(who):
            raise Forbidden("the windows and managers read the register", key="forbidden")
        query = select(Permit).order_by(Permit.id.desc()).limit(500)
        if kind:
            query = query.where(Permit.kind == kind)
        if status:
            query = query.where(Permit.status == status)
        if q.strip():
            like = f"%{q.strip()}%"
            query = query.where(
                Permit.holder.like(like)
                | Permit.plate.like(like.upper())
                | Permit.number.like(like)
            )
        with self._db.session() as s:
            return [self._dict(s, p) for p in s.scalars(query) if self._sees_register(who, p)]

    def figures(self, who: Principal, year: int) -> dict[str, Any]:
        """Per kind and month: applications, issued, refused, and the days from application to
        issue (median and mean)."""
        if not self._sees_register(who):
            raise Forbidden("the windows and managers read the figures", key="forbidden")
        span = period_at("year", date(year, 1, 1), self.tz)

        def new() -> dict[str, Any]:
            return {"applied": 0, "issued": 0, "refused": 0, "days": []}

        def add(c: dict[str, Any], p: Permit) -> None:
            c["applied"] += 1
            c["refused"] += p.status == "refused"
            if p.issued_at is not None:
                c["issued"] += 1
                c["days"].append((p.issued_at - p.applied_at).total_seconds() / 86400)

        with self._db.session() as s:
            q = select(Permit).where(Permit.applied_at >= span.start, Permit.applied_at < span.end)
            cells = by_month(
                s.scalars(q),
                lambda p: p.applied_at,
                lambda p: p.kind,
                self.tz,
                new,
                add,
            )
        rows = []
        for month, kind, c in cells:
            days = c.pop("days")
            rows.append(
                {
                    "month": month,
                    "kind": kind,
                    **c,
                    "days_median": round(statistics.median(days), 2) if days else None,
                    "days_mean": round(statistics.fmean(days), 2) if days else None,
                }
            )
        return {"year": year, "kinds": {k: v.name for k, v in self.kinds.items()}, "rows": rows}

    def door_list(
        self, who: Principal, now: datetime | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Per door (building or room), the valid door-access permits: for the access-control
        system."""
        if not (Role.ADMIN in who.roles or Role.SECURITY in who.roles):
            raise Forbidden("security exports door access", key="forbidden")
        now = now or self.clock()
        out: dict[str, list[dict[str, Any]]] = {}
        with self._db.session() as s:
            q = select(Permit).where(
                Permit.status.in_(LIVE), Permit.valid_until > now, Permit.valid_from <= now
            )
            for p in s.scalars(q.order_by(Permit.id)):
                for door in p.doors or []:
                    out.setdefault(door, []).append(
                        {
                            "number": p.number,
                            "holder": p.holder,
                            "unit": p.unit,
                            "valid_until": p.valid_until.isoformat() if p.valid_until else None,
                        }
                    )
        return out

    def document(self, who: Principal, permit_id: int, name: str) -> Path:
        """A document's photo, for the holder, the deciders and the window."""
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if not (p.holder == who.name or self.may_decide(who, p) or self._sees_register(who, p)):
                raise NotFound(f"no permit {permit_id}", key="not_found", what=f"#{permit_id}")
            if name not in (p.documents or {}):
                raise NotFound("no such document", key="not_found", what=name)
            return self.files / p.documents[name]
