"""A guard's visit to a checkpoint and the tour it belongs to, as the patrol rule records them
(pure values: the rule decides them, the alarm book stores them, the patrol report reads them).

A visit holds only with evidence: how it was proven (a badge close to the checkpoint's BLE
gateway for a while, the phone's fix within the checkpoint's radius, the checkpoint's rotating
code scanned), each with its measure, so a report can show why a visit counted.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Method(enum.StrEnum):
    """How a visit may be proven."""

    BLE = "ble"  # the guard's badge seen close to the checkpoint's gateway
    GPS = "gps"  # the guard's phone's fix within the checkpoint's radius
    CODE = "code"  # the checkpoint's rotating code (QR display, NFC tag) scanned


@dataclass(frozen=True, slots=True)
class Evidence:
    """One method's proof of a visit: when it held, and its measure (BLE: distance_m, rssi,
    reports, seconds; GPS: distance_m, accuracy_m; code: source)."""

    method: Method
    at: datetime
    detail: Mapping[str, float | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Visit:
    """A checkpoint visited: when, by whom, after its deadline or not, and how it was proven."""

    checkpoint: str
    at: datetime
    by: str
    late: bool
    evidence: tuple[Evidence, ...] = ()


class RefusedBecause(enum.StrEnum):
    """Why a visit that was proven does not count."""

    TOO_FAST = "too_fast"  # from the guard's previous checkpoint faster than a person walks
    NOT_ON_DUTY = "not_on_duty"  # outside the guard's hours on duty
    NOT_ON_ROUTE = "not_on_route"  # not one of the route's guards


@dataclass(frozen=True, slots=True)
class Refusal:
    """A visit proven but refused, and why."""

    checkpoint: str
    at: datetime
    by: str
    reason: RefusedBecause
    detail: str = ""


@dataclass(frozen=True, slots=True)
class TourRecord:
    """A tour that ended: its checkpoints in order, the visits with their evidence, what was
    missed, late, out of order and refused; `unobserved` when it fell into a hub outage.
    `guards` are who answer for it: those who visited, else the route's guards on duty."""

    rule: str
    route: str
    start: datetime
    end: datetime
    checkpoints: tuple[str, ...]
    guards: tuple[str, ...] = ()
    unobserved: bool = False
    visits: tuple[Visit, ...] = ()
    out_of_order: tuple[str, ...] = ()
    refused: tuple[Refusal, ...] = ()

    @property
    def visited(self) -> frozenset[str]:
        """The checkpoints visited, on time or late."""
        return frozenset(v.checkpoint for v in self.visits)

    @property
    def missed(self) -> tuple[str, ...]:
        """The checkpoints nobody visited (none of an unobserved tour: nobody watched)."""
        if self.unobserved:
            return ()
        return tuple(cp for cp in self.checkpoints if cp not in self.visited)

    @property
    def on_time(self) -> int:
        """How many checkpoints were visited by their deadline."""
        return sum(1 for v in self.visits if not v.late)

    @property
    def late(self) -> int:
        """How many were visited after their deadline (a late visit still counts as one)."""
        return sum(1 for v in self.visits if v.late)


def _t(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def evidence_json(e: Evidence) -> dict[str, Any]:
    """Evidence as stored (the rule's state, the tour's record)."""
    return {"method": e.method.value, "at": e.at.isoformat(), **dict(e.detail)}


def evidence_of(raw: Mapping[str, Any]) -> Evidence:
    """Stored evidence back."""
    detail = {k: v for k, v in raw.items() if k not in ("method", "at")}
    return Evidence(Method(raw["method"]), _t(raw["at"]), detail)


def visit_json(v: Visit) -> dict[str, Any]:
    """A visit as stored."""
    return {
        "at": v.at.isoformat(),
        "by": v.by,
        "late": v.late,
        "evidence": [evidence_json(e) for e in v.evidence],
    }


def visit_of(cp: str, raw: Mapping[str, Any]) -> Visit:
    """A stored visit back (states of earlier releases have no evidence)."""
    return Visit(
        cp,
        _t(raw["at"]),
        raw.get("by") or "",
        bool(raw["late"]),
        tuple(evidence_of(e) for e in raw.get("evidence", ())),
    )


def refusal_json(r: Refusal) -> dict[str, Any]:
    """A refusal as stored."""
    return {
        "checkpoint": r.checkpoint,
        "at": r.at.isoformat(),
        "by": r.by,
        "reason": r.reason.value,
        "detail": r.detail,
    }


def refusal_of(raw: Mapping[str, Any]) -> Refusal:
    """A stored refusal back."""
    return Refusal(
        raw["checkpoint"], _t(raw["at"]), raw["by"], RefusedBecause(raw["reason"]), raw["detail"]
    )
