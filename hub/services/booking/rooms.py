"""Meeting-room bookings: single and recurring (RFC 5545 RRULE with exceptions), edits of
one occurrence, this and the following, or a date range; approval by the owning unit;
weekly quotas per unit; cancellation; the waitlist.

The no-overlap rule (a room's meeting plus its buffer never overlaps another's) is held by
the database: an exclusion constraint on PostgreSQL (migration 0004); on SQLite every check
and write runs in a BEGIN IMMEDIATE transaction, so two requests are serialised. A request
either books everything it asks for or nothing (a series with one taken date is refused,
naming the date).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.approvals import Request
from hub.services.booking.cancel import Cancellations
from hub.services.booking.ledger import MAX_MEETING, PAST_GRACE, Slot, booking_dict
from hub.storage.audit import record
from hub.storage.models import ROOM_HOLDING, Booking, BookingSeries

__all__ = ["MAX_MEETING", "PAST_GRACE", "RoomBookings", "Slot", "booking_dict"]


class RoomBookings(Cancellations):
    """Bookings of the site's rooms in the relational database; every change audited."""

    # -- booking -----------------------------------------------------------------------------
    def book(
        self,
        who: Principal,
        room_id: str,
        slot: Slot,
        *,
        title: str,
        attendees: int = 0,
        rrule: str | None = None,
        exdates: Sequence[date | datetime] = (),
    ) -> dict[str, Any]:
        """Book one meeting, or a series (every meeting or none)."""
        room = self.room(room_id)
        now = self.clock()
        slots = self.occurrences(rrule, slot, exdates) if rrule else [slot]
        for x in slots:
            self.check_slot(room, x, now)
        if attendees > room.capacity:
            raise Invalid(
                f"{room.name} seats {room.capacity}",
                field="attendees",
                key="booking.seats",
                room_id=room.id,
                seats=room.capacity,
            )
        status = self._status_for(room, who.work_unit)
        with self.write(room.name) as s:
            self._refuse_clashes(self._clashes(s, room, slots), room)
            self._check_quota(s, who.work_unit, slots)
            series = None
            if rrule:
                series = BookingSeries(
                    room_id=room.id,
                    organiser=who.name,
                    unit=who.work_unit,
                    title=title,
                    rrule=rrule.strip().removeprefix("RRULE:"),
                    first_start=slot.start,
                    duration_min=int((slot.end - slot.start).total_seconds() // 60),
                    exdates=[d.isoformat() for d in exdates],
                )
                s.add(series)
                s.flush()
            rows = [self._row(room, x, who, title, attendees, status, series) for x in slots]
            s.add_all(rows)
            s.flush()
            record(
                s,
                who.name,
                "booking.create",
                room.id,
                series=series.id if series else None,
                bookings=[b.id for b in rows],
                status=status,
            )
            out = [booking_dict(b, room) for b in rows]
        if status == "pending":  # the owning unit's approvers are asked (their inbox)
            first = rows[0]
            names, role = self.approvals.deciders(
                Request("room", str(first.id), room.work_unit, who.name), 0
            )
            start = slots[0].start.astimezone(self.tz)
            many = f"（共 {len(rows)} 次）" if len(rows) > 1 else ""
            self.announce(
                Notice(
                    topic="booking.waiting",
                    subject=f"【待审批】{room.name} {start:%m-%d %H:%M}「{title}」{many}",
                    body=f"{who.name} 申请使用，等待您审批。",
                    ts=now,
                    notify=tuple(names) or (f"role:{role.value}",),
                    key=f"booking:{first.id}:waiting",
                    link="/rooms.html",
                )
            )
        if series is None:
            return out[0]
        return {"series_id": series.id, "status": status, "bookings": out}

    # -- changing and cancelling -----------------------------------------------------------
    def change(
        self,
        who: Principal,
        booking_id: int,
        *,
        scope: str = "this",
        start: datetime | None = None,
        end: datetime | None = None,
        title: str | None = None,
        attendees: int | None = None,
    ) -> list[dict[str, Any]]:
        """Move, retitle or resize one meeting, or this one and the following of its series
        (each moved by the same amount as this one). Checked like a new booking."""
        now = self.clock()
        with self.write("the room") as s:
            b = self._get(s, booking_id)
            self._mine(b, who)
            if b.status not in ROOM_HOLDING:
                raise Conflict(
                    f"booking {b.id} is {b.status}", key="booking.state", status_word=b.status
                )
            room = self.rooms[b.room_id]
            targets = self._scope(s, b, scope)
            shift = (start - b.start) if start else timedelta(0)
            length = (end - (start or b.start)) if end else (b.end - b.start)
            slots = [Slot(t.start + shift, t.start + shift + length) for t in targets]
            for x in slots:
                self.check_slot(room, x, now)
            ids = [t.id for t in targets]
            self._refuse_clashes(self._clashes(s, room, slots, ignore=ids), room)
            self._check_quota(s, b.unit, slots, ignore=ids)
            if attendees is not None and attendees > room.capacity:
                raise Invalid(
                    f"{room.name} seats {room.capacity}",
                    field="attendees",
                    key="booking.seats",
                    room_id=room.id,
                    seats=room.capacity,
                )
            if scope == "following" and b.series_id is not None and targets[0].id == b.id:
                series = self._split(s, b, targets, title, shift)
            else:
                series = None
            for t, x in zip(targets, slots, strict=True):
                t.start, t.end = x.start, x.end
                t.busy_until = x.end + timedelta(minutes=room.buffer_min)
                if title is not None:
                    t.title = title
                if attendees is not None:
                    t.attendees = attendees
                if series is not None:
                    t.series_id = series.id
            record(s, who.name, "booking.change", room.id, bookings=ids, scope=scope)
            return [booking_dict(t, room) for t in targets]

    def _split(
        self,
        s: Session,
        b: Booking,
        following: list[Booking],
        title: str | None,
        shift: timedelta,
    ) -> BookingSeries | None:
        """'This and following' of a series: the rest becomes a series of its own."""
        old = s.get(BookingSeries, b.series_id)
        if old is None:
            return None
        new = BookingSeries(
            room_id=old.room_id,
            organiser=old.organiser,
            unit=old.unit,
            title=title or old.title,
            rrule=old.rrule,
            first_start=b.start + shift,
            duration_min=old.duration_min,
            exdates=old.exdates,
        )
        s.add(new)
        s.flush()
        return new

    def change_range(
        self,
        who: Principal,
        series_id: int,
        first: date,
        last: date,
        *,
        cancel: bool = False,
        title: str | None = None,
        hours: tuple[time, time] | None = None,
    ) -> list[dict[str, Any]]:
        """Cancel, retitle or re-time (new local start and end times) the meetings of a
        series between two dates (inclusive); new times are checked like new bookings."""
        lo = datetime.combine(first, datetime.min.time(), self.tz)
        hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), self.tz)
        with self.write("the room") as s:
            series = s.get(BookingSeries, series_id)
            if series is None:
                raise NotFound(f"no series {series_id}")
            if series.organiser != who.name and Role.ADMIN not in who.roles:
                raise Forbidden(
                    "only the organiser (or an administrator) may change a series",
                    key="booking.organiser_only",
                )
            q = select(Booking).where(
                Booking.series_id == series_id,
                Booking.status.in_(ROOM_HOLDING),
                Booking.start >= lo,
                Booking.start < hi,
            )
            rows = list(s.scalars(q.order_by(Booking.start)))
            now = self.clock()
            room = self.rooms[series.room_id]
            if hours is not None and not cancel:
                slots = [self._at_hours(b.start, hours) for b in rows]
                for x in slots:
                    self.check_slot(room, x, now)
                ids = [b.id for b in rows]
                self._refuse_clashes(self._clashes(s, room, slots, ignore=ids), room)
                self._check_quota(s, series.unit, slots, ignore=ids)
                for b, x in zip(rows, slots, strict=True):
                    b.start, b.end = x.start, x.end
                    b.busy_until = x.end + timedelta(minutes=room.buffer_min)
            for b in rows:
                if cancel:
                    b.status, b.cancelled_at = "cancelled", now
                elif title is not None:
                    b.title = title
            record(
                s,
                who.name,
                "booking.range",
                series.room_id,
                series=series_id,
                first=first.isoformat(),
                last=last.isoformat(),
                cancel=cancel,
                hours=[h.isoformat() for h in hours] if hours else None,
            )
            return [booking_dict(b, room) for b in rows]

    def _at_hours(self, start: datetime, hours: tuple[time, time]) -> Slot:
        day = start.astimezone(self.tz).date()
        return Slot(
            datetime.combine(day, hours[0], self.tz).astimezone(UTC),
            datetime.combine(day, hours[1], self.tz).astimezone(UTC),
        )

    def decide(self, who: Principal, booking_id: int, approve: bool) -> dict[str, Any]:
        """The owning unit's approver (or an administrator) approves or rejects a pending
        booking (and the rest of its series still pending): the room's approval chain."""
        now = self.clock()
        with self.write("the room") as s:
            b = self._get(s, booking_id)
            room = self.rooms[b.room_id]
            targets = [t for t in self._scope(s, b, "following") if t.status == "pending"]
            for t in targets or [b]:
                request = Request("room", str(t.id), room.work_unit, b.organiser)
                self.approvals.decide(s, request, who, approve, now)  # 403 for anyone else
            if b.status != "pending":
                raise Conflict(
                    f"booking {b.id} is {b.status}, not waiting for approval",
                    key="booking.not_waiting",
                )
            for t in targets:
                t.status = "confirmed" if approve else "rejected"
                t.approved_by = who.name
                if not approve:
                    t.cancelled_at = now
            record(
                s,
                who.name,
                "booking.approve" if approve else "booking.reject",
                room.id,
                bookings=[t.id for t in targets],
            )
            out = booking_dict(b, room)
        start = b.start.astimezone(self.tz)
        self.announce(
            Notice(
                topic="booking.approved" if approve else "booking.rejected",
                subject=f"【会议室】{room.name} {start:%m-%d %H:%M}「{b.title}」"
                + ("已批准" if approve else "未获批准"),
                body="",
                ts=now,
                notify=(b.organiser,),
                key=f"booking:{b.id}:{'approved' if approve else 'rejected'}",
                link="/rooms.html",
            )
        )
        return out
