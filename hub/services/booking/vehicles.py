"""Official vehicles: request → approval by the unit's approvers in order → dispatch (car and
driver, with buffers; neither held twice, by the database) → departure (odometer out) →
return (odometer in, extras; kilometres from the GPS track compared with the odometer) →
monthly settlement per unit. Approved and dispatched windows are the trip book the
unauthorised-use rule reads."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.approvals import Approvals, Outcome, Request, history
from hub.services.booking.trips import Fix, analyse
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


class VehicleBookings:
    """Vehicle requests in the relational database; every change audited."""

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

    # -- the request ------------------------------------------------------------------------
    def request(
        self,
        who: Principal,
        *,
        purpose: str,
        destination: str,
        passengers: int,
        start: datetime,
        end: datetime,
        note: str = "",
    ) -> dict[str, Any]:
        """Ask for a car; it waits for the unit's approvers (if the unit has any)."""
        now = self.clock()
        if end <= start:
            raise Invalid("a trip ends after it starts", field="end")
        if end - start > MAX_TRIP:
            raise Invalid("a request covers at most 7 days", field="end")
        if start < now - timedelta(minutes=5):
            raise Invalid("the trip starts in the past", field="start")
        if start > now + timedelta(days=self.settings.horizon_days):
            raise Invalid(f"requests reach {self.settings.horizon_days} days ahead", field="start")
        seats = max((v.seats - 1 for v in self.vehicles.values()), default=0)  # the driver's
        if not 1 <= passengers <= seats:
            raise Invalid(f"1 to {seats} passengers fit the compound's cars", field="passengers")
        waits = self.approvals.waits(Request("vehicle", "", who.work_unit, who.name))
        with self.write("the request") as s:
            r = VehicleRequest(
                requester=who.name,
                unit=who.work_unit,
                purpose=purpose,
                destination=destination,
                passengers=passengers,
                start=start,
                end=end,
                status="pending" if waits else "approved",
                note=note,
            )
            s.add(r)
            s.flush()
            record(s, who.name, "vehicle.request", str(r.id), status=r.status)
            return request_dict(r)

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

    @staticmethod
    def _state(r: VehicleRequest, allowed: Sequence[str], what: str) -> None:
        if r.status not in allowed:
            raise Conflict(f"request {r.id} is {r.status}: it cannot be {what}")

    def decide(
        self, who: Principal, request_id: int, approve: bool, note: str = ""
    ) -> dict[str, Any]:
        """The next approver of the requesting unit (in the site file's order) approves or
        rejects; 403 for anyone else (an administrator may act for any step)."""
        now = self.clock()
        with self.write("the request") as s:
            r = self._get(s, request_id, who)
            self._state(r, ("pending",), "approved")
            request = Request("vehicle", str(r.id), r.unit, r.requester)
            outcome = self.approvals.decide(s, request, who, approve, now, note)  # or 403
            r.approvals = history(self.approvals.steps(s, request))  # the request's own copy
            if outcome is Outcome.REJECTED:
                r.status = "rejected"
            elif outcome is Outcome.APPROVED:
                r.status = "approved"
            record(s, who.name, "vehicle.approve" if approve else "vehicle.reject", str(r.id))
            return request_dict(r)

    # -- dispatch ---------------------------------------------------------------------------------
    def _busy(self, r: VehicleRequest) -> tuple[datetime, datetime]:
        buffer = timedelta(minutes=self.settings.vehicle_buffer_min)
        return r.start - buffer, r.end + buffer

    def _taken(
        self, s: Session, lo: datetime, hi: datetime, ignore: int
    ) -> tuple[set[str], set[str]]:
        q = select(VehicleRequest).where(
            VehicleRequest.status.in_(VEHICLE_HOLDING),
            VehicleRequest.busy_from < hi,
            VehicleRequest.busy_until > lo,
            VehicleRequest.id != ignore,
        )
        rows = list(s.scalars(q))
        return {r.vehicle_id for r in rows if r.vehicle_id}, {
            r.driver_id for r in rows if r.driver_id
        }

    def options(self, who: Principal, request_id: int) -> dict[str, Any]:
        """The cars (seats enough) and drivers free for a request's time, for the dispatcher:
        cars of the requesting unit first, then by size."""
        with self._db.session() as s:
            r = self._get(s, request_id, who)
            lo, hi = self._busy(r)
            cars, drivers = self._taken(s, lo, hi, r.id)
            out = request_dict(r)
        fit = [
            v for v in self.vehicles.values() if v.seats - 1 >= r.passengers and v.id not in cars
        ]
        fit.sort(key=lambda v: (v.work_unit != r.unit, v.seats))
        return {
            "request": out,
            "vehicles": [
                {"id": v.id, "plate": v.plate, "name": v.name, "seats": v.seats, "kind": v.kind}
                for v in fit
            ],
            "drivers": [
                {"id": d.id, "name": d.name} for d in self.drivers.values() if d.id not in drivers
            ],
        }

    def dispatch(
        self, who: Principal, request_id: int, vehicle_id: str, driver_id: str
    ) -> dict[str, Any]:
        """Give an approved request a car and a driver (409 if either is busy then)."""
        vehicle = self.vehicles.get(vehicle_id)
        if vehicle is None:
            raise Invalid(f"no vehicle {vehicle_id!r}", field="vehicle_id")
        if driver_id not in self.drivers:
            raise Invalid(f"no driver {driver_id!r}", field="driver_id")
        now = self.clock()
        with self.write(f"{vehicle.plate} or the driver") as s:
            r = self._get(s, request_id, who)
            self._state(r, ("approved", "dispatched"), "dispatched")
            if vehicle.seats - 1 < r.passengers:
                raise Invalid(
                    f"{vehicle.plate} seats {vehicle.seats - 1} passengers", field="vehicle_id"
                )
            lo, hi = self._busy(r)
            cars, drivers = self._taken(s, lo, hi, r.id)
            if vehicle_id in cars:
                raise Conflict(f"{vehicle.plate} is out on another trip then")
            if driver_id in drivers:
                raise Conflict(f"{self.drivers[driver_id].name} drives another trip then")
            r.vehicle_id, r.driver_id = vehicle_id, driver_id
            r.busy_from, r.busy_until = lo, hi
            r.status, r.dispatched_by, r.dispatched_at = "dispatched", who.name, now
            record(s, who.name, "vehicle.dispatch", str(r.id), vehicle=vehicle_id, driver=driver_id)
            s.flush()
            self._refresh(s)
            return request_dict(r)

    def _driver_or_dispatcher(self, r: VehicleRequest, who: Principal) -> None:
        driver = self.drivers.get(r.driver_id or "")
        if driver is not None and driver.username == who.name:
            return
        if who.roles & {Role.DISPATCHER, Role.ADMIN}:
            return
        raise Forbidden("the trip's driver or a dispatcher records departure and return")

    def _when(self, at: datetime | None, r: VehicleRequest) -> datetime:
        now = self.clock()
        at = at or now
        if at > now + timedelta(minutes=1):
            raise Invalid("that time is still to come", field="at")
        assert r.busy_from is not None
        if at < r.busy_from - timedelta(days=1):
            raise Invalid("that is long before the trip", field="at")
        return at

    def depart(
        self, who: Principal, request_id: int, odometer_km: float, at: datetime | None = None
    ) -> dict[str, Any]:
        """The car leaves (the driver reads the odometer)."""
        with self.write("the request") as s:
            r = self._get(s, request_id, who)
            self._state(r, ("dispatched",), "departing")
            self._driver_or_dispatcher(r, who)
            if odometer_km < 0:
                raise Invalid("an odometer reads 0 or more", field="odometer_km")
            r.departed_at, r.odometer_out, r.status = self._when(at, r), odometer_km, "departed"
            record(s, who.name, "vehicle.depart", str(r.id), odometer=odometer_km)
            s.flush()
            self._refresh(s)
            return request_dict(r)

    async def return_(
        self,
        who: Principal,
        request_id: int,
        odometer_km: float,
        extras: dict[str, float] | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """The car is back: kilometres from its GPS track (jumps left out) beside the
        odometer's, and the trip's cost."""
        extras = {k: float(v) for k, v in (extras or {}).items()}
        if set(extras) - set(EXTRAS) or not all(0 <= v < 1e9 for v in extras.values()):
            raise Invalid(f"extras are amounts of {', '.join(EXTRAS)}", field="extras")
        with self._db.session() as s:
            r = self._get(s, request_id, who)
            self._state(r, ("departed",), "returned")
            self._driver_or_dispatcher(r, who)
            when = self._when(at, r)
            if r.odometer_out is not None and odometer_km < r.odometer_out:
                raise Invalid(
                    f"the odometer read {r.odometer_out:g} km at departure", field="odometer_km"
                )
            vehicle_id, departed = r.vehicle_id, r.departed_at
        assert vehicle_id is not None
        assert departed is not None
        fixes = await self._track(vehicle_id, departed, when) if self._track else []
        trip = analyse(fixes)
        with self.write("the request") as s:
            r = self._get(s, request_id, who)
            self._state(r, ("departed",), "returned")
            r.returned_at, r.odometer_in, r.status = when, odometer_km, "returned"
            odo = odometer_km - (r.odometer_out or odometer_km)
            r.gps_km = round(trip.km, 3) if trip.fixes >= 2 else None
            summary = trip.summary()
            km = odo if r.odometer_out is not None else (r.gps_km or 0.0)
            if r.gps_km:
                summary["odometer_km"] = round(odo, 3)
                summary["deviation"] = round((odo - r.gps_km) / r.gps_km, 4)
                summary["flagged"] = abs(odo - r.gps_km) > ODOMETER_TOLERANCE * r.gps_km
            r.trip = summary
            r.extras = extras
            vehicle = self.vehicles[vehicle_id]
            r.cost = round(km * vehicle.rate_per_km + vehicle.fixed_fee + sum(extras.values()), 2)
            record(
                s,
                who.name,
                "vehicle.return",
                str(r.id),
                odometer=odometer_km,
                gps_km=r.gps_km,
                cost=r.cost,
            )
            s.flush()
            self._refresh(s)
            return request_dict(r)

    def cancel(self, who: Principal, request_id: int) -> dict[str, Any]:
        """The requester (or a dispatcher) calls the trip off before departure."""
        with self.write("the request") as s:
            r = self._get(s, request_id, who)
            self._state(r, ("pending", "approved", "dispatched"), "cancelled")
            if r.requester != who.name and not who.roles & {Role.DISPATCHER, Role.ADMIN}:
                raise Forbidden("the requester or a dispatcher may cancel")
            r.status = "cancelled"
            record(s, who.name, "vehicle.cancel", str(r.id))
            s.flush()
            self._refresh(s)
            return request_dict(r)

    # -- reading and settling ---------------------------------------------------------------------
    def get(self, who: Principal, request_id: int) -> dict[str, Any]:
        """One request `who` may see."""
        with self._db.session() as s:
            return request_dict(self._get(s, request_id, who))

    def find(
        self, who: Principal, *, status: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Requests `who` may see, soonest first: dispatchers and administrators all, others
        their own and those of the units they approve for."""
        q = select(VehicleRequest).order_by(VehicleRequest.start).limit(limit)
        if not who.roles & {Role.DISPATCHER, Role.ADMIN}:
            approving = [u.id for u in self.units.values() if who.name in u.approvers]
            q = q.where(
                or_(VehicleRequest.requester == who.name, VehicleRequest.unit.in_(approving))
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
