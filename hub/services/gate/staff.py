"""Staff at the gate: a person's phone credential (`hub.services.permits`) taken once, then
in or out with anti-passback, as visitors' passes are."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from hub.services.gate import passes
from hub.storage.models import StaffPresence, Visitor


class StaffCards(Protocol):
    """The staff's phone credentials, as the gate takes them (`hub.services.permits`)."""

    def take(self, s: Session, body: dict[str, Any], place: str, now: datetime) -> Any:
        """The holder (`username`, `label`) of a decoded credential, its code used up at
        `place`; PassError if it is not good."""
        ...


def by_staff(
    staff: StaffCards | None,
    s: Session,
    body: dict[str, Any],
    gate_id: str,
    direction: str,
    now: datetime,
    evidence: dict[str, Any],
) -> tuple[str, str, str, Visitor | None, str]:
    """A staff member's phone credential: its code taken once, then in or out, with
    anti-passback as for visitors."""
    presented = str(body.get("jti", ""))[:40]
    if staff is None:
        return "deny", "staff credentials are not taken here", "", None, presented
    try:
        holder = staff.take(s, body, f"gate:{gate_id}", now)
    except passes.PassError as err:
        return "deny", str(err), str(body.get("lbl", "")), None, presented
    evidence["staff"] = holder.username
    here = s.get(StaffPresence, holder.username) or StaffPresence(
        username=holder.username, inside=False
    )
    s.add(here)
    if direction == "in":
        if here.inside:
            return (
                "deny",
                "already inside: no exit since the last entry",
                holder.label,
                None,
                presented,
            )
        here.inside, here.gate, here.ts = True, gate_id, now
        return "allow", "staff credential", holder.label, None, presented
    if not here.inside:
        here.gate, here.ts = gate_id, now
        return "review", "no entry recorded for this person", holder.label, None, presented
    here.inside, here.gate, here.ts = False, gate_id, now
    return "allow", "staff leaving", holder.label, None, presented
