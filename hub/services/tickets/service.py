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

import base64
import binascii
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.domain import AlarmEvent, TicketEvent
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.alarms import TICKETS, AlarmService, alarm_of
from hub.services.images import NotAnImage, clean_photo
from hub.services.tickets.dispatch import choose, skill_for, technicians
from hub.services.tickets.reading import ACTIVE, DONE, MANAGERS, TicketReading
from hub.site import Site
from hub.site.calendar import BusinessCalendar
from hub.site.maintenance import Asset, Priority, RepairCategory
from hub.storage import Database, outbox
from hub.storage.audit import record
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


class TicketService(TicketReading):
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

    # -- assets ----------------------------------------------------------------------------
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

    # -- the three doors -------------------------------------------------------------------
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
        each message it holds)."""
        with self._lock, self._db.session() as s:
            announce = self._on_alarm(s, event)
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

    def _save_photo(self, data_url: str, ticket_id: int) -> str:
        raw = data_url.split(",", 1)[1] if data_url.startswith("data:") else data_url
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("photo: not base64") from None
        if len(data) > MAX_PHOTO:
            raise Invalid(f"photo: larger than {MAX_PHOTO // (1024 * 1024)} MB")
        try:
            clean = clean_photo(data)  # decoded and re-encoded: an image, and only that
        except NotAnImage as err:
            raise Invalid(f"photo: {err}") from None
        self._photos.mkdir(parents=True, exist_ok=True)
        name = f"{ticket_id}-{uuid.uuid4().hex[:12]}.jpg"
        (self._photos / name).write_bytes(clean)
        return name

    def photo(self, ticket_id: int, who: Principal) -> Path:
        """The file of a ticket's photo."""
        with self._db.session() as s:
            t = self._visible_ticket(s, ticket_id, who)
            if not t.photo:
                raise NotFound("this ticket has no photo")
            return self._photos / t.photo

    # -- dispatch --------------------------------------------------------------------------
    def _dispatch(self, s: Session, t: Ticket, now: datetime) -> TicketEvent:
        tech = choose(self.staff, t.skill, self._open_work(s), now, self.tz)
        if tech is None:
            self._log(s, t, RULES_ACTOR, "queued", now, skill=t.skill)
            return self._event(t, "opened", now)
        t.status, t.assignee, t.assigned_at = "assigned", tech.person_id, now
        self._log(s, t, RULES_ACTOR, "assigned", now, to=tech.person_id, auto=True)
        return self._event(t, "assigned", now, tell=[tech.username])

    # -- people's side ---------------------------------------------------------------------
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
            raise Invalid("say what the work waits for")

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
            raise Invalid("say what was done")

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
            raise Invalid("say what is still wrong")

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
                raise Conflict(f"ticket {t.id} is already rated")
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

    # -- checks ----------------------------------------------------------------------------
    @staticmethod
    def _require(who: Principal, roles: frozenset[Role], why: str) -> None:
        if not who.has_any(roles):
            raise Forbidden(why)

    def _is_assignee(self, t: Ticket, who: Principal) -> bool:
        return t.assignee is not None and t.assignee == self._person_of_user.get(who.name)

    def _assignee(self, t: Ticket, who: Principal) -> None:
        if not self._is_assignee(t, who):
            raise Forbidden(f"ticket {t.id} is not assigned to you")

    @staticmethod
    def _reporter(t: Ticket, who: Principal) -> None:
        # An alarm's ticket has no person as reporter: the dispatchers answer for it.
        if who.name == t.reporter or (t.reporter == RULES_ACTOR and who.has_any(MANAGERS)):
            return
        raise Forbidden(f"only the reporter of ticket {t.id} can do this")

    @staticmethod
    def _state(t: Ticket, allowed: tuple[str, ...], verb: str) -> None:
        if t.status not in allowed:
            raise Conflict(f"ticket {t.id} is {t.status}: cannot {verb} it")

    def _leave_hold(self, t: Ticket, now: datetime) -> None:
        if t.hold_since is not None:
            t.held_minutes += self._elapsed(t, t.hold_since, now)
            t.hold_since = None

    # -- internals -------------------------------------------------------------------------
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

    # -- the SLA watch and reminders (TicketSweeper) ---------------------------------------
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
