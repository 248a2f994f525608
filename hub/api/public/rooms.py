"""Meeting-room bookings, door displays and attendance."""

from __future__ import annotations

from hub.api.public.base import Out, Timestamp


class BookingPublic(Out):
    """A meeting-room booking."""

    id: int
    series_id: int | None
    room_id: str
    room: str | None
    organiser: str
    unit: str | None
    title: str
    start: Timestamp
    end: Timestamp
    status: str
    attendees: int
    approved_by: str | None
    checked_in_at: Timestamp | None
    checked_in_by: str | None
    released_at: Timestamp | None
    cancelled_at: Timestamp | None
    hvac: str | None


class SeriesBooked(Out):
    """A recurring booking: the series and every meeting in it."""

    series_id: int
    status: str
    bookings: list[BookingPublic]


class RoomDay(Out):
    """A room, when it may be booked, and one day's meetings in it."""

    id: str
    name: str
    building: str | None
    floor: str | None
    capacity: int
    equipment: list[str]
    owner: str | None
    needs_approval: bool
    hours: str | None
    buffer_min: int
    bookings: list[BookingPublic]


class WaitlistPublic(Out):
    """A place on a room's waitlist."""

    id: int
    room_id: str
    status: str


class CalendarToken(Out):
    """A calendar feed token and the feed addresses it opens."""

    token: str
    mine: str
    room: str


class SignedIn(Out):
    """Someone who signed in at a meeting's door."""

    username: str
    unit: str | None
    at: Timestamp


class AttendancePublic(BookingPublic):
    """A meeting and who signed in at its door."""

    signed_in: list[SignedIn]


class CheckedIn(BookingPublic):
    """The meeting one signed in to, and how many have signed in."""

    signed_in: int


class DoorRoom(Out):
    """The room a door display stands at."""

    id: str
    name: str
    capacity: int


class DoorPublic(Out):
    """What a room's door display shows: the meeting now and next, and the check-in code
    (with its QR code as an SVG data URL) while it lasts."""

    room: DoorRoom
    code: str
    expires_in_s: int
    checkin_url: str
    now: BookingPublic | None  # started, not yet over: the room is in use
    soon: BookingPublic | None = None  # starts within 15 minutes: check-in is open
    next: list[BookingPublic]  # up to three
    qr: str


class Restored(Out):
    """What an undo gave back, and what others took meanwhile (left cancelled)."""

    restored: list[BookingPublic]
    taken: list[BookingPublic]
