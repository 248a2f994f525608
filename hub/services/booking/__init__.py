"""Booking: meeting rooms (with check-in and the building following the bookings) and
official vehicles (requests, approval, dispatch, trips from GPS, settlement)."""

from hub.services.booking.checkin import CheckIn
from hub.services.booking.rooms import RoomBookings, Slot, booking_dict

__all__ = ["CheckIn", "RoomBookings", "Slot", "booking_dict"]
