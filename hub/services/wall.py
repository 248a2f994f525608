"""What the wall display shows besides events: counters and patrol progress, computed here and
pushed to the live view as the `summary` entity every few seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from shapely import Point, prepared

from hub.live import LiveHub
from hub.site import Site
from hub.tasks import Periodic

Counts = Callable[[], dict[str, int]]


def patrol_progress(rules: Sequence[dict[str, Any]], site: Site) -> list[dict[str, Any]]:
    """Per patrol route: its guards, checkpoints visited / due in the open tour, the missed
    and late ones, and the next checkpoint with its deadline (None between tours)."""
    routes = {r.id: r for r in site.patrol_routes}
    out = []
    for rule in rules:
        if rule["kind"] != "missed_patrol":
            continue
        route = routes.get(rule["config"].get("route", ""))
        if route is None:
            continue
        tour = (rule.get("state") or {}).get("tour")
        row: dict[str, Any] = {
            "route": route.id,
            "name": route.name,
            "guards": route.guards,
            "total": len(route.checkpoints),
            "tour": tour is not None,
            "visited": 0,
            "missed": [],
            "late": [],
            "next": None,
            "next_due": None,
        }
        if tour is not None:
            visited = tour.get("visited", {})
            missed = list(tour.get("missed", []))
            row.update(visited=len(visited), missed=missed, late=list(tour.get("late", [])))
            ahead = [cp for cp in route.checkpoints if cp not in visited and cp not in missed]
            if ahead:
                row.update(next=ahead[0], next_due=tour["deadline"].get(ahead[0]))
        out.append(row)
    return out


class WallSummary(Periodic):
    """A hub component: every `every_s` seconds it puts the `summary` entity on the live view
    (the first at start)."""

    def __init__(
        self,
        live: LiveHub,
        site: Site,
        *,
        every_s: float,
        alarms: Counts,
        tickets: Counts,
        gate: Counts,
        rules: Callable[[], list[dict[str, Any]]],
    ) -> None:
        super().__init__("wall_summary", every_s, self._put, at_start=True)
        self._live = live
        self._site = site
        self._alarms = alarms
        self._tickets = tickets
        self._gate = gate
        self._rules = rules
        self._inside = prepared.prep(site.site.boundary.to_shape())

    async def _put(self) -> int:
        await self.refresh()
        return 1

    async def refresh(self) -> dict[str, Any]:
        """Compute the summary and put it on the live view."""
        alarms, tickets, gate = await asyncio.to_thread(
            lambda: (self._alarms(), self._tickets(), self._gate())
        )
        summary = {
            "type": "summary",
            "key": "compound",
            "ts": datetime.now(UTC).isoformat(),
            "alarms": alarms,
            "tickets": tickets,
            "gate": gate,
            "subjects": self._subjects(),
            "patrols": patrol_progress(self._rules(), self._site),
        }
        self._live.put(summary)
        return summary

    def _subjects(self) -> dict[str, int]:
        """Guards and vehicles with a position inside the compound, and vehicles outside."""
        counts = {"guards_inside": 0, "vehicles_inside": 0, "vehicles_outside": 0}
        for msg in self._live.snapshot():
            if msg["type"] != "position" or msg.get("lat") is None:
                continue
            inside = self._inside.contains(Point(msg["lon"], msg["lat"]))
            if msg["subject_kind"] in ("vehicle", "visitor_vehicle"):
                counts["vehicles_inside" if inside else "vehicles_outside"] += 1
            elif msg["subject_kind"] == "guard" and inside:
                counts["guards_inside"] += 1
        return counts
