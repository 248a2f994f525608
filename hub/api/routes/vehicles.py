"""Official vehicles: requests, approval, dispatch, departure and return, settlement."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field

from hub.api.deps import Ctx, RowId, When, allow
from hub.api.public import SettlementPublic, VehicleOptions, VehicleRequestPublic
from hub.api.schemas import In
from hub.api.tables import Format, table_response
from hub.context import HubContext
from hub.identity.roles import PEOPLE, Principal, Role
from hub.services.booking.vehicles import TRIP_COLUMNS, UNIT_COLUMNS, VehicleBookings

router = APIRouter(prefix="/api", tags=["vehicles"])

Person = Annotated[Principal, allow(PEOPLE)]
Dispatcher = Annotated[Principal, allow(Role.ADMIN, Role.DISPATCHER)]
Month = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$")]


def service(ctx: HubContext) -> VehicleBookings:
    """The hub's vehicle bookings (503 without)."""
    return ctx.vehicles


class RequestCreate(In):
    """Where to, why, how many, when."""

    purpose: str = Field(min_length=1, max_length=200)
    destination: str = Field(min_length=1, max_length=200)
    passengers: int = Field(1, ge=1, le=80)
    start: When
    end: When
    note: str = Field("", max_length=2000)


# Yuan: a finite amount (NaN or infinity would make a trip's cost null in the settlement)
Amount = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]


class Decision(In):
    """An approver's note."""

    note: str = Field("", max_length=2000)


class DispatchBody(In):
    """The car and the driver."""

    vehicle_id: str = Field(max_length=64)
    driver_id: str = Field(max_length=64)


class OdometerBody(In):
    """The odometer's reading; `at` when recorded after the fact (default now)."""

    odometer_km: float = Field(ge=0, le=10_000_000)
    at: When | None = None


class ReturnBody(OdometerBody):
    """The odometer at return, and what the trip cost besides the kilometres (yuan)."""

    extras: dict[Literal["tolls", "parking", "fuel", "other"], Amount] = Field(default_factory=dict)


@router.post(
    "/vehicle-requests",
    response_model=VehicleRequestPublic,
    summary="Ask for an official car",
    status_code=201,
)
def request(ctx: Ctx, body: RequestCreate, who: Person) -> dict[str, Any]:
    """It waits for the unit's approvers in turn (none: straight to the dispatchers)."""
    return service(ctx).request(
        who,
        purpose=body.purpose,
        destination=body.destination,
        passengers=body.passengers,
        start=body.start,
        end=body.end,
        note=body.note,
    )


@router.get(
    "/vehicle-requests", response_model=list[VehicleRequestPublic], summary="Vehicle requests"
)
def requests(
    ctx: Ctx,
    who: Person,
    status: Annotated[
        str | None,
        Query(
            pattern="^(open|pending|approved|rejected|dispatched|departed|returned|settled|cancelled)$"
        ),
    ] = None,
) -> list[dict[str, Any]]:
    """Dispatchers and administrators see all; others their own and those they approve."""
    return service(ctx).find(who, status=status)


@router.get(
    "/vehicle-requests/{request_id}",
    response_model=VehicleRequestPublic,
    summary="One vehicle request",
)
def get(ctx: Ctx, request_id: RowId, who: Person) -> dict[str, Any]:
    """The request and where it is; 404 also for one you may not see."""
    return service(ctx).get(who, request_id)


@router.post(
    "/vehicle-requests/{request_id}/approve",
    response_model=VehicleRequestPublic,
    summary="Approve (the next approver)",
)
def approve(ctx: Ctx, request_id: RowId, body: Decision, who: Person) -> dict[str, Any]:
    """403 unless you are the unit's next approver."""
    return service(ctx).decide(who, request_id, True, body.note)


@router.post(
    "/vehicle-requests/{request_id}/reject",
    response_model=VehicleRequestPublic,
    summary="Reject (the next approver)",
)
def reject(ctx: Ctx, request_id: RowId, body: Decision, who: Person) -> dict[str, Any]:
    """403 unless you are the unit's next approver."""
    return service(ctx).decide(who, request_id, False, body.note)


@router.get(
    "/vehicle-requests/{request_id}/options",
    response_model=VehicleOptions,
    summary="Free cars and drivers",
)
def options(ctx: Ctx, request_id: RowId, who: Dispatcher) -> dict[str, Any]:
    """For the dispatcher: cars with seats enough and drivers free for the trip's time."""
    return service(ctx).options(who, request_id)


@router.post(
    "/vehicle-requests/{request_id}/dispatch",
    response_model=VehicleRequestPublic,
    summary="Dispatch a car and a driver",
)
def dispatch(ctx: Ctx, request_id: RowId, body: DispatchBody, who: Dispatcher) -> dict[str, Any]:
    """409 if the car or the driver is taken then (buffers included)."""
    return service(ctx).dispatch(who, request_id, body.vehicle_id, body.driver_id)


@router.post(
    "/vehicle-requests/{request_id}/depart",
    response_model=VehicleRequestPublic,
    summary="The car leaves",
)
def depart(ctx: Ctx, request_id: RowId, body: OdometerBody, who: Person) -> dict[str, Any]:
    """The trip's driver or a dispatcher, with the odometer's reading."""
    return service(ctx).depart(who, request_id, body.odometer_km, body.at)


@router.post(
    "/vehicle-requests/{request_id}/return",
    response_model=VehicleRequestPublic,
    summary="The car is back",
)
async def return_(ctx: Ctx, request_id: RowId, body: ReturnBody, who: Person) -> dict[str, Any]:
    """Kilometres from the GPS track (jumps left out) beside the odometer's, and the cost."""
    extras: dict[str, float] = {str(k): float(v) for k, v in body.extras.items()}
    return await service(ctx).return_(who, request_id, body.odometer_km, extras, body.at)


@router.post(
    "/vehicle-requests/{request_id}/cancel",
    response_model=VehicleRequestPublic,
    summary="Call a trip off",
)
def cancel(ctx: Ctx, request_id: RowId, who: Person) -> dict[str, Any]:
    """The requester or a dispatcher, before departure."""
    return service(ctx).cancel(who, request_id)


@router.get(
    "/vehicle-settlements/{month}",
    response_model=SettlementPublic,
    summary="A month's trips and costs per unit",
)
def settlement(ctx: Ctx, month: Month, _: Dispatcher, format: Format = "json") -> Any:
    """Trips returned in the month (site time) with kilometres (odometer and GPS), extras and
    cost, and the totals per unit; CSV has the units, XLSX both."""
    data = service(ctx).settlement(month)
    sheets = {"units": (UNIT_COLUMNS, data["units"]), "trips": (TRIP_COLUMNS, data["trips"])}
    return table_response(data, format, f"vehicles-{month}", sheets)


@router.post(
    "/vehicle-settlements/{month}/settle", response_model=SettlementPublic, summary="Close a month"
)
def settle(ctx: Ctx, month: Month, who: Dispatcher) -> dict[str, Any]:
    """Its returned trips become settled."""
    return service(ctx).settle(who, month)
