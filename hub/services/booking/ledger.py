"""The room ledger: the site's rooms and their bookings as the booking service reads and
checks them (slots, clashes, quotas, recurrence), under `RoomBookings`'s changes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule as rr
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Invalid, NotFound
from hub.services.approvals import Approvals
from hub.services.booking.txn import Serialised
from hub.settings import BookingSettings
from hub.site import Site
from hub.site.hours import parse_hours
from hub.site.model import Room
from hub.storage import Database
from hub.storage.models import ROOM_HOLDING, Booking

MAX_MEETING = timedelta(hours=12)
PAST_GRACE = timedelta(minutes=5)  # "now" from a slow phone is not "in the past"


@dataclass(frozen=True, slots=True)
class Slot:
    """A meeting's time."""

    start: datetime
    end: datetime


def booking_dict(b: Booking, room: Room | None = None) -> dict[str, Any]:
    """A booking as the API shows it."""

    def iso(d: datetime | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "id": b.id,
        "series_id": b.series_id,
        "room_id": b.room_id,
        "room": room.name if room else None,
        "organiser": b.organiser,
        "unit": b.unit,
        "title": b.title,
        "start": iso(b.start),
        "end": iso(b.end),
        "status": b.status,
        "attendees": b.attendees,
        "approved_by": b.approved_by,
        "checked_in_at": iso(b.checked_in_at),
        "checked_in_by": b.checked_in_by,
        "released_at": iso(b.released_at),
        "cancelled_at": iso(b.cancelled_at),
        "hvac": b.hvac,
    }


class RoomLedger:
    """The rooms, their bookings and the checks every change makes."""

    def __init__(
        self,
        db: Database,
        site: Site,
        settings: BookingSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self.site = site
        self.settings = settings
        self.rooms = {r.id: r for r in site.rooms}
        self.units = {u.id: u for u in site.work_units}
        self.tz = ZoneInfo(site.site.timezone)
        self.clock = clock
        self.write = Serialised(db)
        self.approvals = Approvals(site)
        # tells the people a change concerns (their inbox, e-mail): the hub sets it
        self.announce: Callable[[Notice], None] = lambda _notice: None

    # -- checks ------------------------------------------------------------------------------
    def room(self, room_id: str) -> Room:
        """The room (404 if the site has none of that id)."""
        room = self.rooms.get(room_id)
        if room is None:
            raise NotFound(f"no room {room_id!r}", key="not_found", what=room_id)
        return room

    def check_slot(self, room: Room, slot: Slot, now: datetime) -> None:
        """422 unless the meeting is ahead, within the horizon and the room's hours."""
        if slot.end <= slot.start:
            raise Invalid("a meeting ends after it starts", field="end", key="booking.order")
        if slot.end - slot.start > MAX_MEETING:
            raise Invalid("a meeting lasts at most 12 hours", field="end", key="booking.too_long")
        if slot.start < now - PAST_GRACE:
            raise Invalid(
                f"{self._local(slot.start)} is in the past",
                field="start",
                key="booking.past",
                start_when=slot.start.isoformat(),
            )
        if slot.start > now + timedelta(days=self.settings.horizon_days):
            raise Invalid(
                f"bookings reach {self.settings.horizon_days} days ahead",
                field="start",
                key="booking.horizon",
                days=self.settings.horizon_days,
            )
        opens, closes = parse_hours(room.hours)
        start, end = slot.start.astimezone(self.tz), slot.end.astimezone(self.tz)
        if start.date() != end.date() or start.time() < opens or end.time() > closes:
            raise Invalid(
                f"{room.name} can be booked {room.hours} ({self._local(slot.start)} is not within)",
                field="start",
                key="booking.hours",
                room_id=room.id,
                hours=room.hours,
                start_when=slot.start.isoformat(),
            )

    def _local(self, t: datetime) -> str:
        return t.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def _clashes(
        self, s: Session, room: Room, slots: Sequence[Slot], ignore: Sequence[int] = ()
    ) -> list[tuple[Slot, Booking]]:
        buffer = timedelta(minutes=room.buffer_min)
        if not slots:
            return []
        lo = min(x.start for x in slots) - buffer
        hi = max(x.end for x in slots) + buffer
        q = select(Booking).where(
            Booking.room_id == room.id,
            Booking.status.in_(ROOM_HOLDING),
            Booking.start < hi,
            Booking.busy_until > lo,
        )
        if ignore:
            q = q.where(Booking.id.not_in(ignore))
        held = list(s.scalars(q))
        out = []
        for slot in slots:
            for b in held:
                # [start, end + buffer) of each must not meet the other's
                if b.start < slot.end + buffer and slot.start < b.busy_until:
                    out.append((slot, b))
        return out

    def _refuse_clashes(self, clashes: list[tuple[Slot, Booking]], room: Room) -> None:
        if clashes:
            when = ", ".join(sorted({self._local(slot.start) for slot, _ in clashes}))
            other = clashes[0][1]
            raise Conflict(
                f"{room.name} is taken at {when} (by {other.title!r} "
                f"{self._local(other.start)}-{other.end.astimezone(self.tz):%H:%M}, "
                f"with {room.buffer_min} minutes kept free after each meeting)",
                key="booking.taken",
                room_id=room.id,
                start_when=other.start.isoformat(),
                end_at=other.end.isoformat(),
                title=other.title,
            )

    def _check_quota(
        self, s: Session, unit: str | None, slots: Sequence[Slot], ignore: Sequence[int] = ()
    ) -> None:
        quota = self.units[unit].room_hours_per_week if unit in self.units else None
        if quota is None or unit is None:
            return
        weeks: dict[tuple[int, int], float] = defaultdict(float)
        for slot in slots:
            weeks[self._week(slot.start)] += (slot.end - slot.start).total_seconds() / 3600
        for (year, week), hours in weeks.items():
            monday = datetime.fromisocalendar(year, week, 1).replace(tzinfo=self.tz)
            q = select(Booking).where(
                Booking.unit == unit,
                Booking.status.in_(ROOM_HOLDING),
                Booking.start >= monday,
                Booking.start < monday + timedelta(days=7),
            )
            if ignore:
                q = q.where(Booking.id.not_in(ignore))
            used = sum((b.end - b.start).total_seconds() / 3600 for b in s.scalars(q))
            if used + hours > quota + 1e-9:
                raise Conflict(
                    f"over the unit's quota of {quota:g} room hours in week {week} of {year} "
                    f"({used:g} booked, {hours:g} more asked)",
                    key="booking.quota",
                    week=week,
                    used=round(used, 1),
                    quota=quota,
                )

    def _week(self, t: datetime) -> tuple[int, int]:
        iso = t.astimezone(self.tz).isocalendar()
        return iso.year, iso.week

    def _status_for(self, room: Room, unit: str | None) -> str:
        if room.needs_approval and room.work_unit and unit != room.work_unit:
            return "pending"
        return "confirmed"

    # -- recurrence --------------------------------------------------------------------------
    def occurrences(
        self, rule: str, first: Slot, exdates: Sequence[date | datetime] = ()
    ) -> list[Slot]:
        """The series' meetings within the horizon (422 for a bad rule or a huge series)."""
        start = first.start.astimezone(self.tz)
        try:
            parsed = rr.rrulestr(rule.strip().removeprefix("RRULE:"), dtstart=start)
        except (ValueError, TypeError) as err:
            raise Invalid(f"invalid RRULE: {err}", field="rrule", key="booking.rrule") from None
        if not isinstance(parsed, rr.rrule):
            raise Invalid("give one RRULE", field="rrule", key="booking.rrule")
        horizon = self.clock() + timedelta(days=self.settings.horizon_days)
        skip_days = {d for d in exdates if not isinstance(d, datetime)}
        skip_times = {d.astimezone(UTC) for d in exdates if isinstance(d, datetime)}
        length = first.end - first.start
        out = []
        for t in parsed.xafter(start - timedelta(seconds=1), inc=True):
            if t > horizon:
                break
            if t.date() in skip_days or t.astimezone(UTC) in skip_times:
                continue
            out.append(Slot(t.astimezone(UTC), t.astimezone(UTC) + length))
            if len(out) > self.settings.max_occurrences:
                raise Invalid(
                    f"a series books at most {self.settings.max_occurrences} meetings; give "
                    "COUNT or UNTIL",
                    field="rrule",
                    key="booking.series_too_long",
                    max=self.settings.max_occurrences,
                )
        if not out:
            raise Invalid(
                "the series has no meeting within the booking horizon",
                field="rrule",
                key="booking.series_empty",
            )
        return out

    # -- reading ---------------------------------------------------------------------------------
    def _get(self, s: Session, booking_id: int) -> Booking:
        b = s.get(Booking, booking_id)
        if b is None:
            raise NotFound(f"no booking {booking_id}", key="not_found", what=f"#{booking_id}")
        return b

    def get(self, booking_id: int) -> dict[str, Any]:
        """One booking."""
        with self._db.session() as s:
            b = self._get(s, booking_id)
            return booking_dict(b, self.rooms.get(b.room_id))

    def find(
        self,
        *,
        room_id: str | None = None,
        organiser: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        holding: bool = True,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Bookings overlapping [start, end), oldest first."""
        q = select(Booking).order_by(Booking.start).limit(limit)
        if room_id:
            q = q.where(Booking.room_id == room_id)
        if organiser:
            q = q.where(Booking.organiser == organiser)
        if start:
            q = q.where(Booking.end > start)
        if end:
            q = q.where(Booking.start < end)
        if holding:
            q = q.where(Booking.status.in_(ROOM_HOLDING))
        with self._db.session() as s:
            return [booking_dict(b, self.rooms.get(b.room_id)) for b in s.scalars(q)]

    def availability(self, day: date) -> list[dict[str, Any]]:
        """Every room with its bookable hours and the meetings of one day (site time)."""
        lo = datetime.combine(day, datetime.min.time(), self.tz)
        taken = self.find(start=lo, end=lo + timedelta(days=1))
        by_room: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for b in taken:
            by_room[b["room_id"]].append(b)
        return [
            {
                "id": r.id,
                "name": r.name,
                "building": r.building,
                "floor": r.floor,
                "capacity": r.capacity,
                "equipment": r.equipment,
                "owner": r.work_unit,
                "needs_approval": r.needs_approval,
                "hours": r.hours,
                "buffer_min": r.buffer_min,
                "bookings": by_room.get(r.id, []),
            }
            for r in self.site.rooms
        ]
