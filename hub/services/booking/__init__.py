"""Booking: meeting rooms (with check-in and the building following the bookings) and
official vehicles (requests, approval, dispatch, trips from GPS, settlement); assembled for
the hub by `assemble`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.services.assembly import Part, Shared
from hub.services.booking.checkin import CheckIn
from hub.services.booking.jobs import BookingJobs
from hub.services.booking.rooms import RoomBookings, Slot, booking_dict
from hub.services.booking.trips import Fix
from hub.services.booking.vehicles import Track, VehicleBookings
from hub.services.commands import CommandService
from hub.telemetry import TelemetryStore

__all__ = [
    "Booking",
    "CheckIn",
    "RoomBookings",
    "Slot",
    "VehicleBookings",
    "assemble",
    "booking_dict",
]


@dataclass(frozen=True)
class Booking:
    """Rooms, their check-in codes, and official cars."""

    rooms: RoomBookings
    checkin: CheckIn
    vehicles: VehicleBookings


def track_of(telemetry: TelemetryStore) -> Track:
    """A vehicle's fixes from the telemetry store, as the trip analysis takes them."""

    async def track(vehicle: str, start: datetime, end: datetime) -> list[Fix]:
        fixes = await telemetry.track(vehicle, start, end, limit=200_000)
        return [(f.ts, f.lat, f.lon) for f in fixes if f.lat is not None and f.lon is not None]

    return track


def assemble(shared: Shared, commands: CommandService) -> Part[Booking]:
    """Rooms and cars; the job releasing no-shows and bringing rooms' HVAC to their bookings."""
    b = shared.settings.booking
    rooms = RoomBookings(shared.db, shared.site, b)
    vehicles = VehicleBookings(shared.db, shared.site, b, track=track_of(shared.telemetry))
    rooms.announce = vehicles.announce = shared.announce  # the inbox and e-mail hear of changes
    jobs = BookingJobs(rooms, commands.write, b.sweep_s)
    return Part(Booking(rooms, CheckIn(rooms, shared.secret), vehicles), singletons=[jobs])
