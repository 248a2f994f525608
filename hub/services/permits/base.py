"""What the parts of the cards-and-permits service share: the kinds, the chain's deciders,
the window's roles, the permit as the API shows it, its history and inbox events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Forbidden, NotFound
from hub.identity.roles import Principal, Role
from hub.services.approvals import history
from hub.services.permits.credential import StaffCredentials
from hub.site import Site
from hub.site.permits import PermitKind, permit_kinds
from hub.storage import Database
from hub.storage.models import ApprovalStep, Permit, PermitEntry

Announce = Callable[[Notice], None]
LIVE = ("issued", "collected")  # valid cards: what the gate and the door lists honour
HELD = ("applied", "returned", "approved", "issued", "collected", "suspended")  # a plate's
ENDED = ("refused", "lost", "revoked", "expired", "replaced")
MAX_DOCUMENT = 6 * 1024 * 1024
WORDS = {
    "approved": "已通过",
    "returned": "退回修改",
    "refused": "未通过",
    "issued": "已制证，请到窗口领取",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PermitsBase:
    """The state and helpers every part uses."""

    def __init__(
        self,
        db: Database,
        site: Site,
        files: Path,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._db = db
        self.site = site
        self.files = files
        self.clock = clock
        self.kinds: dict[str, PermitKind] = permit_kinds(site)
        self.approvers = {u.id: list(u.approvers) for u in site.work_units}
        self.doors = {b.id for b in site.buildings} | {r.id for r in site.rooms}
        self.tz = ZoneInfo(site.site.timezone)
        self.announce: Announce = lambda _n: None
        self.credentials: StaffCredentials | None = None  # the phones' codes (assembled)
        self.plates_changed: Callable[[], None] = lambda: None  # the gate's index (assembled)

    # -- the chain --------------------------------------------------------------------------
    def deciders(self, p: Permit) -> tuple[list[str], str | None]:
        """Who takes the permit's next step: a unit's approvers (usernames), or a role."""
        chain = self.kinds[p.kind].chain
        if p.step >= len(chain):
            return [], None
        step = chain[p.step]
        if step == "unit":
            names = [a for a in self.approvers.get(p.unit or "", []) if a != p.holder]
            return (names, None) if names else ([], Role.ADMIN.value)
        return [], step

    def may_decide(self, who: Principal, p: Permit) -> bool:
        """Whether `who` takes the permit's next step (never their own)."""
        if p.status != "applied" or who.name == p.holder:
            return False
        names, role = self.deciders(p)
        return (
            who.name in names
            or (role is not None and role in {r.value for r in who.roles})
            or (Role.ADMIN in who.roles)
        )

    # -- the window -------------------------------------------------------------------------
    def _window(self, who: Principal, p: Permit) -> None:
        if Role.ADMIN in who.roles or self.kinds[p.kind].issuer in {r.value for r in who.roles}:
            return
        raise Forbidden("the window that issues this kind does this", key="forbidden")

    def decides_anything(self, who: Principal) -> bool:
        """Whether `who` may take some step of some chain: a unit's approver, a holder of a
        chain's role, an administrator (the fall-back of a unit without approvers)."""
        if Role.ADMIN in who.roles or any(who.name in a for a in self.approvers.values()):
            return True
        roles = {r.value for r in who.roles}
        return any(roles & set(k.chain) for k in self.kinds.values())

    def _sees_register(self, who: Principal, p: Permit | None = None) -> bool:
        roles = {r.value for r in who.roles}
        if Role.ADMIN in who.roles or Role.MANAGER in who.roles:
            return True
        issuers = (
            {k.issuer for k in self.kinds.values()} if p is None else {self.kinds[p.kind].issuer}
        )
        return bool(roles & issuers) or (
            p is not None and p.kind in self.kinds and bool(roles & set(self.kinds[p.kind].chain))
        )

    # -- the gate ---------------------------------------------------------------------------
    @staticmethod
    def for_plate(s: Session, plate: str, now: datetime) -> Permit | None:
        """The valid parking permit of a plate now (read in the gate's own transaction)."""
        q = select(Permit).where(
            Permit.plate == plate,
            Permit.status.in_(LIVE),
            Permit.valid_from <= now,
            Permit.valid_until > now,
        )
        return s.scalar(q.limit(1))

    @staticmethod
    def plates(s: Session, now: datetime) -> list[str]:
        """The plates holding valid parking permits (for the gate's matching of camera reads)."""
        q = select(Permit.plate).where(
            Permit.plate.is_not(None), Permit.status.in_(LIVE), Permit.valid_until > now
        )
        return [p for p in s.scalars(q) if p]

    # -- helpers ----------------------------------------------------------------------------
    def _get(self, s: Session, permit_id: int) -> Permit:
        p = s.get(Permit, permit_id)
        if p is None:
            raise NotFound(f"no permit {permit_id}", key="not_found", what=f"#{permit_id}")
        return p

    @staticmethod
    def _log(
        s: Session,
        p: Permit,
        actor: str,
        action: str,
        now: datetime,
        note: str | None = None,
        **detail: Any,
    ) -> None:
        s.add(
            PermitEntry(
                permit_id=p.id, ts=now, actor=actor, action=action, note=note, detail=detail
            )
        )
        p.updated_at = now

    def _tell(self, p: Permit, what: str, body: str, people: Sequence[str | None]) -> Notice | None:
        names = tuple(sorted({x for x in people if x}))
        if not names:
            return None
        k = self.kinds[p.kind]
        word = WORDS.get(
            what,
            {
                "to_approve": "待审批",
                "renew": "续办提醒",
                "suspend": "已暂停",
                "resume": "已恢复",
                "revoke": "已注销",
                "lost": "已挂失",
            }.get(what, what),
        )
        return Notice(
            topic=f"permit.{what}",
            subject=f"【{k.name}】{word}",
            body=body,
            ts=self.clock(),
            notify=names,
            key=f"permit:{p.id}:{what}:{p.updated_at.isoformat()}",
            link=f"/permits.html#permit={p.id}",
        )

    def _dict(self, s: Session, p: Permit, *, full: bool = False) -> dict[str, Any]:
        k = self.kinds.get(p.kind)
        names, role = self.deciders(p) if p.status == "applied" else ([], None)
        out: dict[str, Any] = {
            "id": p.id,
            "kind": p.kind,
            "kind_name": k.name if k else p.kind,
            "holder": p.holder,
            "unit": p.unit,
            "status": p.status,
            "step": p.step,
            "steps": len(k.chain) if k else 0,
            "waiting_for": names or ([role] if role else []),
            "plate": p.plate,
            "doors": p.doors or [],
            "documents": sorted(p.documents or {}),
            "note": p.note,
            "number": p.number,
            "renews": p.renews,
            "reason": p.reason,
            "applied_at": p.applied_at.isoformat(),
            "issued_at": _iso(p.issued_at),
            "collected_at": _iso(p.collected_at),
            "valid_from": _iso(p.valid_from),
            "valid_until": _iso(p.valid_until),
            "ended_at": _iso(p.ended_at),
        }
        if full:
            steps = list(
                s.scalars(
                    select(ApprovalStep)
                    .where(ApprovalStep.kind == "permit", ApprovalStep.subject == str(p.id))
                    .order_by(ApprovalStep.step)
                )
            )
            log = s.scalars(
                select(PermitEntry)
                .where(PermitEntry.permit_id == p.id)
                .order_by(PermitEntry.ts, PermitEntry.id)
            )
            out["approvals"] = history(steps)
            out["log"] = [
                {"ts": e.ts.isoformat(), "actor": e.actor, "action": e.action, "note": e.note}
                for e in log
            ]
        return out


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None
