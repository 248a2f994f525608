"""Official vehicles: request → approval by the unit's approvers in order → dispatch (car and
driver, with buffers; neither held twice, by the database) → departure (odometer out) →
return (odometer in, extras; kilometres from the GPS track compared with the odometer) →
monthly settlement per unit. Approved and dispatched windows are the trip book the
unauthorised-use rule reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid
from hub.identity.roles import Principal, Role
from hub.services.approvals import Outcome, Request, history
from hub.services.booking.car_ledger import (
    EXTRAS,
    MAX_TRIP,
    ODOMETER_TOLERANCE,
    TRIP_COLUMNS,
    UNIT_COLUMNS,
    Track,
    VehicleLedger,
    request_dict,
)
from hub.services.booking.trips import analyse
from hub.storage.audit import record
from hub.storage.models import VEHICLE_HOLDING, VehicleRequest

__all__ = ["TRIP_COLUMNS", "UNIT_COLUMNS", "Track", "VehicleBookings", "request_dict"]


class VehicleBookings(VehicleLedger):
    """Vehicle requests in the relational database; every change audited."""

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
            raise Invalid("a trip ends after it starts", field="end", key="car.order")
        if end - start > MAX_TRIP:
            raise Invalid("a request covers at most 7 days", field="end", key="car.too_long")
        if start < now - timedelta(minutes=5):
            raise Invalid("the trip starts in the past", field="start", key="car.past")
        if start > now + timedelta(days=self.settings.horizon_days):
            raise Invalid(
                f"requests reach {self.settings.horizon_days} days ahead",
                field="start",
                key="car.horizon",
                days=self.settings.horizon_days,
            )
        seats = max((v.seats - 1 for v in self.vehicles.values()), default=0)  # the driver's
        if not 1 <= passengers <= seats:
            raise Invalid(
                f"1 to {seats} passengers fit the compound's cars",
                field="passengers",
                key="car.passengers",
                seats=seats,
            )
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
            out = request_dict(r)
        if r.status == "pending":
            self._ask(Request("vehicle", str(r.id), r.unit, r.requester), 0, out, now)
        return out

    def _when_text(self, out: dict[str, Any]) -> str:
        start = datetime.fromisoformat(out["start"]).astimezone(self.tz)
        return f"{start:%m-%d %H:%M}"

    def _ask(self, request: Request, step: int, out: dict[str, Any], now: datetime) -> None:
        """Tell the approvers of `step` that the request waits for them."""
        names, role = self.approvals.deciders(request, step)
        trip = f"{out['destination']} {self._when_text(out)}"
        who = f"{request.requester} 申请用车（{out['purpose']}，{out['passengers']} 人）"
        self.announce(
            Notice(
                topic="vehicle.waiting",
                subject=f"【待审批】用车申请 #{out['id']}：{trip}",
                body=f"{who}，等待您审批。",
                ts=now,
                notify=tuple(names) or (f"role:{role.value}",),
                key=f"vehicle:{out['id']}:step:{step}",
                link="/vehicles.html",
            )
        )

    def _tell_requester(
        self, out: dict[str, Any], what: str, now: datetime, body: str = ""
    ) -> None:
        self.announce(
            Notice(
                topic=f"vehicle.{out['status']}",
                subject=f"【用车】#{out['id']} {out['destination']} {self._when_text(out)} {what}",
                body=body,
                ts=now,
                notify=(out["requester"],),
                key=f"vehicle:{out['id']}:{out['status']}:{now.isoformat()}",
                link="/vehicles.html",
            )
        )

    @staticmethod
    def _state(r: VehicleRequest, allowed: Sequence[str], what: str) -> None:
        if r.status not in allowed:
            raise Conflict(
                f"request {r.id} is {r.status}: it cannot be {what}",
                key="car.state",
                status_word=r.status,
                what_word=f"{what}_what",
            )

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
            out = request_dict(r)
            step = len(r.approvals)
        if outcome is Outcome.PENDING:
            self._ask(request, step, out, now)
        else:
            self._tell_requester(out, "已批准，等待派车" if approve else "未获批准", now, note)
        return out

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
            raise Invalid(f"no vehicle {vehicle_id!r}", field="vehicle_id", key="car.no_vehicle")
        if driver_id not in self.drivers:
            raise Invalid(f"no driver {driver_id!r}", field="driver_id", key="car.no_driver")
        now = self.clock()
        with self.write(f"{vehicle.plate} or the driver") as s:
            r = self._get(s, request_id, who)
            self._state(r, ("approved", "dispatched"), "dispatched")
            if vehicle.seats - 1 < r.passengers:
                raise Invalid(
                    f"{vehicle.plate} seats {vehicle.seats - 1} passengers",
                    field="vehicle_id",
                    key="car.seats",
                    vehicle_id=vehicle.id,
                    seats=vehicle.seats - 1,
                )
            lo, hi = self._busy(r)
            cars, drivers = self._taken(s, lo, hi, r.id)
            if vehicle_id in cars:
                raise Conflict(
                    f"{vehicle.plate} is out on another trip then",
                    key="car.busy",
                    vehicle_id=vehicle.id,
                )
            if driver_id in drivers:
                raise Conflict(
                    f"{self.drivers[driver_id].name} drives another trip then",
                    key="car.driver_busy",
                    driver=self.drivers[driver_id].name,
                )
            r.vehicle_id, r.driver_id = vehicle_id, driver_id
            r.busy_from, r.busy_until = lo, hi
            r.status, r.dispatched_by, r.dispatched_at = "dispatched", who.name, now
            record(s, who.name, "vehicle.dispatch", str(r.id), vehicle=vehicle_id, driver=driver_id)
            s.flush()
            self._refresh(s)
            out = request_dict(r)
        driver = self.drivers[driver_id]
        car = f"{vehicle.plate}（{vehicle.name or vehicle.kind}），司机 {driver.name}"
        self._tell_requester(out, "已派车", now, car)
        if driver.username:
            self.announce(
                Notice(
                    topic="vehicle.trip",
                    subject=f"【出车任务】{self._when_text(out)} {out['destination']}",
                    body=f"{vehicle.plate}，{out['passengers']} 人，{out['purpose']}",
                    ts=now,
                    notify=(driver.username,),
                    key=f"vehicle:{out['id']}:trip:{now.isoformat()}",
                    link="/vehicles.html",
                )
            )
        return out

    def _driver_or_dispatcher(self, r: VehicleRequest, who: Principal) -> None:
        driver = self.drivers.get(r.driver_id or "")
        if driver is not None and driver.username == who.name:
            return
        if who.roles & {Role.DISPATCHER, Role.ADMIN}:
            return
        raise Forbidden(
            "the trip's driver or a dispatcher records departure and return",
            key="car.driver_only",
        )

    def _when(self, at: datetime | None, r: VehicleRequest) -> datetime:
        now = self.clock()
        at = at or now
        if at > now + timedelta(minutes=1):
            raise Invalid("that time is still to come", field="at", key="car.future")
        assert r.busy_from is not None
        if at < r.busy_from - timedelta(days=1):
            raise Invalid("that is long before the trip", field="at", key="car.long_before")
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
                raise Invalid(
                    "an odometer reads 0 or more", field="odometer_km", key="car.odometer"
                )
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
                    f"the odometer read {r.odometer_out:g} km at departure",
                    field="odometer_km",
                    key="car.odometer_back",
                    km=r.odometer_out,
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
                raise Forbidden("the requester or a dispatcher may cancel", key="car.cancel_who")
            r.status = "cancelled"
            record(s, who.name, "vehicle.cancel", str(r.id))
            s.flush()
            self._refresh(s)
            return request_dict(r)
