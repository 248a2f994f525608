"""Check-in at the room's door: a code that rotates every `qr_step_s` seconds (the door display
shows it as a QR code; a photo of it is useless a minute later), per-attendee sign-in, and
attendance per meeting and per unit."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.errors import Conflict, Forbidden, NotFound
from hub.identity.roles import Principal
from hub.services.booking.rooms import RoomBookings, booking_dict
from hub.storage.audit import record
from hub.storage.models import ROOM_HOLDING, Attendance, Booking

EARLY = timedelta(minutes=15)  # sign-in opens this long before a meeting


class CheckIn:
    """Rotating door codes and sign-ins for the rooms of a `RoomBookings`."""

    def __init__(self, rooms: RoomBookings, secret: bytes) -> None:
        self.rooms = rooms
        self._key = hmac.new(secret, b"dayuan-hub room check-in", hashlib.sha256).digest()

    @property
    def step_s(self) -> int:
        """How long one code lives."""
        return self.rooms.settings.qr_step_s

    def code(self, room_id: str, at: datetime) -> str:
        """The room's code at `at`: 8 characters of an HMAC of the room and the time step."""
        step = int(at.timestamp()) // self.step_s
        mac = hmac.new(self._key, f"{room_id}:{step}".encode(), hashlib.sha256).digest()
        return base64.b32encode(mac[:5]).decode()

    def valid(self, room_id: str, code: str, at: datetime) -> bool:
        """The current or the previous step's code (a scan may take a few seconds)."""
        wanted = code.strip().upper()
        return any(
            hmac.compare_digest(self.code(room_id, at - timedelta(seconds=k * self.step_s)), wanted)
            for k in (0, 1)
        )

    def door(self, room_id: str, url: str) -> dict[str, Any]:
        """What the door display shows: the code (in `url`'s check-in link), how long it
        lives, and the meeting now and next."""
        room = self.rooms.room(room_id)
        now = self.rooms.clock()
        code = self.code(room_id, now)
        left = self.step_s - int(now.timestamp()) % self.step_s
        today = self.rooms.find(room_id=room_id, start=now, end=now + timedelta(days=1))
        # in use once the meeting has started; in the quarter hour before, it is "starting"
        # (check-in is open, the room still free)
        current = next((b for b in today if b["start"] <= now.isoformat()), None)
        soon = next(
            (b for b in today if b is not current and b["start"] <= (now + EARLY).isoformat()),
            None,
        )
        upcoming = [b for b in today if b is not current and b is not soon][:3]
        return {
            "room": {"id": room.id, "name": room.name, "capacity": room.capacity},
            "code": code,
            "expires_in_s": left,
            "checkin_url": f"{url}/checkin.html?room={room_id}&code={code}",
            "now": current,
            "soon": soon,
            "next": upcoming,
        }

    def sign_in(self, who: Principal, room_id: str, code: str) -> dict[str, Any]:
        """Sign in to the meeting in the room now (from 15 minutes before its start); the
        first sign-in checks the meeting in, so it is not released. 403 for a wrong or
        expired code, 409 when no meeting is on."""
        room = self.rooms.room(room_id)
        now = self.rooms.clock()
        if not self.valid(room_id, code, now):
            raise Forbidden(
                "this code is not valid (any more): scan the door's code again", key="checkin.code"
            )
        with self.rooms.write(room.name) as s:
            q = select(Booking).where(
                Booking.room_id == room_id,
                Booking.status.in_(ROOM_HOLDING),
                Booking.start <= now + EARLY,
                Booking.end > now,
            )
            b = s.scalars(q.order_by(Booking.start)).first()
            if b is None:
                raise Conflict(
                    f"no meeting in {room.name} now", key="checkin.no_meeting", room_id=room.id
                )
            if b.status == "pending":
                raise Conflict(
                    f"{b.title!r} is still waiting for approval",
                    key="checkin.pending",
                    title=b.title,
                )
            first = b.status == "confirmed"
            if first:
                b.status, b.checked_in_at, b.checked_in_by = "checked_in", now, who.name
            seen = s.scalar(
                select(Attendance).where(
                    Attendance.booking_id == b.id, Attendance.username == who.name
                )
            )
            if seen is None:
                s.add(Attendance(booking_id=b.id, username=who.name, unit=who.work_unit, at=now))
            record(s, who.name, "booking.sign_in", room_id, booking=b.id, checked_in=first)
            s.flush()
            out = booking_dict(b, room)
            out["signed_in"] = len(
                list(s.scalars(select(Attendance.id).where(Attendance.booking_id == b.id)))
            )
            return out

    def attendance(self, booking_id: int) -> dict[str, Any]:
        """Who signed in to a meeting, and when."""
        with self.rooms._db.session() as s:
            b = s.get(Booking, booking_id)
            if b is None:
                raise NotFound(f"no booking {booking_id}")
            rows = s.scalars(
                select(Attendance)
                .where(Attendance.booking_id == booking_id)
                .order_by(Attendance.at)
            )
            people = [
                {"username": a.username, "unit": a.unit, "at": a.at.isoformat()} for a in rows
            ]
            return {**booking_dict(b, self.rooms.rooms.get(b.room_id)), "signed_in": people}

    def report(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Per meeting (who came) and per unit (hours booked and used, meetings held,
        no-shows released, people signed in) for meetings starting in [start, end)."""
        with self.rooms._db.session() as s:
            q = select(Booking).where(
                Booking.start >= start,
                Booking.start < end,
                Booking.status.in_((*ROOM_HOLDING, "released")),
            )
            meetings = list(s.scalars(q.order_by(Booking.start)))
            counts: dict[int, int] = defaultdict(int)
            ids = [b.id for b in meetings]
            if ids:
                for a in s.scalars(select(Attendance).where(Attendance.booking_id.in_(ids))):
                    counts[a.booking_id] += 1
        per_meeting = []
        units: dict[str, dict[str, Any]] = {}
        for b in meetings:
            hours = round((b.end - b.start).total_seconds() / 3600, 2)
            room = self.rooms.rooms.get(b.room_id)
            per_meeting.append(
                {
                    "booking": b.id,
                    "room": room.name if room else b.room_id,
                    "title": b.title,
                    "organiser": b.organiser,
                    "unit": b.unit or "",
                    "start": b.start.astimezone(self.rooms.tz).strftime("%Y-%m-%d %H:%M"),
                    "hours": hours,
                    "status": b.status,
                    "checked_in_at": b.checked_in_at.isoformat() if b.checked_in_at else "",
                    "expected": b.attendees,
                    "signed_in": counts[b.id],
                }
            )
            u = units.setdefault(
                b.unit or "",
                {
                    "unit": b.unit or "",
                    "meetings": 0,
                    "hours_booked": 0.0,
                    "held": 0,
                    "hours_used": 0.0,
                    "no_shows": 0,
                    "signed_in": 0,
                },
            )
            u["meetings"] += 1
            u["hours_booked"] = round(u["hours_booked"] + hours, 2)
            if b.checked_in_at is not None:
                u["held"] += 1
                u["hours_used"] = round(u["hours_used"] + hours, 2)
            if b.status == "released":
                u["no_shows"] += 1
            u["signed_in"] += counts[b.id]
        for u in units.values():
            name = self.rooms.units.get(u["unit"])
            u["unit_name"] = name.name if name else u["unit"]
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "meetings": per_meeting,
            "units": sorted(units.values(), key=lambda u: u["unit"]),
        }


MEETING_COLUMNS = [
    "booking",
    "room",
    "title",
    "organiser",
    "unit",
    "start",
    "hours",
    "status",
    "checked_in_at",
    "expected",
    "signed_in",
]
UNIT_COLUMNS = [
    "unit",
    "unit_name",
    "meetings",
    "hours_booked",
    "held",
    "hours_used",
    "no_shows",
    "signed_in",
]
