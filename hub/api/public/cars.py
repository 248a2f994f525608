"""Official-car requests, dispatch options and settlements."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.api.public.base import Out, Timestamp


class VehicleRequestPublic(Out):
    """A request for an official car, from asking to settling."""

    id: int
    requester: str
    unit: str | None
    purpose: str
    destination: str
    passengers: int
    start: Timestamp
    end: Timestamp
    status: str
    approvals: list[dict[str, Any]]
    vehicle_id: str | None
    driver_id: str | None
    dispatched_by: str | None
    dispatched_at: Timestamp | None
    departed_at: Timestamp | None
    odometer_out: float | None
    returned_at: Timestamp | None
    odometer_in: float | None
    gps_km: float | None
    trip: dict[str, Any] | None
    extras: dict[str, Any] | None
    cost: float | None
    settled_month: str | None
    note: str


class FreeVehicle(Out):
    """A car free for the request's time."""

    id: str
    plate: str
    name: str
    seats: int
    kind: str


class FreeDriver(Out):
    """A driver free for the request's time."""

    id: str
    name: str


class VehicleOptions(Out):
    """What a dispatcher may choose from."""

    request: VehicleRequestPublic
    vehicles: list[FreeVehicle]
    drivers: list[FreeDriver]


class SettlementTrip(BaseModel):
    """A returned trip with its costs (the extras' columns are the site's)."""

    model_config = ConfigDict(extra="allow")

    request: int
    unit: str
    requester: str
    vehicle: str | None
    driver: str
    odometer_km: float
    gps_km: float | None
    flagged: bool
    cost: float | None
    status: str


class SettlementUnit(Out):
    """A unit's trips, kilometres and costs in the month."""

    unit: str
    unit_name: str
    trips: int
    km: float
    cost: float


class SettlementPublic(Out):
    """A month's trips and the totals per unit."""

    month: str
    trips: list[SettlementTrip]
    units: list[SettlementUnit]
