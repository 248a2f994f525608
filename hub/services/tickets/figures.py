"""The repair figures: time to acknowledge, time to repair, SLA hit rate and satisfaction, per
category, technician and work unit; as JSON, CSV or XLSX."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from hub.services.tickets.service import TicketService
from hub.storage.models import Ticket

GROUPS = ("category", "technician", "unit")
COLUMNS = [
    "group",
    "key",
    "tickets",
    "resolved",
    "open",
    "ack_min_mean",
    "repair_min_mean",
    "response_sla_pct",
    "resolution_sla_pct",
    "rated",
    "rating_mean",
    "satisfied_pct",
]


def _key(t: Ticket, group: str) -> str:
    if group == "category":
        return t.category
    if group == "technician":
        return t.assignee or "(unassigned)"
    return t.reporter_unit or ("(equipment)" if t.reporter == "rules" else "(none)")


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _row(service: TicketService, group: str, key: str, tickets: list[Ticket]) -> dict[str, Any]:
    acked = [t for t in tickets if t.accepted_at]
    done = [t for t in tickets if t.resolved_at]
    rated = [t.rating for t in tickets if t.rating is not None]
    return {
        "group": group,
        "key": key,
        "tickets": len(tickets),
        "resolved": len(done),
        "open": len(tickets) - len(done),
        # in the minutes the targets count (business minutes; 24 x 7 for urgent work)
        "ack_min_mean": _mean(
            [service.sla_minutes(t, t.created_at, t.accepted_at) for t in acked if t.accepted_at]
        ),
        "repair_min_mean": _mean(
            [
                service.sla_minutes(t, t.created_at, t.resolved_at) - t.held_minutes
                for t in done
                if t.resolved_at
            ]
        ),
        "response_sla_pct": _pct(sum(not t.response_breached for t in acked), len(acked)),
        "resolution_sla_pct": _pct(sum(not t.resolution_breached for t in done), len(done)),
        "rated": len(rated),
        "rating_mean": _mean([float(r) for r in rated]),
        "satisfied_pct": _pct(sum(r >= 4 for r in rated), len(rated)),
    }


def figures(service: TicketService, start: datetime, end: datetime) -> dict[str, Any]:
    """Totals and one row per category, technician and work unit for tickets opened in
    [start, end)."""
    tickets = service.tickets_between(start, end)
    rows: list[dict[str, Any]] = []
    for group in GROUPS:
        by: dict[str, list[Ticket]] = defaultdict(list)
        for t in tickets:
            by[_key(t, group)].append(t)
        rows += [_row(service, group, k, by[k]) for k in sorted(by)]
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "total": _row(service, "all", "all", tickets),
        "rows": rows,
    }
