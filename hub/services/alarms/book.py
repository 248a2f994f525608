"""The alarm book: raise, repeat, clear, acknowledge, assign, shelve; history and audit.

States follow the usual two axes (active/cleared x unacknowledged/acknowledged):
ACTIVE_UNACK -> ACTIVE_ACK (ack) or CLEARED_UNACK (the rule clears) -> CLEARED_ACK.
At most one *active* alarm per originator + type: a raise while one is active counts one
more occurrence of it. A raise after it cleared opens a new alarm.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from hub.domain import Action, AlarmEvent, Clear, Raise, RetryLater, Say, StoredRule, TourEnded
from hub.errors import Conflict, Invalid, NotFound
from hub.services.alarms.shapes import alarm_dict, alarm_payload, said
from hub.services.alarms.state import SqlRuleStateStore
from hub.storage import Database, again_on_conflict, outbox
from hub.storage.audit import history, record
from hub.storage.models import Alarm, AlarmLogEntry
from hub.storage.patrol import keep_tour

RULES_ACTOR = "rules"
TICKETS = "tickets"  # the outbox consumer that owes repair tickets to alarms
SEVERITIES = ("warning", "minor", "major", "critical")  # ascending


@dataclass(frozen=True)
class AlarmPolicy:
    """What happens while a rule's alarm stays active and unacknowledged."""

    remind_every: timedelta | None = None
    escalate_after: timedelta | None = None


class AlarmState(enum.StrEnum):
    """Where an alarm is in its life."""

    ACTIVE_UNACK = "ACTIVE_UNACK"
    ACTIVE_ACK = "ACTIVE_ACK"
    CLEARED_UNACK = "CLEARED_UNACK"
    CLEARED_ACK = "CLEARED_ACK"


def _state(active: bool, acked: bool) -> AlarmState:
    if active:
        return AlarmState.ACTIVE_ACK if acked else AlarmState.ACTIVE_UNACK
    return AlarmState.CLEARED_ACK if acked else AlarmState.CLEARED_UNACK


class AlarmService:
    """Alarms in the relational database; each change is logged and announced via `notify`.

    `notify` is called with an AlarmEvent after the change is committed, from whatever thread
    made it (the hub hands in a thread-safe publish onto the pipeline).
    """

    def __init__(
        self,
        db: Database,
        notify: Callable[[AlarmEvent], None] = lambda _: None,
        policies: dict[str, AlarmPolicy] | None = None,
    ) -> None:
        self._db = db
        self._notify = notify
        self.policies = policies or {}
        self._lock = threading.Lock()  # one raise/clear at a time: one active alarm per key
        # wakes the ticket service's outbox reader (the hub sets it; any thread may call it)
        self.on_outbox: Callable[[], None] = lambda: None

    # -- the rules engine's side (rules.ports.AlarmBook) ------------------------------------
    def commit(
        self, actions: Sequence[Action], states: Mapping[str, StoredRule], now: datetime
    ) -> None:
        """Apply the rules' raises and clears in order and store the states of the rules that
        decided them, in one transaction (a retry after a failure finds nothing half-done);
        the database away raises `RetryLater`, and the engine keeps its state as it was."""
        if not actions and not states:
            return
        try:
            events, owed = again_on_conflict(lambda: self._commit(actions, states, now))
        except (OperationalError, InterfaceError) as err:
            raise RetryLater(f"the alarm book's database is away: {type(err).__name__}") from err
        for event in events:  # after the commit: the live view and notifiers, best effort
            self._notify(event)
        if owed:
            self.on_outbox()

    def _commit(
        self, actions: Sequence[Action], states: Mapping[str, StoredRule], now: datetime
    ) -> tuple[list[AlarmEvent], bool]:
        events: list[AlarmEvent] = []
        with self._lock, self._db.session() as s:
            owed = False
            for act in actions:
                if isinstance(act, TourEnded):
                    keep_tour(s, act.record)
                    continue
                if isinstance(act, Raise):
                    a, action = self._raise_in(s, act, now)
                else:
                    found = self._clear_in(s, act, now)
                    if found is None:
                        continue
                    a, action = found, "cleared"
                event = self._event(a, now, action)
                events.append(event)
                if a.ticket_requested:  # owed to the ticket service, in this transaction
                    outbox.put(s, TICKETS, "alarm", alarm_payload(event), now)
                    owed = True
            if states:
                SqlRuleStateStore.save_in(s, states)
        return events, owed

    def raise_alarm(
        self,
        *,
        rule: str,
        originator: str,
        type: str,
        severity: str,
        message: str,
        ticket: bool,
        now: datetime,
        say: Say | None = None,
    ) -> None:
        """Open an alarm, or count one more occurrence of the active one (at most one active
        per originator and type, guarded by a unique index across hub workers)."""
        self.commit([Raise(rule, originator, type, severity, message, ticket, say)], {}, now)

    def clear_alarm(
        self, *, rule: str, originator: str, type: str, message: str, now: datetime
    ) -> None:
        """Clear the active alarm of originator + type, if there is one."""
        self.commit([Clear(rule, originator, type, message)], {}, now)

    def _raise_in(self, s: Session, r: Raise, now: datetime) -> tuple[Alarm, str]:
        a = self._active(s, r.originator, r.type)
        if a is None:
            a = Alarm(
                rule=r.rule,
                originator=r.originator,
                type=r.type,
                severity=r.severity,
                state=AlarmState.ACTIVE_UNACK,
                active=True,
                message=r.message,
                say=said(r.say),
                occurrences=1,
                ticket_requested=r.ticket,
                first_at=now,
                last_at=now,
            )
            s.add(a)
            s.flush()
            self._log(s, a, RULES_ACTOR, "raised", message=r.message, ticket=r.ticket, ts=now)
            return a, "raised"
        a.occurrences += 1
        a.last_at = now
        a.message = r.message
        a.say = said(r.say) or a.say
        self._log(s, a, RULES_ACTOR, "repeated", message=r.message, ts=now)
        return a, "repeated"

    def _clear_in(self, s: Session, c: Clear, now: datetime) -> Alarm | None:
        a = self._active(s, c.originator, c.type)
        if a is None:
            return None
        a.active = False
        a.cleared_at = now
        a.state = _state(False, a.acked_at is not None)
        self._log(s, a, RULES_ACTOR, "cleared", message=c.message, ts=now)
        return a

    def sweep(self, now: datetime) -> int:
        """Remind of and escalate the active, unacknowledged, unshelved alarms whose rule asks
        for it; returns how many alarms changed."""
        rules = [r for r, p in self.policies.items() if p.remind_every or p.escalate_after]
        if not rules:
            return 0
        events: list[AlarmEvent] = []
        with self._lock, self._db.session() as s:
            q = select(Alarm).where(Alarm.state == AlarmState.ACTIVE_UNACK, Alarm.rule.in_(rules))
            for a in s.scalars(q):
                if a.shelved_until is not None and a.shelved_until > now:
                    continue
                policy = self.policies[a.rule]
                changed = ""
                if policy.escalate_after and a.severity in SEVERITIES[:-1]:
                    due = (now - a.first_at) // policy.escalate_after
                    if due > a.escalations:
                        old = a.severity
                        a.severity = SEVERITIES[SEVERITIES.index(old) + 1]
                        a.escalations += 1
                        self._log(s, a, RULES_ACTOR, "escalated", ts=now, **{"from": old})
                        changed = "escalated"
                if policy.remind_every and now - (a.reminded_at or a.first_at) >= (
                    policy.remind_every
                ):
                    a.reminded_at = now
                    self._log(s, a, RULES_ACTOR, "reminded", ts=now)
                    changed = changed or "reminded"
                if changed:
                    events.append(self._event(a, now, changed))
        for event in events:
            self._notify(event)
        return len(events)

    # -- people's side ---------------------------------------------------------------------
    def acknowledge(self, alarm_id: int, actor: str, comment: str = "") -> dict[str, Any]:
        """Acknowledge (with a comment); acknowledging twice is a conflict."""
        return self._change(alarm_id, actor, "acknowledged", self._ack, comment=comment)

    def comment(self, alarm_id: int, actor: str, comment: str) -> dict[str, Any]:
        """Add a note to the alarm's history (what was seen, who was sent)."""
        if not comment.strip():
            raise Invalid("a comment needs some text")
        return self._change(alarm_id, actor, "commented", lambda *_, **__: None, comment=comment)

    def assign(self, alarm_id: int, actor: str, assignee: str | None) -> dict[str, Any]:
        """Give the alarm to someone (None: take it back)."""

        def do(a: Alarm, now: datetime, actor: str, assignee: str | None) -> None:
            a.assignee = assignee

        return self._change(alarm_id, actor, "assigned", do, assignee=assignee)

    def shelve(self, alarm_id: int, actor: str, minutes: float) -> dict[str, Any]:
        """Hide the alarm from the active list for a while (0 unshelves)."""
        if not 0 <= minutes <= 7 * 24 * 60:
            raise Invalid("shelve for 0 to 10080 minutes")

        def do(a: Alarm, now: datetime, actor: str, minutes: float) -> None:
            a.shelved_until = now + timedelta(minutes=minutes) if minutes else None

        return self._change(alarm_id, actor, "shelved", do, minutes=minutes)

    @staticmethod
    def _ack(a: Alarm, now: datetime, actor: str, comment: str) -> None:
        if a.acked_at is not None:
            raise Conflict(f"alarm {a.id} is already acknowledged by {a.acked_by}")
        a.acked_at = now
        a.acked_by = actor
        a.ack_comment = comment
        a.state = _state(a.active, True)

    def _change(
        self, alarm_id: int, actor: str, action: str, do: Callable[..., None], **detail: Any
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        with self._lock, self._db.session() as s:
            a = s.get(Alarm, alarm_id)
            if a is None:
                raise NotFound(f"no alarm {alarm_id}")
            do(a, now, actor, **detail)
            self._log(s, a, actor, action, ts=now, **detail)
            record(s, actor, f"alarm.{action}", str(alarm_id), **detail)
            out = alarm_dict(a)
            event = self._event(a, now, action)
        self._notify(event)
        return out

    # -- reading ---------------------------------------------------------------------------
    def list(
        self,
        *,
        active: bool | None = None,
        state: str | None = None,
        severity: str | None = None,
        originator: str | None = None,
        type: str | None = None,
        include_shelved: bool = True,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Alarms, newest first, filtered."""
        q = select(Alarm).order_by(Alarm.id.desc()).limit(limit)
        if active is not None:
            q = q.where(Alarm.active == active)
        for col, value in (
            (Alarm.state, state),
            (Alarm.severity, severity),
            (Alarm.originator, originator),
            (Alarm.type, type),
        ):
            if value is not None:
                q = q.where(col == value)
        now = datetime.now(UTC)
        with self._db.session() as s:
            rows = list(s.scalars(q))
            return [
                alarm_dict(a)
                for a in rows
                if include_shelved or a.shelved_until is None or a.shelved_until <= now
            ]

    def counts(self) -> dict[str, int]:
        """Active alarms, and how many of them nobody has acknowledged."""
        with self._db.session() as s:
            rows = dict(
                s.execute(
                    select(Alarm.state, func.count()).where(Alarm.active).group_by(Alarm.state)
                ).all()
            )
        return {
            "active": sum(rows.values()),
            "unacked": rows.get(AlarmState.ACTIVE_UNACK, 0),
        }

    def live_events(self) -> Sequence[AlarmEvent]:
        """The alarms a screen should show (all but the cleared and acknowledged), as events."""
        q = select(Alarm).where(Alarm.state != AlarmState.CLEARED_ACK).order_by(Alarm.id)
        with self._db.session() as s:
            return [self._event(a, a.last_at, "current") for a in s.scalars(q)]

    def get(self, alarm_id: int) -> dict[str, Any]:
        """One alarm with its history."""
        with self._db.session() as s:
            a = s.get(Alarm, alarm_id)
            if a is None:
                raise NotFound(f"no alarm {alarm_id}")
            log = s.scalars(
                select(AlarmLogEntry)
                .where(AlarmLogEntry.alarm_id == alarm_id)
                .order_by(AlarmLogEntry.id)
            )
            return {
                **alarm_dict(a),
                "history": history(log),
            }

    # -- internals -------------------------------------------------------------------------
    @staticmethod
    def _active(s: Session, originator: str, type: str) -> Alarm | None:
        # FOR UPDATE (PostgreSQL): another worker's raise or clear of the same alarm waits
        # for this one, so no occurrence is counted over
        return s.scalars(
            select(Alarm)
            .where(Alarm.originator == originator, Alarm.type == type, Alarm.active.is_(True))
            .with_for_update()
        ).first()

    @staticmethod
    def _log(s: Session, a: Alarm, actor: str, action: str, ts: datetime, **detail: Any) -> None:
        s.add(AlarmLogEntry(alarm_id=a.id, ts=ts, actor=actor, action=action, detail=detail))

    @staticmethod
    def _event(a: Alarm, now: datetime, action: str) -> AlarmEvent:
        return AlarmEvent(
            action=action,
            rule=a.rule,
            ticket=action == "raised" and a.ticket_requested,
            alarm_id=str(a.id),
            alarm_type=a.type,
            originator=a.originator,
            state=a.state,
            severity=a.severity,
            ts=now,
            message=a.message,
            say=a.say,
        )
