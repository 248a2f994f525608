"""Visits, visitors and the gate's decisions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.api.public.base import Out, Timestamp


class VisitorPublic(Out):
    """A visitor: the personal fields only for those who may see them (the host, the unit's
    approvers, security), and never after the data was purged."""

    id: int
    visit_id: int
    label: str
    status: str
    inside: bool
    car_inside: bool
    entries_allowed: int
    entries_used: int
    car_entries_used: int
    pass_revoked: bool
    arrived_at: Timestamp | None
    left_at: Timestamp | None
    purged: bool
    name: str | None = None
    phone: str | None = None
    company: str | None = None
    id_last4: str | None = None
    plate: str | None = None


class VisitPublic(Out):
    """A visit and its visitors."""

    id: int
    host: str
    host_unit: str | None
    purpose: str
    start: Timestamp
    end: Timestamp
    gates: list[str]
    status: str
    approved_by: str | None
    visitors: list[VisitorPublic]


class GateDecisionPublic(Out):
    """A gate decision as the screens show it (`decision` repeats `outcome` for terminals)."""

    id: int
    ts: Timestamp
    gate_id: str
    direction: str
    credential: str
    presented: str
    terminal: str | None
    outcome: str
    decision: str
    reason: str
    subject: str | None
    visitor_id: int | None
    evidence: dict[str, Any]
    reviewed_by: str | None


class RosterEntry(VisitorPublic):
    """A visitor inside now, with the host and until when the visit runs."""

    host: str
    until: Timestamp


class VisitorPass(Out):
    """A visitor's signed pass: the token, a link to its page and its QR code."""

    token: str
    label: str
    valid_from: Timestamp
    valid_until: Timestamp
    link: str
    qr: str


class GateCounts(BaseModel):
    """Passages on a day: `people_in`, `cars_out`... and `<gate>:<direction>` for each gate."""

    model_config = ConfigDict(extra="allow")

    day: str
    denied: int
