"""The waitlist of a taken room and time: booked for the first one waiting as soon as the
room frees up (a cancellation, a release, a rejection), in the freeing transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Conflict
from hub.identity.roles import Principal
from hub.services.booking.ledger import RoomLedger, Slot
from hub.site.model import Room
from hub.storage.audit import record
from hub.storage.models import Booking, BookingSeries, WaitlistEntry


class Waitlist(RoomLedger):
    """Bookings' rows and the waitlist (RoomBookings builds on it)."""

    def _row(
        self,
        room: Room,
        slot: Slot,
        who: Principal | str,
        title: str,
        attendees: int,
        status: str,
        series: BookingSeries | None,
        unit: str | None = None,
    ) -> Booking:
        name = who.name if isinstance(who, Principal) else who
        return Booking(
            series_id=series.id if series else None,
            room_id=room.id,
            organiser=name,
            unit=who.work_unit if isinstance(who, Principal) else unit,
            title=title,
            start=slot.start,
            end=slot.end,
            busy_until=slot.end + timedelta(minutes=room.buffer_min),
            status=status,
            attendees=attendees,
        )

    # -- waitlist ------------------------------------------------------------------------------
    def wait(self, who: Principal, room_id: str, slot: Slot, title: str) -> dict[str, Any]:
        """Wait for a taken room and time; booked for you if it frees up."""
        room = self.room(room_id)
        self.check_slot(room, slot, self.clock())
        with self.write(room.name) as s:
            if not self._clashes(s, room, [slot]):
                raise Conflict(
                    f"{room.name} is free then: book it", key="booking.free", room_id=room.id
                )
            entry = WaitlistEntry(
                room_id=room.id,
                start=slot.start,
                end=slot.end,
                username=who.name,
                unit=who.work_unit,
                title=title,
            )
            s.add(entry)
            s.flush()
            record(s, who.name, "booking.wait", room.id, entry=entry.id)
            return {"id": entry.id, "room_id": room.id, "status": entry.status}

    def promote_waitlist(self, s: Session, room_id: str) -> list[int]:
        """Book the freed room for those waiting, first come first served (in the caller's
        serialised transaction); returns the new bookings' ids."""
        room = self.rooms[room_id]
        now = self.clock()
        q = select(WaitlistEntry).where(
            WaitlistEntry.room_id == room_id, WaitlistEntry.status == "waiting"
        )
        booked = []
        for entry in s.scalars(q.order_by(WaitlistEntry.id)):
            slot = Slot(entry.start, entry.end)
            if entry.end <= now:
                entry.status = "expired"
                continue
            if self._clashes(s, room, [slot]):
                continue
            b = self._row(
                room,
                slot,
                entry.username,
                entry.title,
                0,
                self._status_for(room, entry.unit),
                None,
                unit=entry.unit,
            )
            s.add(b)
            s.flush()
            entry.status, entry.booking_id = "booked", b.id
            record(s, "booking", "booking.from_waitlist", room_id, entry=entry.id, booking=b.id)
            booked.append(b.id)
        return booked
