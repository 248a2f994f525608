"""Meeting rooms: availability, bookings (single and recurring), edits, approval, the
waitlist, the door display and check-in, attendance, calendar feeds."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from hub.api.deps import PUBLIC, Ctx, Day, RowId, When, allow, client_of, recent
from hub.api.public import (
    AttendancePublic,
    BookingPublic,
    CalendarToken,
    CheckedIn,
    DoorPublic,
    Restored,
    RoomDay,
    SeriesBooked,
    WaitlistPublic,
)
from hub.api.qr import qr_data_url
from hub.api.schemas import In
from hub.api.tables import Format, table_response
from hub.context import HubContext
from hub.errors import Forbidden, Invalid
from hub.identity.roles import PEOPLE, Principal, Role
from hub.services.booking import CheckIn, RoomBookings, Slot
from hub.services.booking.checkin import MEETING_COLUMNS, UNIT_COLUMNS
from hub.services.booking.feeds import person_feed, room_feed

router = APIRouter(prefix="/api", tags=["booking"])

Person = Annotated[Principal, allow(PEOPLE)]
Viewer = Annotated[Principal, allow(PEOPLE, Role.DISPLAY)]
# the room's rotating check-in code is for the door's display only: a person who could read
# it could sign in from anywhere, defeating no-show release and the HVAC setback
DoorDisplay = Annotated[Principal, allow(Role.DISPLAY, Role.ADMIN)]
Manager = Annotated[Principal, allow(Role.ADMIN, Role.DISPATCHER, Role.MANAGER)]
ICS = "text/calendar; charset=utf-8"


def rooms_of(ctx: HubContext) -> RoomBookings:
    """The hub's room bookings (503 without)."""
    return ctx.rooms


def door_of(ctx: HubContext) -> CheckIn:
    """The hub's check-in (503 without)."""
    return ctx.checkin


class BookingCreate(In):
    """A meeting; with `rrule` (RFC 5545, e.g. `FREQ=WEEKLY;BYDAY=TU;COUNT=10`) a series
    from `start`, leaving out `exdates` (dates, or the starts to skip)."""

    room_id: str = Field(max_length=64)
    start: When
    end: When
    title: str = Field(min_length=1, max_length=200)
    attendees: int = Field(0, ge=0, le=5000)
    rrule: str | None = Field(None, max_length=500)
    exdates: list[Day | When] = Field(default_factory=list, max_length=500)


class BookingChange(In):
    """What to change of one meeting (`this`) or of it and the rest of its series
    (`following`: each moved by the same amount)."""

    scope: Literal["this", "following"] = "this"
    start: When | None = None
    end: When | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    attendees: int | None = Field(None, ge=0, le=5000)


class RangeChange(In):
    """Cancel, retitle or re-time the meetings of a series between two dates (inclusive);
    `start_time` and `end_time` are local times of day, given together."""

    first: Day
    last: Day
    cancel: bool = False
    title: str | None = Field(None, min_length=1, max_length=200)
    start_time: time | None = None
    end_time: time | None = None


class WaitBody(In):
    """The room and time to wait for."""

    room_id: str = Field(max_length=64)
    start: When
    end: When
    title: str = Field(min_length=1, max_length=200)


class CodeBody(In):
    """The code shown at the door (in its QR code's link)."""

    code: str = Field(min_length=4, max_length=32)


@router.get("/rooms", response_model=list[RoomDay], summary="Rooms and a day's bookings")
def rooms(ctx: Ctx, _: Viewer, day: Day | None = None) -> list[dict[str, Any]]:
    """Every room (capacity, equipment, owner, hours, buffer) with the day's meetings (site
    time; default today), shared by all units in real time."""
    svc = rooms_of(ctx)
    return svc.availability(day or datetime.now(svc.tz).date())


@router.post(
    "/bookings",
    response_model=BookingPublic | SeriesBooked,
    summary="Book a room (once or recurring)",
    status_code=201,
)
def book(ctx: Ctx, body: BookingCreate, who: Person) -> dict[str, Any]:
    """409 when the room (with its buffer) is taken or the unit's weekly quota is used up;
    422 for the past, outside the room's hours, too many people or a bad rule. A series is
    booked whole or not at all. Rooms of another unit that need approval come back
    `pending`."""
    return rooms_of(ctx).book(
        who,
        body.room_id,
        Slot(body.start, body.end),
        title=body.title,
        attendees=body.attendees,
        rrule=body.rrule,
        exdates=body.exdates,
    )


@router.get("/bookings", response_model=list[BookingPublic], summary="Bookings")
def bookings(
    ctx: Ctx,
    who: Viewer,
    room_id: str | None = None,
    mine: bool = False,
    start: When | None = None,
    end: When | None = None,
) -> list[dict[str, Any]]:
    """Meetings holding rooms in [start, end) (default: from now on), oldest first."""
    return rooms_of(ctx).find(
        room_id=room_id,
        organiser=who.name if mine else None,
        start=start or datetime.now(UTC),
        end=end,
    )


@router.get("/bookings/report", summary="Room use and attendance")
def report(
    ctx: Ctx,
    _: Manager,
    start: When | None = None,
    end: When | None = None,
    format: Format = "json",
) -> Any:
    """Per meeting (who signed in) and per unit (hours booked and used, no-shows) for
    meetings starting in [start, end) (default: the last 30 days); CSV has the units."""
    data = door_of(ctx).report(*recent(start, end))
    sheets = {
        "units": (UNIT_COLUMNS, data["units"]),
        "meetings": (MEETING_COLUMNS, data["meetings"]),
    }
    return table_response(data, format, "rooms", sheets)


@router.get("/bookings/{booking_id}", response_model=BookingPublic, summary="One booking")
def booking(ctx: Ctx, booking_id: RowId, _: Viewer) -> dict[str, Any]:
    """The meeting and its state."""
    return rooms_of(ctx).get(booking_id)


@router.patch(
    "/bookings/{booking_id}",
    response_model=list[BookingPublic],
    summary="Change a booking (or it and the following)",
)
def change(ctx: Ctx, booking_id: RowId, body: BookingChange, who: Person) -> list[dict[str, Any]]:
    """The organiser moves, resizes or retitles; checked like a new booking."""
    return rooms_of(ctx).change(
        who,
        booking_id,
        scope=body.scope,
        start=body.start,
        end=body.end,
        title=body.title,
        attendees=body.attendees,
    )


@router.delete(
    "/bookings/{booking_id}", response_model=list[BookingPublic], summary="Cancel a booking"
)
def cancel(
    ctx: Ctx,
    booking_id: RowId,
    who: Person,
    scope: Literal["this", "following", "series"] = "this",
) -> list[dict[str, Any]]:
    """The organiser cancels one meeting, it and the following, or the whole series; the
    room goes to whoever waits for it."""
    return rooms_of(ctx).cancel(who, booking_id, scope)


@router.post(
    "/bookings/{booking_id}/restore", response_model=Restored, summary="Undo a cancellation"
)
def restore(ctx: Ctx, booking_id: RowId, who: Person) -> dict[str, Any]:
    """The organiser undoes a cancellation within ten minutes: the meetings cancelled with
    this one hold their rooms again, except those someone took meanwhile (named)."""
    return rooms_of(ctx).restore(who, booking_id)


@router.post(
    "/bookings/{booking_id}/approve",
    response_model=BookingPublic,
    summary="Approve a pending booking",
)
def approve(ctx: Ctx, booking_id: RowId, who: Person) -> dict[str, Any]:
    """The owning unit's approvers only (403 for anyone else)."""
    return rooms_of(ctx).decide(who, booking_id, approve=True)


@router.post(
    "/bookings/{booking_id}/reject",
    response_model=BookingPublic,
    summary="Reject a pending booking",
)
def reject(ctx: Ctx, booking_id: RowId, who: Person) -> dict[str, Any]:
    """The owning unit's approvers only; the room is free again."""
    return rooms_of(ctx).decide(who, booking_id, approve=False)


@router.post(
    "/booking-series/{series_id}/range",
    response_model=list[BookingPublic],
    summary="Change a series over some dates",
)
def change_range(
    ctx: Ctx, series_id: RowId, body: RangeChange, who: Person
) -> list[dict[str, Any]]:
    """Cancel (holidays), retitle or re-time the series' meetings between two dates."""
    if (body.start_time is None) != (body.end_time is None):
        raise Invalid("give start_time and end_time together", field="start_time")
    hours = (body.start_time, body.end_time) if body.start_time and body.end_time else None
    return rooms_of(ctx).change_range(
        who, series_id, body.first, body.last, cancel=body.cancel, title=body.title, hours=hours
    )


@router.post(
    "/waitlist", response_model=WaitlistPublic, summary="Wait for a taken room", status_code=201
)
def wait(ctx: Ctx, body: WaitBody, who: Person) -> dict[str, Any]:
    """Booked for you, first come first served, if it frees up (409 if it is free now)."""
    return rooms_of(ctx).wait(who, body.room_id, Slot(body.start, body.end), body.title)


@router.get(
    "/bookings/{booking_id}/attendance",
    response_model=AttendancePublic,
    summary="Who came to a meeting",
)
def attendance(ctx: Ctx, booking_id: RowId, who: Person) -> dict[str, Any]:
    """The organiser, administrators and dispatchers see the sign-ins."""
    data = door_of(ctx).attendance(booking_id)
    if data["organiser"] != who.name and not who.roles & {Role.ADMIN, Role.DISPATCHER}:
        raise Forbidden("the organiser sees who came")
    return data


@router.get(
    "/rooms/{room_id}/door", response_model=DoorPublic, summary="What the room's door display shows"
)
def door(ctx: Ctx, room_id: str, request: Request, _: DoorDisplay) -> dict[str, Any]:
    """The meeting now and next, and the check-in code (with its QR code as an SVG data
    URL), which changes every `HUB_BOOKING__QR_STEP_S` seconds."""
    base = ctx.settings.public_url or str(request.base_url).rstrip("/")
    data = door_of(ctx).door(room_id, base.rstrip("/"))
    data["qr"] = qr_data_url(data["checkin_url"], scale=8)
    return data


@router.post("/rooms/{room_id}/checkin", response_model=CheckedIn, summary="Sign in at the door")
def checkin(ctx: Ctx, room_id: str, body: CodeBody, who: Person) -> dict[str, Any]:
    """With the door's current code: signs you in to the meeting on now (the first sign-in
    keeps it from being released). 403 for an old or wrong code, 409 with no meeting."""
    return door_of(ctx).sign_in(who, room_id, body.code)


@router.get(
    "/calendars/token",
    response_model=CalendarToken,
    summary="A calendar feed token for your calendar app",
)
def feed_token(ctx: Ctx, who: Person, request: Request) -> dict[str, Any]:
    """Feed URLs carry a token that reads calendars and nothing else (changing your
    password revokes it)."""
    token = ctx.identity.feed_token(who.name)
    base = (ctx.settings.public_url or str(request.base_url)).rstrip("/")
    return {
        "token": token,
        "mine": f"{base}/api/calendars/me.ics?token={token}",
        "room": f"{base}/api/calendars/rooms/{{room_id}}.ics?token={token}",
    }


@router.get("/calendars/me.ics", openapi_extra=PUBLIC, summary="Your meetings (iCalendar feed)")
def my_feed(ctx: Ctx, request: Request, token: Annotated[str, Query(max_length=2000)]) -> Response:
    """Authenticated by the feed token in the URL (calendar apps can't send headers)."""
    who = ctx.identity.feed_user(token, client_of(request))
    return Response(person_feed(rooms_of(ctx), who.name), media_type=ICS)


@router.get(
    "/calendars/rooms/{room_id}.ics",
    openapi_extra=PUBLIC,
    summary="A room's meetings (iCalendar feed)",
)
def room_calendar(
    ctx: Ctx, request: Request, room_id: str, token: Annotated[str, Query(max_length=2000)]
) -> Response:
    """Authenticated by a feed token in the URL."""
    ctx.identity.feed_user(token, client_of(request))
    return Response(room_feed(rooms_of(ctx), room_id), media_type=ICS)
