"""iCalendar (RFC 5545) feeds of bookings: one per room, one per person, for the calendar
applications people already use (subscribed by URL with a feed token)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar

from hub.services.booking.rooms import RoomBookings

PAST = timedelta(days=30)  # how far back a feed reaches


def _calendar(name: str, bookings: list[dict[str, Any]], site_id: str) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//dayuan hub//bookings//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    stamp = datetime.now(UTC)
    for b in bookings:
        event = icalendar.Event()
        event.add("uid", f"booking-{b['id']}@{site_id}")
        event.add("dtstamp", stamp)
        event.add("dtstart", datetime.fromisoformat(b["start"]))
        event.add("dtend", datetime.fromisoformat(b["end"]))
        event.add("summary", b["title"])
        event.add("location", b["room"] or b["room_id"])
        event.add(
            "organizer",
            f"mailto:{b['organiser']}@{site_id}.invalid",
            parameters={"CN": b["organiser"]},
        )
        event.add("status", "TENTATIVE" if b["status"] == "pending" else "CONFIRMED")
        cal.add_component(event)
    return bytes(cal.to_ical())


def room_feed(rooms: RoomBookings, room_id: str) -> bytes:
    """A room's meetings from a month ago to the booking horizon."""
    room = rooms.room(room_id)
    now = rooms.clock()
    bookings = rooms.find(
        room_id=room_id,
        start=now - PAST,
        end=now + timedelta(days=rooms.settings.horizon_days),
    )
    return _calendar(room.name, bookings, rooms.site.site.id)


def person_feed(rooms: RoomBookings, username: str) -> bytes:
    """The meetings a person organises."""
    now = rooms.clock()
    bookings = rooms.find(
        organiser=username,
        start=now - PAST,
        end=now + timedelta(days=rooms.settings.horizon_days),
    )
    return _calendar(f"{username} · {rooms.site.site.name}", bookings, rooms.site.site.id)
