"""What the hub does to tickets by itself: equipment faults in (from the alarm book's
outbox), the SLA watch and rating reminders out."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.domain import AlarmEvent, TicketEvent
from hub.services.alarms import TICKETS, alarm_of
from hub.services.tickets.base import GENERAL, RULES_ACTOR, SEVERITY_PRIORITY, TicketBase
from hub.services.tickets.reading import ACTIVE
from hub.site.maintenance import Priority
from hub.storage import again_on_conflict, outbox
from hub.storage.models import Ticket

log = logging.getLogger(__name__)


class TicketAutomation(TicketBase):
    """Faults open and update tickets; the sweep marks breached targets and reminds."""

    def take_alarms(self, limit: int = 1000) -> int:
        """Apply the alarm changes the alarm book owes this service (its outbox), one
        transaction each, the message marked done in the same one: a fault's ticket is
        never lost (the pipeline full, the hub stopped between the two) nor its occurrence
        counted twice (a re-delivery finds the message done). Returns how many were applied."""
        applied = 0
        while applied < limit:
            try:
                with self._lock:
                    found, announce = outbox.take(self._db, TICKETS, self._apply_owed)
            except IntegrityError:  # another hub worker opened the same ticket: again
                continue
            if not found:
                break
            applied += 1
            if announce is not None:
                self._notify(announce)
        return applied

    def pending_alarms(self) -> dict[str, int]:
        """The alarm changes not yet applied (and any set aside after failing repeatedly)."""
        return outbox.pending(self._db, TICKETS)

    def _apply_owed(self, s: Session, kind: str, payload: dict[str, Any]) -> TicketEvent | None:
        if kind != "alarm":
            raise ValueError(f"the ticket service takes no {kind!r} messages")
        return self._on_alarm(s, alarm_of(payload))

    def apply_alarm(self, event: AlarmEvent) -> None:
        """Apply one alarm change in a transaction of its own (what the outbox does with
        each message it holds); a race with another hub worker opening the same ticket is
        run again and finds the winner's ticket."""

        def apply() -> TicketEvent | None:
            with self._lock, self._db.session() as s:
                return self._on_alarm(s, event)

        announce = again_on_conflict(apply)
        if announce is not None:
            self._notify(announce)

    def _on_alarm(self, s: Session, event: AlarmEvent) -> TicketEvent | None:
        """An alarm change, in the caller's transaction: a fault asks for a ticket (a new one,
        or one more occurrence on its open ticket), or has cleared. What to announce after
        the commit."""
        key = f"{event.originator}|{event.alarm_type}"
        if (event.action == "raised" and event.ticket) or event.action == "repeated":
            return self._occurred(s, event, key, open_new=event.action == "raised")
        if event.action == "cleared":
            return self._fault_cleared(s, key, event.ts)
        return None

    def _occurred(
        self, s: Session, event: AlarmEvent, key: str, open_new: bool
    ) -> TicketEvent | None:
        """A fault occurred: one more occurrence on its open ticket, else (for a raise that
        asks for one) a new ticket. A repeat of an alarm without a ticket stays without.
        One open ticket per alarm key, guarded by a unique index across hub workers."""
        t = self._open_for_alarm(s, key)
        if t is None and not open_new:
            return None
        if t is not None:
            t.occurrences += 1
            t.fault_active = True
            self._log(s, t, RULES_ACTOR, "occurred", event.ts, alarm=event.alarm_id)
            return self._event(t, "occurred", event.ts)
        asset = self._assets.get(event.originator)
        name = asset["name"] if asset else event.originator
        t = self._new(
            s,
            source="alarm",
            asset=asset,
            category=asset["category"] if asset else GENERAL.id,
            priority=SEVERITY_PRIORITY.get(event.severity, Priority.NORMAL),
            title=f"{name}：{event.message or event.alarm_type}"[:200],
            description=event.message,
            reporter=RULES_ACTOR,
            unit=None,
            now=event.ts,
        )
        t.alarm_key = key
        t.fault_active = True
        self._log(s, t, RULES_ACTOR, "opened", event.ts, alarm=event.alarm_id)
        return self._dispatch(s, t, event.ts)

    @staticmethod
    def _open_for_alarm(s: Session, key: str) -> Ticket | None:
        # FOR UPDATE: another worker's occurrence of the same fault waits for this one
        return s.scalars(
            select(Ticket)
            .where(Ticket.alarm_key == key, Ticket.status.in_(ACTIVE))
            .with_for_update()
        ).first()

    def _fault_cleared(self, s: Session, key: str, now: datetime) -> TicketEvent | None:
        t = self._open_for_alarm(s, key)
        if t is None:
            return None
        t.fault_active = False
        self._log(s, t, RULES_ACTOR, "fault_cleared", now)
        if self.close_on_clear and t.status in ("open", "assigned"):  # nobody has it yet
            t.status, t.resolved_at, t.closed_at = "closed", now, now
            t.resolution_notes = "故障已自行恢复 (the fault cleared by itself)"
            self._log(s, t, RULES_ACTOR, "closed", now, reason="fault cleared")
            self._clear_overdue(t, now)
        return self._event(t, "fault_cleared", now)

    def sweep(self) -> int:
        """Mark breached targets (raising an escalation alarm to the dispatchers) and remind
        reporters to rate; returns how many tickets changed."""
        now = self._clock()
        events: list[TicketEvent] = []
        with self._lock, self._db.session() as s:
            for t in s.scalars(select(Ticket).where(Ticket.status.in_(ACTIVE))):
                late = []
                waiting = not t.response_breached and t.accepted_at is None
                if waiting and self._elapsed(t, t.created_at, now) > t.response_target_min:
                    t.response_breached = True
                    late.append("response")
                if not t.resolution_breached:
                    held = t.held_minutes + (
                        self._elapsed(t, t.hold_since, now) if t.hold_since else 0.0
                    )
                    if self._elapsed(t, t.created_at, now) - held > t.resolution_target_min:
                        t.resolution_breached = True
                        late.append("resolution")
                if late:
                    self._log(s, t, RULES_ACTOR, "overdue", now, targets=late)
                    events.append(self._event(t, "overdue", now))
                    self._raise_overdue(t, late, now)
            due = now - self.rating_reminder
            q = select(Ticket).where(
                Ticket.status == "resolved",
                Ticket.rating.is_(None),
                Ticket.rating_reminded_at.is_(None),
                Ticket.resolved_at <= due,
            )
            for t in s.scalars(q):
                t.rating_reminded_at = now
                self._log(s, t, RULES_ACTOR, "rating_reminder", now)
                events.append(self._event(t, "rating_reminder", now, tell=[t.reporter]))
        for e in events:
            self._notify(e)
        return len(events)
