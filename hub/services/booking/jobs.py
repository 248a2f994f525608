"""The booking job inside the hub: releases meetings nobody checked in to (their room goes to
the waitlist), and makes the building follow the bookings: a booked room's HVAC point goes to
`comfort` `lead_min` before the meeting and back to `setback` when no meeting needs it, through
the audited command path (BACnet or Modbus, read back)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.domain import CommandResult
from hub.services.booking.rooms import RoomBookings
from hub.storage.audit import record
from hub.storage.models import ROOM_HOLDING, Booking
from hub.tasks import Periodic

log = logging.getLogger(__name__)

Write = Callable[[str, str, float], Awaitable[CommandResult]]  # (actor, point, value)
ACTOR = "booking"


@dataclass(frozen=True, slots=True)
class HvacStep:
    """One command for one room, and the bookings it is for."""

    room_id: str
    point: str
    value: float
    state: str  # comfort, setback
    bookings: tuple[int, ...]
    handed_over: tuple[int, ...] = ()  # ended, but the next meeting keeps the room comfortable


def release_no_shows(rooms: RoomBookings, now: datetime) -> list[int]:
    """Release confirmed meetings of check-in rooms nobody signed in to within
    `release_after_min` of the start; the rooms go to those waiting."""
    grace = timedelta(minutes=rooms.settings.release_after_min)
    checkin_rooms = [r.id for r in rooms.site.rooms if r.checkin]
    if not checkin_rooms:
        return []
    with rooms.write("the room") as s:
        q = select(Booking).where(
            Booking.status == "confirmed",
            Booking.room_id.in_(checkin_rooms),
            Booking.start <= now - grace,
            Booking.end > now - timedelta(days=1),
        )
        released = list(s.scalars(q))
        for b in released:
            b.status, b.released_at = "released", now
            record(s, ACTOR, "booking.release", b.room_id, booking=b.id, reason="no check-in")
        for room_id in {b.room_id for b in released}:
            rooms.promote_waitlist(s, room_id)
        return [b.id for b in released]


def hvac_plan(rooms: RoomBookings, now: datetime) -> list[HvacStep]:
    """What each room with an HVAC point needs now: comfort while a meeting is near or on,
    setback once none is (each state commanded once)."""
    steps = []
    with rooms.write("the room") as s:
        for room in rooms.site.rooms:
            if room.hvac is None:
                continue
            lead = timedelta(minutes=room.hvac.lead_min)
            q = select(Booking).where(
                Booking.room_id == room.id,
                Booking.start <= now + lead,
                Booking.end > now - timedelta(days=1),
            )
            rows = list(s.scalars(q))
            needing = [b for b in rows if b.status in ROOM_HOLDING and b.end > now]
            on = [b for b in rows if b.hvac == "comfort"]
            ended = tuple(b.id for b in on if b not in needing)  # the next meeting takes over
            if needing and not any(b.hvac == "comfort" for b in needing):
                steps.append(
                    HvacStep(
                        room.id,
                        room.hvac.point,
                        room.hvac.comfort,
                        "comfort",
                        tuple(b.id for b in needing),
                        handed_over=ended,
                    )
                )
            elif needing:
                late = tuple(b.id for b in needing if b.hvac == "")
                if ended or late:  # the room is comfortable already
                    steps.append(HvacStep(room.id, "", 0.0, "comfort", late, handed_over=ended))
            elif on:
                steps.append(
                    HvacStep(
                        room.id,
                        room.hvac.point,
                        room.hvac.setback,
                        "setback",
                        tuple(b.id for b in on),
                    )
                )
    return steps


def hvac_done(rooms: RoomBookings, step: HvacStep) -> None:
    """Record what the command achieved on its bookings."""
    with rooms.write("the room") as s:
        for b in s.scalars(select(Booking).where(Booking.id.in_(step.bookings))):
            b.hvac = step.state
        for b in s.scalars(select(Booking).where(Booking.id.in_(step.handed_over))):
            b.hvac = "handover"


class BookingJobs(Periodic):
    """The hub component running the release and HVAC steps every `every_s` seconds."""

    def __init__(self, rooms: RoomBookings, write: Write, every_s: float) -> None:
        super().__init__("booking_jobs", every_s, self.run_once)
        self._rooms = rooms
        self._write = write
        self.released = 0
        self.commands = 0
        self.failed_commands = 0
        self.last: dict[str, Any] = {}

    async def run_once(self) -> int:
        """One pass: release no-shows, then bring each room's HVAC to what it needs; returns
        how many bookings changed."""
        now = self._rooms.clock()
        released = await asyncio.to_thread(release_no_shows, self._rooms, now)
        self.released += len(released)
        done = []
        for step in await asyncio.to_thread(hvac_plan, self._rooms, now):
            if step.point:
                result = await self._write(ACTOR, step.point, step.value)
                self.commands += 1
                if not result.ok:  # tried again next pass
                    self.failed_commands += 1
                    log.warning(
                        "room %s HVAC %s failed: %s", step.room_id, step.state, result.detail
                    )
                    continue
            await asyncio.to_thread(hvac_done, self._rooms, step)
            done.append({"room": step.room_id, "state": step.state, "bookings": step.bookings})
        self.last = {"released": released, "hvac": done}
        return len(released) + sum(len(d["bookings"]) for d in done)

    def health(self) -> dict[str, object]:
        """When it last ran, what it did, whether the last pass failed."""
        return {
            **super().health(),
            "released": self.released,
            "hvac_commands": self.commands,
            "hvac_failures": self.failed_commands,
        }
