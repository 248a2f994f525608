"""Visits: a host registers visitors (name, phone, ID number, company, car plate) for a time
window; the host is responsible (谁预约谁负责). Big groups and long visits wait for the host
unit's approvers. Personal data: ID numbers are kept as a keyed hash and their last four
characters only, visitors are visible to their host, the host's unit's approvers, security
and administrators, and personal data is purged after the retention period."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.approvals import Approvals, Request
from hub.services.gate import passes
from hub.services.gate.plates import PlateError, parse
from hub.settings import GateSettings
from hub.site import Site
from hub.storage import Database
from hub.storage.audit import record
from hub.storage.models import Visit, Visitor

PURGED = "（已清除）"
SEES_ALL = frozenset({Role.ADMIN, Role.SECURITY})


@dataclass(frozen=True, slots=True)
class VisitorIn:
    """A visitor as the host registers them."""

    name: str
    phone: str = ""
    id_number: str | None = None
    company: str = ""
    plate: str | None = None


def mask(name: str) -> str:
    """A display label for screens and logs: 王小明 -> 王**, John Smith -> J*** S****."""
    if name == PURGED:
        return name
    if all(ord(c) > 0x2E80 for c in name.replace(" ", "")):
        return name[:1] + "*" * (len(name) - 1)
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in name.split())


def visitor_dict(v: Visitor, full: bool) -> dict[str, Any]:
    """A visitor as the API shows it: `full` for those who may see the personal data."""
    out: dict[str, Any] = {
        "id": v.id,
        "visit_id": v.visit_id,
        "label": mask(v.name),
        "status": v.status,
        "inside": v.inside,
        "car_inside": v.car_inside,
        "entries_allowed": v.entries_allowed,
        "entries_used": v.entries_used,
        "car_entries_used": v.car_entries_used,
        "pass_revoked": v.pass_revoked,
        "arrived_at": v.arrived_at.isoformat() if v.arrived_at else None,
        "left_at": v.left_at.isoformat() if v.left_at else None,
        "purged": v.purged_at is not None,
    }
    if full:
        out.update(
            name=v.name,
            phone=v.phone,
            company=v.company,
            id_last4=v.id_last4,
            plate=v.plate,
        )
    return out


def visit_dict(visit: Visit, visitors: Sequence[Visitor], full: bool) -> dict[str, Any]:
    """A visit and its visitors."""
    return {
        "id": visit.id,
        "host": visit.host,
        "host_unit": visit.host_unit,
        "purpose": visit.purpose,
        "start": visit.start.isoformat(),
        "end": visit.end.isoformat(),
        "gates": visit.gates,
        "status": visit.status,
        "approved_by": visit.approved_by,
        "visitors": [visitor_dict(v, full) for v in visitors],
    }


class VisitService:
    """Visits and their visitors in the relational database; every change audited."""

    def __init__(
        self,
        db: Database,
        site: Site,
        settings: GateSettings,
        *,
        secret: bytes,
        key: Ed25519PrivateKey,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self.site = site
        self.settings = settings
        self.units = {u.id: u for u in site.work_units}
        self.approvals = Approvals(site)
        self.gates = {g.id for g in site.gates}
        self._id_key = hmac.new(secret, b"dayuan-hub visitor id numbers", hashlib.sha256).digest()
        self.key = key
        self.clock = clock
        self.listeners: list[Callable[[], None]] = []  # told of every change (the gate's index)

    def _changed(self) -> None:
        for listener in self.listeners:
            listener()

    def id_hash(self, id_number: str) -> str:
        """The keyed hash an ID number is kept as (the same number gives the same hash)."""
        norm = id_number.strip().upper().replace(" ", "")
        return hmac.new(self._id_key, norm.encode(), hashlib.sha256).hexdigest()

    # -- who may see what --------------------------------------------------------------------
    def _approver_units(self, who: Principal) -> list[str]:
        return [u.id for u in self.units.values() if who.name in u.approvers]

    def _visible(self, who: Principal) -> ColumnElement[bool]:
        if who.roles & SEES_ALL:
            return true()
        units = self._approver_units(who)
        return (
            or_(Visit.host == who.name, Visit.host_unit.in_(units))
            if units
            else (Visit.host == who.name)
        )

    def _may_see(self, visit: Visit, who: Principal) -> bool:
        return bool(
            who.roles & SEES_ALL
            or visit.host == who.name
            or visit.host_unit in self._approver_units(who)
        )

    # -- registering -----------------------------------------------------------------------------
    def register(
        self,
        who: Principal,
        *,
        purpose: str,
        start: datetime,
        end: datetime,
        visitors: Sequence[VisitorIn],
        gates: Sequence[str] = (),
        entries: int = 1,
    ) -> dict[str, Any]:
        """Invite visitors; big groups and long visits wait for the unit's approvers."""
        now = self.clock()
        if end <= start:
            raise Invalid("a visit ends after it starts", field="end", key="visit.order")
        if end < now:
            raise Invalid("the visit is over already", field="end", key="visit.over")
        if end - start > timedelta(days=31):
            raise Invalid("a visit lasts at most 31 days", field="end")
        if not visitors:
            raise Invalid("name at least one visitor", field="visitors")
        if unknown := sorted(set(gates) - self.gates):
            raise Invalid(f"no gate {', '.join(unknown)}", field="gates")
        rows = []
        for i, v in enumerate(visitors):
            plate = None
            if v.plate:
                try:
                    plate, _ = parse(v.plate)
                except PlateError as err:
                    raise Invalid(
                        str(err), field=f"visitors[{i}].plate", key=err.key, **err.params
                    ) from None
            id_hash = last4 = None
            if v.id_number:
                norm = v.id_number.strip().upper().replace(" ", "")
                if not 6 <= len(norm) <= 32 or not norm.isalnum():
                    raise Invalid(
                        "an ID number is 6 to 32 letters or digits",
                        field=f"visitors[{i}].id_number",
                    )
                id_hash, last4 = self.id_hash(norm), norm[-4:]
            rows.append(
                Visitor(
                    name=v.name.strip(),
                    phone=v.phone.strip(),
                    company=v.company.strip(),
                    id_hash=id_hash,
                    id_last4=last4,
                    plate=plate,
                    pass_id=secrets.token_urlsafe(12),
                    entries_allowed=entries,
                )
            )
        days = (end - start).total_seconds() / 86400
        needs = len(rows) > self.settings.approval_over_visitors or (
            days > self.settings.approval_over_days
        )
        # a big or long visit always waits: for the unit's approvers (never the host), or
        # for security where the unit has no other approver
        status = "invited" if needs else "approved"
        with self._db.session() as s:
            visit = Visit(
                host=who.name,
                host_unit=who.work_unit,
                purpose=purpose,
                start=start,
                end=end,
                gates=list(gates),
                status=status,
            )
            s.add(visit)
            s.flush()
            for r in rows:
                r.visit_id = visit.id
            s.add_all(rows)
            s.flush()
            record(s, who.name, "visit.register", str(visit.id), visitors=len(rows), status=status)
            out = visit_dict(visit, rows, True)
        self._changed()  # after the commit
        return out

    def _get(self, s: Session, visit_id: int, who: Principal) -> Visit:
        visit = s.get(Visit, visit_id)
        if visit is None or not self._may_see(visit, who):
            raise NotFound(f"no visit {visit_id}")
        return visit

    def _visitors(self, s: Session, visit_id: int) -> list[Visitor]:
        return list(
            s.scalars(select(Visitor).where(Visitor.visit_id == visit_id).order_by(Visitor.id))
        )

    def decide(self, who: Principal, visit_id: int, approve: bool) -> dict[str, Any]:
        """The host unit's approvers approve or refuse a visit that needs it."""
        with self._db.session() as s:
            visit = self._get(s, visit_id, who)
            request = Request("visit", str(visit.id), visit.host_unit, visit.host)
            self.approvals.decide(s, request, who, approve, self.clock())  # 403 for anyone else
            if visit.status != "invited":
                raise Conflict(f"visit {visit_id} is {visit.status}")
            visit.status = "approved" if approve else "cancelled"
            visit.approved_by = who.name
            record(s, who.name, "visit.approve" if approve else "visit.refuse", str(visit_id))
            out = visit_dict(visit, self._visitors(s, visit_id), True)
        self._changed()  # after the commit
        return out

    def cancel(self, who: Principal, visit_id: int) -> dict[str, Any]:
        """The host (or security) calls the visit off: every pass is revoked."""
        with self._db.session() as s:
            visit = self._get(s, visit_id, who)
            if visit.host != who.name and not who.roles & SEES_ALL:
                raise Forbidden("the host or security may cancel a visit")
            visit.status = "cancelled"
            people = self._visitors(s, visit_id)
            for v in people:
                v.pass_revoked = True
            record(s, who.name, "visit.cancel", str(visit_id))
            out = visit_dict(visit, people, True)
        self._changed()  # after the commit
        return out

    def revoke(self, who: Principal, visitor_id: int) -> dict[str, Any]:
        """Revoke one visitor's pass."""
        with self._db.session() as s:
            v = s.get(Visitor, visitor_id)
            visit = self._get(s, v.visit_id, who) if v else None
            if v is None or visit is None:
                raise NotFound(f"no visitor {visitor_id}")
            if visit.host != who.name and not who.roles & SEES_ALL:
                raise Forbidden("the host or security may revoke a pass")
            v.pass_revoked = True
            record(s, who.name, "visit.revoke", str(visitor_id))
            out = visitor_dict(v, True)
        self._changed()  # after the commit
        return out

    # -- passes ----------------------------------------------------------------------------------
    def pass_token(self, who: Principal, visitor_id: int) -> dict[str, Any]:
        """The visitor's signed pass (for the host to send on: a link and a QR code)."""
        with self._db.session() as s:
            v = s.get(Visitor, visitor_id)
            visit = self._get(s, v.visit_id, who) if v else None
            if v is None or visit is None:
                raise NotFound(f"no visitor {visitor_id}")
            if visit.status != "approved":
                raise Conflict(f"the visit is {visit.status}: no pass yet")
            if v.pass_revoked:
                raise Conflict("this pass is revoked")
            early = timedelta(minutes=self.settings.early_min)
            claims = passes.PassClaims(
                pass_id=v.pass_id,
                visitor=v.id,
                visit=visit.id,
                gates=tuple(visit.gates),
                entries=v.entries_allowed,
                label=mask(v.name),
                not_before=visit.start - early,
                expires=visit.end,
            )
            return {
                "token": passes.issue(self.key, claims),
                "label": claims.label,
                "valid_from": claims.not_before.isoformat(),
                "valid_until": visit.end.isoformat(),
            }

    # -- reading -----------------------------------------------------------------------------------
    def get(self, who: Principal, visit_id: int) -> dict[str, Any]:
        """One visit (404 also for one the asker may not see)."""
        with self._db.session() as s:
            visit = self._get(s, visit_id, who)
            return visit_dict(visit, self._visitors(s, visit_id), True)

    def find(
        self, who: Principal, *, day_from: datetime | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Visits the asker may see, newest first."""
        q = select(Visit).where(self._visible(who)).order_by(Visit.start.desc()).limit(limit)
        if day_from is not None:
            q = q.where(Visit.end >= day_from)
        with self._db.session() as s:
            visits = list(s.scalars(q))
            people: dict[int, list[Visitor]] = {v.id: [] for v in visits}
            ids = list(people)  # one query for every visit's visitors
            for v in s.scalars(
                select(Visitor).where(Visitor.visit_id.in_(ids)).order_by(Visitor.id)
            ):
                people[v.visit_id].append(v)
            return [visit_dict(visit, people[visit.id], True) for visit in visits]

    def roster(self) -> list[dict[str, Any]]:
        """Who is inside now (labels only: the screens show this)."""
        with self._db.session() as s:
            q = (
                select(Visitor, Visit)
                .join(Visit, Visit.id == Visitor.visit_id)
                .where(or_(Visitor.inside, Visitor.car_inside))
            )
            return [
                {**visitor_dict(v, False), "host": visit.host, "until": visit.end.isoformat()}
                for v, visit in s.execute(q)
            ]

    # -- retention ---------------------------------------------------------------------------------
    def purge(self, now: datetime | None = None) -> int:
        """Remove the personal data of visits that ended more than `retention_days` ago
        (names, phones, companies, ID hashes and last digits, plates); counts stay."""
        now = now or self.clock()
        cutoff = now - timedelta(days=self.settings.retention_days)
        with self._db.session() as s:
            q = (
                select(Visitor)
                .join(Visit, Visit.id == Visitor.visit_id)
                .where(Visit.end < cutoff, Visitor.purged_at.is_(None))
            )
            rows = list(s.scalars(q))
            for v in rows:
                v.name, v.phone, v.company = PURGED, "", ""
                v.id_hash = v.id_last4 = v.plate = None
                v.purged_at = now
            if rows:
                record(s, "gate", "visit.purge", "", visitors=len(rows), before=cutoff.isoformat())
            out = len(rows)
        self._changed()  # after the commit
        return out
