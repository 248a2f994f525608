"""The reading side of the ticket service: who may see which ticket (one SQL condition),
lists, one ticket with its history, counts, technicians and their open work, the figures'
source rows; due times and elapsed minutes on the business calendar. A mixin of
`TicketService`, which owns the state it reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.identity.roles import Principal, Role
from hub.services.tickets.dispatch import Technician
from hub.site.calendar import BusinessCalendar
from hub.site.hours import in_hours
from hub.site.maintenance import Priority
from hub.storage import Database
from hub.storage.audit import history as audit_history
from hub.storage.models import Ticket, TicketLogEntry

DONE = ("resolved", "closed")
ACTIVE = ("open", "assigned", "accepted", "in_progress", "on_hold")
MANAGERS = frozenset({Role.ADMIN, Role.DISPATCHER})


def ticket_dict(t: Ticket) -> dict[str, Any]:
    """A ticket as the API shows it."""

    def iso(d: datetime | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "id": t.id,
        "source": t.source,
        "status": t.status,
        "asset_id": t.asset_id,
        "category": t.category,
        "priority": t.priority,
        "title": t.title,
        "description": t.description,
        "location": t.location,
        "building": t.building,
        "photo": f"/api/tickets/{t.id}/photo" if t.photo else None,
        "reporter": t.reporter,
        "reporter_unit": t.reporter_unit,
        "skill": t.skill,
        "assignee": t.assignee,
        "occurrences": t.occurrences,
        "fault_active": t.fault_active,
        "created_at": iso(t.created_at),
        "assigned_at": iso(t.assigned_at),
        "accepted_at": iso(t.accepted_at),
        "started_at": iso(t.started_at),
        "hold_since": iso(t.hold_since),
        "resolved_at": iso(t.resolved_at),
        "closed_at": iso(t.closed_at),
        "response_target_min": t.response_target_min,
        "resolution_target_min": t.resolution_target_min,
        "response_breached": t.response_breached,
        "resolution_breached": t.resolution_breached,
        "resolution_notes": t.resolution_notes,
        "parts": t.parts,
        "rating": t.rating,
        "rating_comment": t.rating_comment,
        "rated_at": iso(t.rated_at),
        "reopened": t.reopened,
    }


class TicketReading:
    """Queries over the tickets (mixed into `TicketService`)."""

    _db: Database
    _person_of_user: dict[str, str]
    staff: list[Technician]
    tz: str
    calendar: BusinessCalendar

    _clock: Callable[[], datetime]

    def _public(self, t: Ticket) -> dict[str, Any]:
        """`ticket_dict` with the targets' due times (None once met, or while on hold)."""
        out = ticket_dict(t)
        done = t.status in DONE
        out["response_due"] = (
            None if done or t.accepted_at else self._after(t, t.created_at, t.response_target_min)
        )
        out["resolution_due"] = (
            None
            if done or t.hold_since
            else self._after(t, t.created_at, t.resolution_target_min + t.held_minutes)
        )
        return out

    def _after(self, t: Ticket, start: datetime, minutes: float) -> str:
        if t.priority == Priority.URGENT:
            return (start + timedelta(minutes=minutes)).astimezone(UTC).isoformat()
        return self.calendar.after(start, minutes).astimezone(UTC).isoformat()

    def _elapsed(self, t: Ticket, start: datetime, end: datetime) -> float:
        if t.priority == Priority.URGENT:
            return max(0.0, (end - start).total_seconds() / 60)
        return self.calendar.minutes(start, end)

    @staticmethod
    def _open_work(s: Session) -> Counter[str]:
        """Open tickets per technician."""
        rows = s.execute(
            select(Ticket.assignee, func.count())
            .where(Ticket.status.in_(ACTIVE), Ticket.assignee.is_not(None))
            .group_by(Ticket.assignee)
        )
        return Counter({str(a): int(n) for a, n in rows})

    def _visible_to(self, who: Principal) -> ColumnElement[bool]:
        """Which tickets `who` may see: dispatchers, security and the wall display all;
        technicians theirs and the unassigned queue; everyone their own reports."""
        if who.has_any(MANAGERS | {Role.SECURITY, Role.DISPLAY}):
            return true()
        mine: list[ColumnElement[bool]] = [Ticket.reporter == who.name]
        if who.has_any(frozenset({Role.TECHNICIAN})):
            mine.append(Ticket.status == "open")
            if person := self._person_of_user.get(who.name):
                mine.append(Ticket.assignee == person)
        return or_(*mine)

    def _visible_ticket(self, s: Session, ticket_id: int, who: Principal) -> Ticket:
        t = s.scalars(select(Ticket).where(Ticket.id == ticket_id, self._visible_to(who))).first()
        if t is None:
            raise NotFound(f"no ticket {ticket_id}")
        return t

    def find(
        self,
        who: Principal,
        *,
        status: str | None = None,
        assignee: str | None = None,
        mine: bool = False,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Tickets the asker may see, newest first (`mine`: reported by or assigned to them)."""
        q = select(Ticket).where(self._visible_to(who)).order_by(Ticket.id.desc()).limit(limit)
        if status == "active":
            q = q.where(Ticket.status.in_(ACTIVE))
        elif status:
            q = q.where(Ticket.status == status)
        if assignee:
            q = q.where(Ticket.assignee == assignee)
        if mine:
            person = self._person_of_user.get(who.name)
            q = q.where(
                or_(Ticket.reporter == who.name, Ticket.assignee == person)
                if person
                else Ticket.reporter == who.name
            )
        with self._db.session() as s:
            return [self._public(t) for t in s.scalars(q)]

    def counts(self) -> dict[str, int]:
        """Tickets not yet resolved, and how many of them wait in the dispatcher's queue."""
        with self._db.session() as s:
            rows = dict(
                s.execute(
                    select(Ticket.status, func.count())
                    .where(Ticket.status.not_in(DONE))
                    .group_by(Ticket.status)
                ).all()
            )
        return {"open": sum(rows.values()), "unassigned": rows.get("open", 0)}

    def get(self, ticket_id: int, who: Principal) -> dict[str, Any]:
        """One ticket with its history (NotFound also for one the asker may not see)."""
        with self._db.session() as s:
            t = self._visible_ticket(s, ticket_id, who)
            history = s.scalars(
                select(TicketLogEntry)
                .where(TicketLogEntry.ticket_id == ticket_id)
                .order_by(TicketLogEntry.id)
            )
            return {
                **self._public(t),
                "history": audit_history(history),
            }

    def technicians(self) -> list[dict[str, Any]]:
        """The site's technicians with their skills, duty and open work."""
        now = self._clock()
        with self._db.session() as s:
            work = self._open_work(s)
        return [
            {
                "id": t.person_id,
                "name": t.name,
                "username": t.username,
                "skills": sorted(t.skills),
                "on_duty_hours": t.on_duty,
                "on_duty": in_hours(t.on_duty, now, self.tz),
                "open_tickets": work.get(t.person_id, 0),
            }
            for t in self.staff
        ]

    def tickets_between(self, start: datetime, end: datetime) -> list[Ticket]:
        """Tickets opened in [start, end), detached, for the figures."""
        with self._db.session() as s:
            rows = list(
                s.scalars(select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end))
            )
            s.expunge_all()
            return rows

    def sla_minutes(self, t: Ticket, start: datetime, end: datetime) -> float:
        """Minutes between two instants as the ticket's targets count them."""
        return self._elapsed(t, start, end)
