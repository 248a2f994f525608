"""One approval chain for every kind of request: who may approve what, per work unit and kind,
and the history of every decision (the `approval_steps` table).

    kind     mode   the chain                                  when the unit has no one else
    room     any    the room's owning unit's approvers          an administrator
    vehicle  each   the requester's unit's approvers, in order  an administrator
    visit    any    the host's unit's approvers                 security

Nobody approves their own request: a requester who is one of the unit's approvers is left out
of the chain, and when that empties it the request waits for the fall-back instead of
approving itself. An administrator may act for any step. Each service keeps its own words for
where a request stands (a booking is `pending`, a visit `invited`); this module decides whether
a decision is allowed, what it makes of the request, and records it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Conflict, Forbidden
from hub.identity.roles import Principal, Role
from hub.site import Site
from hub.storage.models import ApprovalStep


class Mode(enum.StrEnum):
    """How a chain is walked."""

    ANY = "any"  # one approval of any approver decides
    EACH = "each"  # every approver in turn, in the site file's order


@dataclass(frozen=True)
class Policy:
    """How requests of a kind are approved."""

    kind: str
    mode: Mode
    fallback: Role  # decides when the unit has no approver but the requester


POLICIES = {
    "room": Policy("room", Mode.ANY, Role.ADMIN),
    "vehicle": Policy("vehicle", Mode.EACH, Role.ADMIN),
    "visit": Policy("visit", Mode.ANY, Role.SECURITY),
}


class Outcome(enum.StrEnum):
    """What a decision made of the request."""

    APPROVED = "approved"  # the chain is through
    REJECTED = "rejected"
    PENDING = "pending"  # approved at this step; the next approver's turn


@dataclass(frozen=True)
class Request:
    """What the chain needs of a request: its kind and id, the unit whose approvers decide,
    and who asked."""

    kind: str
    subject: str
    unit: str | None
    requester: str


class Approvals:
    """The site's approval chains, and the decisions on them (in the caller's transaction)."""

    def __init__(self, site: Site) -> None:
        self.approvers = {u.id: list(u.approvers) for u in site.work_units}

    def chain(self, r: Request) -> list[str]:
        """The approvers the request walks, in order, without its requester."""
        return [a for a in self.approvers.get(r.unit or "", []) if a != r.requester]

    def waits(self, r: Request) -> bool:
        """Whether the request must wait for someone: its unit has approvers (even if the
        requester is the only one: then the fall-back decides)."""
        return bool(self.approvers.get(r.unit or ""))

    def deciders(self, r: Request, step: int) -> tuple[list[str], Role]:
        """Who may take the step (0 = the first): the approvers, and the role that may act
        for them (the fall-back when there is no one else; administrators always)."""
        chain = self.chain(r)
        policy = POLICIES[r.kind]
        if not chain:
            return [], policy.fallback
        if policy.mode is Mode.EACH:
            return ([chain[step]] if step < len(chain) else []), Role.ADMIN
        return chain, Role.ADMIN

    def approves_anything(self, who: Principal) -> bool:
        """Whether `who` may decide some request at all: a unit's approver, a holder of a
        fall-back role, an administrator (most staff: no, and their home skips the search)."""
        if any(who.name in names for names in self.approvers.values()):
            return True
        fallbacks = {p.fallback for p in POLICIES.values()} | {Role.ADMIN}
        return bool(who.roles & fallbacks)

    def may_decide(self, who: Principal, r: Request, step: int) -> bool:
        """Whether `who` may take the step (never on their own request)."""
        if who.name == r.requester:
            return False
        names, role = self.deciders(r, step)
        return who.name in names or role in who.roles or Role.ADMIN in who.roles

    def steps(self, s: Session, r: Request) -> list[ApprovalStep]:
        """The decisions taken on the request, in order."""
        q = (
            select(ApprovalStep)
            .where(ApprovalStep.kind == r.kind, ApprovalStep.subject == r.subject)
            .order_by(ApprovalStep.step, ApprovalStep.id)
        )
        return list(s.scalars(q))

    def decide(
        self, s: Session, r: Request, who: Principal, approve: bool, now: datetime, note: str = ""
    ) -> Outcome:
        """Record `who`'s decision on the request's next step: Forbidden for someone who may
        not take it (the requester included), Conflict once the chain is decided."""
        if who.name == r.requester:
            raise Forbidden("nobody approves their own request", key="approval.own")
        done = self.steps(s, r)
        if any(not d.approved for d in done):
            raise Conflict(f"this {r.kind} request was rejected already", key="approval.rejected")
        step = len(done)
        if step and self._through(r, step):
            raise Conflict(f"this {r.kind} request is approved already", key="approval.done")
        if not self.may_decide(who, r, step):
            names, role = self.deciders(r, step)
            whom = ", ".join(names) or f"{role.value} (the unit has no other approver)"
            raise Forbidden(
                f"this step is for {whom} to decide",
                key="approval.not_yours",
                whom=", ".join(names) or role.value,
            )
        s.add(
            ApprovalStep(
                kind=r.kind,
                subject=r.subject,
                unit=r.unit,
                step=step + 1,
                approver=who.name,
                approved=approve,
                note=note,
                at=now,
            )
        )
        if not approve:
            return Outcome.REJECTED
        return Outcome.APPROVED if self._through(r, step + 1) else Outcome.PENDING

    def _through(self, r: Request, approved_steps: int) -> bool:
        chain = self.chain(r)
        if POLICIES[r.kind].mode is Mode.EACH and chain:
            return approved_steps >= len(chain)
        return approved_steps >= 1


def history(steps: Sequence[ApprovalStep]) -> list[dict[str, Any]]:
    """Decisions as the API shows them."""
    return [
        {
            "step": d.step,
            "by": d.approver,
            "at": d.at.isoformat(),
            "approved": d.approved,
            "note": d.note,
        }
        for d in steps
    ]
