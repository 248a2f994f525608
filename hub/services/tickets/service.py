"""Repair tickets: opened by equipment-fault alarms, staff and asset QR labels; dispatched;
worked; confirmed and rated; watched against their service-level targets.

    open ──assign──► assigned ──accept──► accepted ──start──► in_progress ──resolve──► resolved
     ▲  (no one on duty:                     │  ▲                │   ▲                  │  │
     │   the dispatcher's queue)             hold └──start── on_hold ─┘ (resolve too)  confirm/rate
     └──────────── reassign from any open state ◄── reopen (reporter) ◄──────────────────┘  ▼
                                                                                         closed

An alarm's repeat (a flapping fault) adds an occurrence to the open ticket of the same
originator and alarm type instead of opening another; the fault clearing is noted on the
ticket, which a technician still closes (unless `close_on_clear`). Response is measured to
acceptance, resolution to resolving, both in business minutes (24 x 7 for urgent work) with
time on hold left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.images import NotAnImage, photo_bytes, save_photo
from hub.services.tickets.automatic import TicketAutomation
from hub.services.tickets.base import GENERAL, MAX_PHOTO, MERGE_WINDOW, RULES_ACTOR
from hub.services.tickets.reading import ACTIVE, DONE, MANAGERS
from hub.site.maintenance import Priority
from hub.storage.audit import record
from hub.storage.models import Ticket

log = logging.getLogger(__name__)

__all__ = ["GENERAL", "RULES_ACTOR", "TicketService"]


class TicketService(TicketAutomation):
    """Tickets in the relational database; every change logged, audited and announced."""

    def report(
        self,
        who: Principal,
        *,
        description: str,
        asset_id: str | None = None,
        category: str | None = None,
        location: str = "",
        priority: str | None = None,
        photo: str | None = None,
        source: str = "staff",
    ) -> tuple[dict[str, Any], bool]:
        """A staff report (or one from an asset's QR label): (ticket, merged). The same
        reporter, asset and text within a minute is one report (a double tap)."""
        asset = self.asset(asset_id) if asset_id else None
        cat = category or (asset["category"] if asset else None)
        if cat is None:
            raise Invalid("give an asset or a category")
        if cat not in self.categories:
            raise Invalid(f"unknown category {cat!r}")
        if asset is None and not location.strip():
            raise Invalid("give an asset or say where (location)")
        prio = Priority(priority) if priority else self.categories[cat].default_priority
        text = description.strip()
        now = self._clock()
        with self._lock, self._db.session() as s:
            same = s.scalars(
                select(Ticket).where(
                    Ticket.reporter == who.name,
                    Ticket.asset_id == asset_id,
                    Ticket.description == text,
                    Ticket.created_at >= now - MERGE_WINDOW,
                )
            ).first()
            if same is not None:
                self._log(s, same, who.name, "merged", now)
                return self._public(same), True
            title_of = asset["name"] if asset else location.strip()
            t = self._new(
                s,
                source=source,
                asset=asset,
                category=cat,
                priority=prio,
                title=f"{title_of}：{text}"[:200],
                description=text,
                reporter=who.name,
                unit=who.work_unit,
                now=now,
            )
            if location.strip():
                t.location = location.strip()[:200]
            if photo:
                t.photo = self._save_photo(photo, t.id)
            self._log(s, t, who.name, "opened", now, source=source)
            record(s, who.name, "ticket.opened", str(t.id), asset=asset_id, category=cat)
            announce = self._dispatch(s, t, now)
            out = self._public(t)
        self._notify(announce)
        return out, False

    def _save_photo(self, data_url: str, ticket_id: int) -> str:
        try:
            data = photo_bytes(data_url)
            if len(data) > MAX_PHOTO:
                raise Invalid(
                    f"photo: larger than {MAX_PHOTO // (1024 * 1024)} MB",
                    field="photo",
                    key="ticket.photo_size",
                    mb=MAX_PHOTO // (1024 * 1024),
                )
            return save_photo(self._photos, str(ticket_id), data)
        except NotAnImage as err:
            raise Invalid(f"photo: {err}") from None

    def photo(self, ticket_id: int, who: Principal) -> Path:
        """The file of a ticket's photo."""
        with self._db.session() as s:
            t = self._visible_ticket(s, ticket_id, who)
            if not t.photo:
                raise NotFound("this ticket has no photo")
            return self._photos / t.photo

    def assign(self, ticket_id: int, who: Principal, person_id: str | None) -> dict[str, Any]:
        """A dispatcher gives the ticket to a technician (None: back to the queue)."""
        self._require(who, MANAGERS, "dispatchers assign tickets")
        tech = self._by_person.get(person_id) if person_id else None
        if person_id and tech is None:
            raise Invalid(f"{person_id!r} is not a technician of this site")

        def do(t: Ticket, now: datetime) -> list[str | None]:
            self._state(t, ACTIVE, "assign")
            self._leave_hold(t, now)
            t.assignee = person_id
            t.status = "assigned" if person_id else "open"
            t.assigned_at = now if person_id else None
            return [tech.username] if tech else []

        return self._change(ticket_id, who, "assigned", do, to=person_id)

    def accept(self, ticket_id: int, who: Principal) -> dict[str, Any]:
        """The technician takes the job (the response time ends here)."""

        def do(t: Ticket, now: datetime) -> list[str | None]:
            self._assignee(t, who)
            self._state(t, ("assigned",), "accept")
            t.status = "accepted"
            t.accepted_at = t.accepted_at or now  # the first acceptance is the response
            return [t.reporter]

        return self._change(ticket_id, who, "accepted", do)

    def start(self, ticket_id: int, who: Principal) -> dict[str, Any]:
        """Work starts (or resumes after a hold)."""

        def do(t: Ticket, now: datetime) -> list[str | None]:
            self._assignee(t, who)
            self._state(t, ("accepted", "on_hold"), "start")
            self._leave_hold(t, now)
            t.status = "in_progress"
            t.started_at = t.started_at or now
            return []

        return self._change(ticket_id, who, "started", do)

    def hold(self, ticket_id: int, who: Principal, reason: str) -> dict[str, Any]:
        """Waiting (for parts, for access): the resolution clock stops."""
        if not reason.strip():
            raise Invalid("say what the work waits for", field="reason", key="ticket.reason")

        def do(t: Ticket, now: datetime) -> list[str | None]:
            self._assignee(t, who)
            self._state(t, ("accepted", "in_progress"), "put on hold")
            t.status, t.hold_since = "on_hold", now
            return [t.reporter]

        return self._change(ticket_id, who, "held", do, reason=reason.strip())

    def resolve(
        self, ticket_id: int, who: Principal, notes: str, parts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The technician reports the repair done, with notes and the parts used."""
        if not notes.strip():
            raise Invalid("say what was done", field="notes", key="ticket.notes")

        def do(t: Ticket, now: datetime) -> list[str | None]:
            self._assignee(t, who)
            self._state(t, ("accepted", "in_progress", "on_hold"), "resolve")
            self._leave_hold(t, now)
            t.status, t.resolved_at = "resolved", now
            t.resolution_notes, t.parts = notes.strip(), parts
            return [t.reporter]

        return self._change(ticket_id, who, "resolved", do, notes=notes.strip(), parts=parts)

    def confirm(self, ticket_id: int, who: Principal) -> dict[str, Any]:
        """The reporter agrees the repair is done: closed."""

        def do(t: Ticket, now: datetime) -> list[str | None]:
            self._reporter(t, who)
            self._state(t, ("resolved",), "confirm")
            t.status, t.closed_at = "closed", now
            return []

        return self._change(ticket_id, who, "confirmed", do)

    def reopen(self, ticket_id: int, who: Principal, reason: str) -> dict[str, Any]:
        """The reporter says it is not fixed: back to the same technician."""
        if not reason.strip():
            raise Invalid("say what is still wrong", field="reason", key="ticket.still_wrong")

        def do(t: Ticket, now: datetime) -> list[str | None]:
            self._reporter(t, who)
            self._state(t, ("resolved",), "reopen")
            t.status = "assigned" if t.assignee else "open"
            t.resolved_at, t.reopened = None, t.reopened + 1
            tech = self._by_person.get(t.assignee or "")
            return [tech.username if tech else None]

        return self._change(ticket_id, who, "reopened", do, reason=reason.strip())

    def rate(self, ticket_id: int, who: Principal, rating: int, comment: str) -> dict[str, Any]:
        """1-5 stars by the reporter, once, after the repair (closes a resolved ticket)."""
        if not 1 <= rating <= 5:
            raise Invalid("rate 1 to 5")

        def do(t: Ticket, now: datetime) -> list[str | None]:
            self._reporter(t, who)
            if t.status not in DONE:
                raise Conflict(f"ticket {t.id} is {t.status}: rate it once it is resolved")
            if t.rating is not None:
                raise Conflict(f"ticket {t.id} is already rated", key="ticket.rated")
            t.rating, t.rating_comment = rating, comment.strip()
            t.rated_at, t.rated_by = now, who.name
            if t.status == "resolved":
                t.status, t.closed_at = "closed", now
            tech = self._by_person.get(t.assignee or "")
            return [tech.username if tech else None]

        return self._change(ticket_id, who, "rated", do, rating=rating, comment=comment.strip())

    def comment(self, ticket_id: int, who: Principal, text: str) -> dict[str, Any]:
        """A note on the ticket."""
        if not text.strip():
            raise Invalid("empty comment")

        def do(t: Ticket, now: datetime) -> list[str | None]:
            return []

        return self._change(ticket_id, who, "commented", do, text=text.strip())

    @staticmethod
    def _require(who: Principal, roles: frozenset[Role], why: str) -> None:
        if not who.has_any(roles):
            raise Forbidden(why)

    def _is_assignee(self, t: Ticket, who: Principal) -> bool:
        return t.assignee is not None and t.assignee == self._person_of_user.get(who.name)

    def _assignee(self, t: Ticket, who: Principal) -> None:
        if not self._is_assignee(t, who):
            raise Forbidden(f"ticket {t.id} is not assigned to you", key="ticket.not_yours")

    @staticmethod
    def _reporter(t: Ticket, who: Principal) -> None:
        # An alarm's ticket has no person as reporter: the dispatchers answer for it.
        if who.name == t.reporter or (t.reporter == RULES_ACTOR and who.has_any(MANAGERS)):
            return
        raise Forbidden(
            f"only the reporter of ticket {t.id} can do this", key="ticket.reporter_only"
        )

    @staticmethod
    def _state(t: Ticket, allowed: tuple[str, ...], verb: str) -> None:
        if t.status not in allowed:
            raise Conflict(f"ticket {t.id} is {t.status}: cannot {verb} it")

    def _leave_hold(self, t: Ticket, now: datetime) -> None:
        if t.hold_since is not None:
            t.held_minutes += self._elapsed(t, t.hold_since, now)
            t.hold_since = None

    def _change(
        self,
        ticket_id: int,
        who: Principal,
        action: str,
        do: Callable[[Ticket, datetime], list[str | None]],
        **detail: Any,
    ) -> dict[str, Any]:
        now = self._clock()
        with self._lock, self._db.session() as s:
            t = self._visible_ticket(s, ticket_id, who)  # 404 for one `who` may not see
            tell = do(t, now)
            self._log(s, t, who.name, action, now, **detail)
            record(s, who.name, f"ticket.{action}", str(ticket_id), **detail)
            if t.status in DONE:
                self._clear_overdue(t, now)
            out = self._public(t)
            event = self._event(t, action, now, tell=tell)
        self._notify(event)
        return out
