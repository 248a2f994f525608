"""The official cars' ledger: requests as the service reads them (who may see which), the
trip book the unauthorised-use rule reads, and the monthly settlement per unit; under
`VehicleBookings`'s changes."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.approvals import Approvals
from hub.services.booking.trips import Fix
from hub.services.booking.txn import Serialised
from hub.settings import BookingSettings
from hub.site import Site
from hub.site.model import PersonRole
from hub.storage import Database
from hub.storage.audit import record
from hub.storage.models import VEHICLE_HOLDING, VehicleRequest

Track = Callable[[str, datetime, datetime], Awaitable[Sequence[Fix]]]
EXTRAS = ("tolls", "parking", "fuel", "other")
ODOMETER_TOLERANCE = 0.10  # GPS and odometer disagreeing by more is flagged
MAX_TRIP = timedelta(days=7)


def request_dict(r: VehicleRequest) -> dict[str, Any]:
    """A request as the API shows it."""

    def iso(d: datetime | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "id": r.id,
        "requester": r.requester,
        "unit": r.unit,
        "purpose": r.purpose,
        "destination": r.destination,
        "passengers": r.passengers,
        "start": iso(r.start),
        "end": iso(r.end),
        "status": r.status,
        "approvals": r.approvals,
        "vehicle_id": r.vehicle_id,
        "driver_id": r.driver_id,
        "dispatched_by": r.dispatched_by,
        "dispatched_at": iso(r.dispatched_at),
        "departed_at": iso(r.departed_at),
        "odometer_out": r.odometer_out,
        "returned_at": iso(r.returned_at),
        "odometer_in": r.odometer_in,
        "gps_km": r.gps_km,
        "trip": r.trip,
        "extras": r.extras,
        "cost": r.cost,
        "settled_month": r.settled_month,
        "note": r.note,
    }


class VehicleLedger:
    """Vehicle requests in the relational database, read and settled."""

    def __init__(
        self,
        db: Database,
        site: Site,
        settings: BookingSettings,
        *,
        track: Track | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self.site = site
        self.settings = settings
        self.vehicles = {v.id: v for v in site.vehicles}
        self.drivers = {p.id: p for p in site.people if p.role == PersonRole.DRIVER}
        self.units = {u.id: u for u in site.work_units}
        self.approvals = Approvals(site)
        self.tz = ZoneInfo(site.site.timezone)
        self._track = track
        # tells the people a change concerns (their inbox, e-mail): the hub sets it
        self.announce: Callable[[Notice], None] = lambda _notice: None
        self.clock = clock
        self.write = Serialised(db)
        self._windows: dict[str, list[tuple[datetime, datetime]]] = {}
        self._windows_lock = threading.Lock()

    # -- the trip book (rules/ports.TripBook) ---------------------------------------------------
    def load(self) -> None:
        """Read the approved trip windows (at start; kept current by every change after)."""
        with self._db.session() as s:
            self._refresh(s)

    def _refresh(self, s: Session) -> None:
        horizon = self.clock() - timedelta(days=2)
        q = select(VehicleRequest).where(
            VehicleRequest.status.in_(VEHICLE_HOLDING), VehicleRequest.busy_until > horizon
        )
        windows: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        for r in s.scalars(q):
            if r.vehicle_id and r.busy_from and r.busy_until:
                until = r.busy_until
                if r.status == "departed":  # out until it is back, however late
                    until = max(until, self.clock() + timedelta(days=1))
                windows[r.vehicle_id].append((r.busy_from, until))
        with self._windows_lock:
            self._windows = dict(windows)

    def covering(self, vehicle: str, at: datetime) -> bool:
        """Whether a dispatched (or departed) trip covers the vehicle at `at`."""
        with self._windows_lock:
            return any(a <= at <= b for a, b in self._windows.get(vehicle, ()))

    def _get(self, s: Session, request_id: int, who: Principal) -> VehicleRequest:
        """The request, or 404 also when `who` may not see it (ids are sequential: a 403
        would tell that the number exists)."""
        r = s.get(VehicleRequest, request_id)
        if r is None or not self.may_see(r, who):
            raise NotFound(f"no vehicle request {request_id}")
        return r

    def may_see(self, r: VehicleRequest, who: Principal) -> bool:
        """Dispatchers and administrators see every request; others their own, their
        unit's as its approver, and the trips they drive."""
        if who.roles & {Role.DISPATCHER, Role.ADMIN} or r.requester == who.name:
            return True
        driver = self.drivers.get(r.driver_id or "")
        if driver is not None and driver.username == who.name:
            return True
        return r.unit in self.units and who.name in self.units[r.unit].approvers

    # -- reading and settling ---------------------------------------------------------------------
    def get(self, who: Principal, request_id: int) -> dict[str, Any]:
        """One request `who` may see."""
        with self._db.session() as s:
            return request_dict(self._get(s, request_id, who))

    def find(
        self, who: Principal, *, status: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Requests `who` may see, soonest first: dispatchers and administrators all, others
        their own, those of the units they approve for, and the trips they drive."""
        q = select(VehicleRequest).order_by(VehicleRequest.start).limit(limit)
        if not who.roles & {Role.DISPATCHER, Role.ADMIN}:
            approving = [u.id for u in self.units.values() if who.name in u.approvers]
            driving = [d.id for d in self.drivers.values() if d.username == who.name]
            q = q.where(
                or_(
                    VehicleRequest.requester == who.name,
                    VehicleRequest.unit.in_(approving),
                    VehicleRequest.driver_id.in_(driving),
                )
            )
        if status == "open":
            q = q.where(
                VehicleRequest.status.in_(("pending", "approved", "dispatched", "departed"))
            )
        elif status:
            q = q.where(VehicleRequest.status == status)
        with self._db.session() as s:
            return [request_dict(r) for r in s.scalars(q)]

    def _month(self, month: str) -> tuple[datetime, datetime]:
        try:
            first = datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=self.tz)
        except ValueError:
            raise Invalid("a month is YYYY-MM", field="month") from None
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first, nxt

    def settlement(self, month: str) -> dict[str, Any]:
        """The month's returned trips (by return time, site time) and the totals per unit."""
        lo, hi = self._month(month)
        with self._db.session() as s:
            q = select(VehicleRequest).where(
                VehicleRequest.status.in_(("returned", "settled")),
                VehicleRequest.returned_at >= lo,
                VehicleRequest.returned_at < hi,
            )
            rows = list(s.scalars(q.order_by(VehicleRequest.returned_at)))
        trips = []
        units: dict[str, dict[str, Any]] = {}
        for r in rows:
            v = self.vehicles.get(r.vehicle_id or "")
            km = (
                (r.odometer_in or 0) - (r.odometer_out or 0)
                if r.odometer_out is not None
                else (r.gps_km or 0)
            )
            trips.append(
                {
                    "request": r.id,
                    "unit": r.unit or "",
                    "requester": r.requester,
                    "purpose": r.purpose,
                    "destination": r.destination,
                    "vehicle": v.plate if v else r.vehicle_id,
                    "driver": self.drivers[r.driver_id].name if r.driver_id in self.drivers else "",
                    "departed": r.departed_at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
                    if r.departed_at
                    else "",
                    "returned": r.returned_at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
                    if r.returned_at
                    else "",
                    "odometer_km": round(km, 1),
                    "gps_km": r.gps_km,
                    "flagged": bool(r.trip.get("flagged")),
                    **{k: r.extras.get(k, 0.0) for k in EXTRAS},
                    "cost": r.cost,
                    "status": r.status,
                }
            )
            u = units.setdefault(
                r.unit or "", {"unit": r.unit or "", "trips": 0, "km": 0.0, "cost": 0.0}
            )
            u["trips"] += 1
            u["km"] = round(u["km"] + km, 1)
            u["cost"] = round(u["cost"] + (r.cost or 0.0), 2)
        for u in units.values():
            unit = self.units.get(u["unit"])
            u["unit_name"] = unit.name if unit else u["unit"]
        return {
            "month": month,
            "trips": trips,
            "units": sorted(units.values(), key=lambda u: u["unit"]),
        }

    def settle(self, who: Principal, month: str) -> dict[str, Any]:
        """Close the month: its returned trips become settled (they no longer change)."""
        lo, hi = self._month(month)
        with self.write("the month") as s:
            q = select(VehicleRequest).where(
                VehicleRequest.status == "returned",
                VehicleRequest.returned_at >= lo,
                VehicleRequest.returned_at < hi,
            )
            rows = list(s.scalars(q))
            for r in rows:
                r.status, r.settled_month = "settled", month
            record(s, who.name, "vehicle.settle", month, requests=[r.id for r in rows])
        return self.settlement(month)


TRIP_COLUMNS = [
    "request",
    "unit",
    "requester",
    "purpose",
    "destination",
    "vehicle",
    "driver",
    "departed",
    "returned",
    "odometer_km",
    "gps_km",
    "flagged",
    *EXTRAS,
    "cost",
    "status",
]
UNIT_COLUMNS = ["unit", "unit_name", "trips", "km", "cost"]
