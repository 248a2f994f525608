"""What the wall display shows besides events: counters and patrol progress, computed here and
pushed to the live view as the `summary` entity every few seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from shapely import Point, prepared

from hub.domain import TourProgress
from hub.live import LiveHub
from hub.services.assembly import Part, Shared
from hub.site import Site
from hub.tasks import Periodic

Counts = Callable[[], dict[str, int]]


def patrol_progress(tours: Sequence[TourProgress], site: Site) -> list[dict[str, Any]]:
    """Per patrol route: its guards, checkpoints visited / due in the open tour, the missed
    and late ones, and the next checkpoint with its deadline (None between tours)."""
    routes = {r.id: r for r in site.patrol_routes}
    out = []
    for tour in tours:
        route = routes.get(tour.route)
        if route is None:
            continue
        row: dict[str, Any] = {
            "route": route.id,
            "name": route.name,
            "guards": route.guards,
            "total": len(route.checkpoints),
            "tour": tour.open,
            "visited": len(tour.visited),
            "missed": list(tour.missed),
            "late": list(tour.late),
            "next": None,
            "next_due": None,
            "upcoming": tour.upcoming.isoformat() if tour.upcoming else None,
        }
        ahead = [cp for cp in route.checkpoints if cp not in tour.visited + tour.missed]
        if tour.open and ahead:
            due = tour.deadlines.get(ahead[0])
            row.update(next=ahead[0], next_due=due.isoformat() if due else None)
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
        patrols: Callable[[], Sequence[TourProgress]],
    ) -> None:
        super().__init__("wall_summary", every_s, self._put, at_start=True)
        self._live = live
        self._site = site
        self._alarms = alarms
        self._tickets = tickets
        self._gate = gate
        self._patrols = patrols
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
            "patrols": patrol_progress(self._patrols(), self._site),
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


def assemble(
    shared: Shared,
    live: LiveHub,
    *,
    alarms: Counts,
    tickets: Counts,
    gate: Counts,
    patrols: Callable[[], Sequence[TourProgress]],
) -> Part[WallSummary]:
    """The wall's summary, put on the live view every `live.summary_s` seconds."""
    wall = WallSummary(
        live,
        shared.site,
        every_s=shared.settings.live.summary_s,
        alarms=alarms,
        tickets=tickets,
        gate=gate,
        patrols=patrols,
    )
    return Part(wall, components=[wall])
