"""Cancelling meetings (one, this and the following, or a series) and undoing it within ten
minutes; whose a booking is, and which meetings a scope takes (RoomBookings builds on it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Conflict, Forbidden, Invalid
from hub.identity.roles import Principal, Role
from hub.services.booking.ledger import Slot, booking_dict
from hub.services.booking.waitlist import Waitlist
from hub.storage.audit import record
from hub.storage.models import ROOM_HOLDING, Booking

UNDO_MIN = 10  # minutes in which a cancellation can be undone


class Cancellations(Waitlist):
    """Cancel and undo; the organiser's right to change a booking; a scope's meetings."""

    def _mine(self, b: Booking, who: Principal) -> None:
        if b.organiser != who.name and Role.ADMIN not in who.roles:
            raise Forbidden(
                "only the organiser (or an administrator) may change a booking",
                key="booking.organiser_only",
            )

    def _scope(self, s: Session, b: Booking, scope: str) -> list[Booking]:
        if scope == "this" or b.series_id is None:
            return [b]
        q = select(Booking).where(
            Booking.series_id == b.series_id, Booking.status.in_(ROOM_HOLDING)
        )
        if scope == "following":
            q = q.where(Booking.start >= b.start)
        elif scope != "series":
            raise Invalid("scope is this, following or series", field="scope")
        return list(s.scalars(q.order_by(Booking.start)))

    def cancel(self, who: Principal, booking_id: int, scope: str = "this") -> list[dict[str, Any]]:
        """Cancel a meeting, this and the following of its series, or the whole series; the
        room goes to the first person waiting for it."""
        now = self.clock()
        with self.write("the room") as s:
            b = self._get(s, booking_id)
            self._mine(b, who)
            if b.status not in ROOM_HOLDING:
                raise Conflict(
                    f"booking {b.id} is already {b.status}",
                    key="booking.state",
                    status_word=b.status,
                )
            targets = self._scope(s, b, scope)
            for t in targets:
                t.status, t.cancelled_at = "cancelled", now
            record(s, who.name, "booking.cancel", b.room_id, bookings=[t.id for t in targets])
            out = [booking_dict(t, self.rooms.get(t.room_id)) for t in targets]
            self.promote_waitlist(s, b.room_id)
        return out

    def restore(self, who: Principal, booking_id: int) -> dict[str, Any]:
        """Undo a cancellation made in the last UNDO_MIN minutes: the meetings cancelled
        with this one (this, the following or the series) hold their rooms again where they
        are still free; those taken meanwhile (the waitlist) are named, not forced."""
        now = self.clock()
        with self.write("the room") as s:
            b = self._get(s, booking_id)
            self._mine(b, who)
            if b.status != "cancelled" or b.cancelled_at is None:
                raise Conflict(
                    f"booking {b.id} is {b.status}", key="booking.state", status_word=b.status
                )
            if b.cancelled_at < now - timedelta(minutes=UNDO_MIN):
                raise Conflict(
                    f"a cancellation is undone within {UNDO_MIN} minutes",
                    key="booking.undo_late",
                    min=UNDO_MIN,
                )
            q = select(Booking).where(
                Booking.status == "cancelled", Booking.cancelled_at == b.cancelled_at
            )
            q = (
                q.where(Booking.series_id == b.series_id)
                if b.series_id
                else q.where(Booking.id == b.id)
            )
            restored, taken = [], []
            for t in s.scalars(q.order_by(Booking.start)):
                room = self.rooms.get(t.room_id)
                slot = Slot(t.start, t.end)
                if room is None or slot.end <= now or self._clashes(s, room, [slot]):
                    taken.append(t)
                    continue
                t.status = (
                    "checked_in"
                    if t.checked_in_at
                    else "confirmed"
                    if t.approved_by or self._status_for(room, t.unit) == "confirmed"
                    else "pending"
                )
                t.cancelled_at = None
                restored.append(t)
            record(
                s,
                who.name,
                "booking.restore",
                b.room_id,
                bookings=[t.id for t in restored],
                taken=[t.id for t in taken],
            )
            return {
                "restored": [booking_dict(t, self.rooms.get(t.room_id)) for t in restored],
                "taken": [booking_dict(t, self.rooms.get(t.room_id)) for t in taken],
            }
