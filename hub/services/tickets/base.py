"""What every part of the ticket service shares: the site's assets and technicians, making a
ticket, dispatching it, its history and its events, the overdue alarms."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hub.domain import Say, TicketEvent
from hub.errors import NotFound
from hub.services.alarms import AlarmService
from hub.services.tickets.dispatch import choose, skill_for, technicians
from hub.services.tickets.reading import TicketReading
from hub.site import Site
from hub.site.calendar import BusinessCalendar
from hub.site.maintenance import Asset, Priority, RepairCategory
from hub.storage import Database
from hub.storage.models import Ticket, TicketLogEntry

log = logging.getLogger(__name__)

RULES_ACTOR = "rules"
SEVERITY_PRIORITY = {
    "critical": Priority.URGENT,
    "major": Priority.HIGH,
    "minor": Priority.NORMAL,
    "warning": Priority.LOW,
}
GENERAL = RepairCategory(id="general", name="综合维修", name_en="General repairs", skill="general")
MERGE_WINDOW = timedelta(minutes=1)
MAX_PHOTO = 4 * 1024 * 1024


class TicketBase(TicketReading):
    """Tickets in the relational database; every change logged, audited and announced."""

    def __init__(
        self,
        db: Database,
        site: Site,
        *,
        photos: Path,
        notify: Callable[[TicketEvent], None] = lambda _: None,
        alarms: AlarmService | None = None,  # raises and clears the overdue escalations
        close_on_clear: bool = False,
        rating_reminder: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self.site = site
        self._photos = photos
        self._notify = notify
        self._alarms = alarms
        self.close_on_clear = close_on_clear
        self.rating_reminder = rating_reminder
        self._clock = clock
        self._lock = threading.Lock()
        self.calendar = BusinessCalendar.of(site.site)
        self.tz = site.site.timezone
        self.categories: dict[str, RepairCategory] = {
            c.id: c for c in site.repair_categories if isinstance(c, RepairCategory)
        }
        self.categories.setdefault(GENERAL.id, GENERAL)
        self.staff = technicians(site.people)
        self._by_person = {t.person_id: t for t in self.staff}
        self._person_of_user = {t.username: t.person_id for t in self.staff if t.username}
        self._assets = self._asset_table()

    def _asset_table(self) -> dict[str, dict[str, Any]]:
        kinds = {k: c.id for c in self.categories.values() for k in c.device_kinds}
        table: dict[str, dict[str, Any]] = {}
        for d in self.site.devices:
            table[d.id] = {
                "id": d.id,
                "name": d.name,
                "category": kinds.get(d.kind, GENERAL.id),
                "building": d.building,
                "floor": d.floor,
                "zone": d.zone,
                "device": True,
            }
        for a in self.site.assets:
            assert isinstance(a, Asset)
            table[a.id] = {
                "id": a.id,
                "name": a.name,
                "category": a.category,
                "building": a.building,
                "floor": a.floor,
                "zone": a.zone,
                "device": False,
            }
        return table

    def assets(self) -> list[dict[str, Any]]:
        """Every asset (the site's devices and the assets without telemetry)."""
        return sorted(self._assets.values(), key=lambda a: a["id"])

    def asset(self, asset_id: str) -> dict[str, Any]:
        """One asset."""
        try:
            return self._assets[asset_id]
        except KeyError:
            raise NotFound(f"no asset {asset_id!r}") from None

    def _new(
        self,
        s: Session,
        *,
        source: str,
        asset: dict[str, Any] | None,
        category: str,
        priority: Priority,
        title: str,
        description: str,
        reporter: str,
        unit: str | None,
        now: datetime,
    ) -> Ticket:
        cat = self.categories.get(category, GENERAL)
        response, resolution = cat.targets(priority)
        building = asset["building"] if asset else None
        where = [asset["name"], asset.get("floor") or ""] if asset else []
        t = Ticket(
            source=source,
            status="open",
            asset_id=asset["id"] if asset else None,
            category=cat.id,
            priority=priority.value,
            title=title,
            description=description,
            location=" ".join(x for x in where if x),
            building=building,
            reporter=reporter,
            reporter_unit=unit,
            skill=skill_for(cat, building, asset["zone"] if asset else None),
            occurrences=1,
            created_at=now,
            response_target_min=response,
            resolution_target_min=resolution,
            parts=[],
        )
        s.add(t)
        s.flush()
        return t

    def _dispatch(self, s: Session, t: Ticket, now: datetime) -> TicketEvent:
        tech = choose(self.staff, t.skill, self._open_work(s), now, self.tz)
        if tech is None:
            self._log(s, t, RULES_ACTOR, "queued", now, skill=t.skill)
            return self._event(t, "opened", now)
        t.status, t.assignee, t.assigned_at = "assigned", tech.person_id, now
        self._log(s, t, RULES_ACTOR, "assigned", now, to=tech.person_id, auto=True)
        return self._event(t, "assigned", now, tell=[tech.username])

    @staticmethod
    def _log(s: Session, t: Ticket, actor: str, action: str, ts: datetime, **detail: Any) -> None:
        s.add(TicketLogEntry(ticket_id=t.id, ts=ts, actor=actor, action=action, detail=detail))

    @staticmethod
    def _event(
        t: Ticket, action: str, now: datetime, tell: list[str | None] | None = None
    ) -> TicketEvent:
        names = tuple(sorted({n for n in tell or [] if n and n != RULES_ACTOR}))
        return TicketEvent(
            ticket_id=str(t.id),
            action=action,
            status=t.status,
            category=t.category,
            priority=t.priority,
            title=t.title,
            ts=now,
            asset_id=t.asset_id,
            assignee=t.assignee,
            notify=names,
        )

    def _raise_overdue(self, t: Ticket, late: list[str], now: datetime) -> None:
        if self._alarms is None:
            return
        what = "、".join({"response": "响应", "resolution": "修复"}[x] for x in late)
        self._alarms.raise_alarm(
            rule="ticket-sla",
            originator=f"ticket:{t.id}",
            type="ticket_overdue",
            severity="major",
            message=f"工单 #{t.id}「{t.title}」{what}超时",
            ticket=False,
            now=now,
            say=Say(
                "ticket.overdue",
                {"ticket": t.id, "title": t.title, "what": what, "what_en": ", ".join(late)},
            ),
        )

    def _clear_overdue(self, t: Ticket, now: datetime) -> None:
        if self._alarms is not None and (t.response_breached or t.resolution_breached):
            self._alarms.clear_alarm(
                rule="ticket-sla",
                originator=f"ticket:{t.id}",
                type="ticket_overdue",
                message=f"工单 #{t.id} 已{'关闭' if t.status == 'closed' else '修复'}",
                now=now,
            )
