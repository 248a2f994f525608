"""The patrol rule's state: the open tour (deadlines, visits with their evidence, evidence not
yet enough, refusals) and a short history of tours, typed in memory and JSON as stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.domain.patrol import (
    Refusal,
    TourRecord,
    Visit,
    evidence_json,
    evidence_of,
    refusal_json,
    refusal_of,
    visit_json,
    visit_of,
)
from rules.kinds.patrol_proof import Pending
from rules.state import iso, when

HISTORY = 50  # tours kept in the state (the patrol report keeps them all)


@dataclass(frozen=True, slots=True)
class Tour:
    """The open tour: its checkpoints' deadlines, until when late visits count, what has been
    visited, missed, late, out of order and refused so far, and the evidence gathered for
    visits not proven yet (by checkpoint and guard)."""

    start: datetime
    deadline: Mapping[str, datetime]
    end: datetime
    visited: Mapping[str, Visit] = field(default_factory=dict)
    missed: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    out_of_order: tuple[str, ...] = ()
    pending: Mapping[tuple[str, str], Pending] = field(default_factory=dict)
    refused: tuple[Refusal, ...] = ()


@dataclass(frozen=True, slots=True)
class Summary:
    """A tour that ended, in the rule's history: its compliance, or `unobserved` when it fell
    entirely into a hub outage."""

    start: datetime
    unobserved: bool = False
    visited: int = 0
    on_time: int = 0
    total: int = 0
    compliance: float = 0.0
    missed: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    out_of_order: tuple[str, ...] = ()
    refused: int = 0

    @classmethod
    def of(cls, r: TourRecord) -> Summary:
        """The summary of a full record."""
        if r.unobserved:
            return cls(r.start, unobserved=True)
        total = len(r.checkpoints)
        return cls(
            start=r.start,
            visited=len(r.visits),
            on_time=r.on_time,
            total=total,
            compliance=round(r.on_time / total, 3) if total else 0.0,
            missed=r.missed,
            late=tuple(v.checkpoint for v in r.visits if v.late),
            out_of_order=r.out_of_order,
            refused=len(r.refused),
        )


@dataclass(frozen=True, slots=True)
class State:
    """The open tour (None between tours), the last tours' summaries, and until when the
    schedule was looked at (None before the first tick)."""

    tour: Tour | None = None
    history: tuple[Summary, ...] = ()
    checked: datetime | None = None


def _t(raw: str) -> datetime:
    t = when(raw)
    assert t is not None
    return t


def _pending_json(p: Pending) -> dict[str, Any]:
    return {
        "ble_first": iso(p.ble_first),
        "ble_last": iso(p.ble_last),
        "ble_reports": p.ble_reports,
        "ble_distance": p.ble_distance,
        "ble_rssi": p.ble_rssi,
        "proven": [evidence_json(e) for e in p.proven],
    }


def _pending_of(raw: Mapping[str, Any]) -> Pending:
    return Pending(
        when(raw.get("ble_first")),
        when(raw.get("ble_last")),
        int(raw.get("ble_reports", 0)),
        raw.get("ble_distance"),
        raw.get("ble_rssi"),
        tuple(evidence_of(e) for e in raw.get("proven", ())),
    )


def _tour_of(raw: Mapping[str, Any]) -> Tour:
    return Tour(
        start=_t(raw["start"]),
        deadline={cp: _t(d) for cp, d in raw["deadline"].items()},
        end=_t(raw["end"]),
        visited={cp: visit_of(cp, v) for cp, v in raw["visited"].items()},
        missed=tuple(raw["missed"]),
        late=tuple(raw["late"]),
        out_of_order=tuple(raw["out_of_order"]),
        pending={
            (cp, guard): _pending_of(p)
            for key, p in raw.get("pending", {}).items()
            for cp, _, guard in [key.partition("|")]
        },
        refused=tuple(refusal_of(r) for r in raw.get("refused", ())),
    )


def _summary_of(h: Mapping[str, Any]) -> Summary:
    return Summary(
        start=_t(h["start"]),
        unobserved=bool(h.get("unobserved")),
        visited=h.get("visited", 0),
        on_time=h.get("on_time", 0),
        total=h.get("total", 0),
        compliance=h.get("compliance", 0.0),
        missed=tuple(h.get("missed", ())),
        late=tuple(h.get("late", ())),
        out_of_order=tuple(h.get("out_of_order", ())),
        refused=h.get("refused", 0),
    )


def load(raw: Mapping[str, Any]) -> State:
    """From the stored JSON."""
    tour = raw.get("tour")
    return State(
        tour=_tour_of(tour) if tour else None,
        history=tuple(_summary_of(h) for h in raw.get("history", ())),
        checked=when(raw.get("checked")),
    )


def _summary_json(h: Summary) -> dict[str, Any]:
    if h.unobserved:
        return {"start": h.start.isoformat(), "unobserved": True}
    return {
        "start": h.start.isoformat(),
        "visited": h.visited,
        "on_time": h.on_time,
        "total": h.total,
        "compliance": h.compliance,
        "missed": list(h.missed),
        "late": list(h.late),
        "out_of_order": list(h.out_of_order),
        "refused": h.refused,
    }


def _tour_json(tour: Tour) -> dict[str, Any]:
    return {
        "start": tour.start.isoformat(),
        "deadline": {cp: d.isoformat() for cp, d in tour.deadline.items()},
        "end": tour.end.isoformat(),
        "visited": {cp: visit_json(v) for cp, v in tour.visited.items()},
        "missed": list(tour.missed),
        "late": list(tour.late),
        "out_of_order": list(tour.out_of_order),
        "pending": {f"{cp}|{guard}": _pending_json(p) for (cp, guard), p in tour.pending.items()},
        "refused": [refusal_json(r) for r in tour.refused],
    }


def dump(state: State) -> dict[str, Any]:
    """As stored (and as `/api/rules` shows it)."""
    if state.checked is None and state.tour is None and not state.history:
        return {}
    return {
        "tour": _tour_json(state.tour) if state.tour else None,
        "history": [_summary_json(h) for h in state.history],
        "checked": iso(state.checked),
    }
