"""The site model: one YAML file describes a compound, each section validated by its own model.

A section is a list of items with unique `id`s. Each item model declares the ids it refers
to (`refs()`), so the loader checks every reference in one place. Later capabilities add a
section by adding a model and a line to `SECTIONS`.
"""

from __future__ import annotations

import enum
import re
import zoneinfo
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, field_validator

from hub.domain import SubjectKind
from hub.site.base import Id, Item, Name, Ref, Register, ranged
from hub.site.geo import Area, GeoPoint, PolygonGeometry, Strict
from hub.site.hours import check_hours
from hub.site.patrol import Checkpoint, PatrolRoute, PatrolSettings


class SiteInfo(Strict):
    """The compound itself."""

    id: Id
    name: Name
    name_en: Name | None = None
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    center: GeoPoint
    zoom: Annotated[int, ranged(1, 22)] = 17
    boundary: PolygonGeometry
    district: PolygonGeometry | None = None  # the wider area official cars normally stay in
    # The business calendar (repair SLAs): daily hours, ISO weekdays (1 = Monday), public
    # holidays, and the weekend days worked instead (调休).
    business_hours: Annotated[str, AfterValidator(check_hours)] = "08:30-17:30"
    workdays: list[Annotated[int, ranged(1, 7)]] = [1, 2, 3, 4, 5]
    holidays: list[date] = []
    extra_workdays: list[date] = []
    patrol: PatrolSettings = PatrolSettings()  # how visits are proven, shifts (the patrol report)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh-CN", "en"):
            raise ValueError("must be zh-CN or en")
        return value


class FloorPlan(Strict):
    """A floor-plan image pinned to the map by three of its corners (so it may be rotated)."""

    image: str
    top_left: GeoPoint
    top_right: GeoPoint
    bottom_left: GeoPoint


class Floor(Strict):
    """A floor of a building."""

    id: Id
    name: Name
    level: int = 0
    area_m2: Annotated[float, Field(gt=0)] | None = None
    plan: FloorPlan | None = None


class Building(Item):
    """A building with its footprint and floors."""

    name: Name
    name_en: Name | None = None
    footprint: PolygonGeometry
    floors: list[Floor] = []
    area_m2: Annotated[float, Field(gt=0)] | None = None
    occupants: Annotated[int, Field(ge=0)] | None = None


class ZoneKind(enum.StrEnum):
    """What a zone is for."""

    AREA = "area"
    PARKING = "parking"
    RESTRICTED = "restricted"
    GATE = "gate"
    OFFICE = "office"
    PLANT = "plant"


class Zone(Item):
    """An area of the site; zones in one group count as one place for exit detection."""

    name: Name
    kind: ZoneKind = ZoneKind.AREA
    geometry: Area
    building: Id | None = None
    floor: Id | None = None
    group: Id | None = None

    def refs(self) -> Iterator[Ref]:
        if self.building:
            yield "building", "buildings", self.building
            if self.floor:
                yield "floor", "floors", f"{self.building}/{self.floor}"


class WorkUnit(Item):
    """A work unit (单位/部门) of the compound."""

    name: Name
    name_en: Name | None = None
    building: Id | None = None
    headcount: Annotated[int, Field(ge=0)] | None = None
    # Meeting-room hours the unit may book per week (None: no quota).
    room_hours_per_week: Annotated[float, Field(gt=0, le=24 * 7 * 50)] | None = None
    # Who approves for the unit (usernames): its vehicle requests, in order, and other units'
    # bookings of its rooms that need approval (admins may always approve).
    approvers: list[Annotated[str, Field(min_length=1, max_length=64)]] = []

    def refs(self) -> Iterator[Ref]:
        if self.building:
            yield "building", "buildings", self.building


class PersonRole(enum.StrEnum):
    """What a person does in the compound."""

    STAFF = "staff"
    GUARD = "guard"
    TECHNICIAN = "technician"
    DRIVER = "driver"
    MANAGER = "manager"


class Person(Item):
    """A person the hub must know by id: guards, technicians, drivers, some staff."""

    name: Name
    role: PersonRole
    work_unit: Id | None = None
    badges: list[Annotated[str, Field(min_length=1, max_length=128)]] = []
    phones: list[Annotated[str, Field(min_length=3, max_length=128)]] = []  # OwnTracks user/device
    skills: list[Id] = []
    username: str | None = None  # the account the person signs in with (technicians)
    # their user ids in WeCom / DingTalk, where these differ from the username (notify.apps)
    wecom: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    dingtalk: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    # daily hours on duty, "08:00-20:00" (None: always)
    on_duty: Annotated[str | None, AfterValidator(check_hours)] = None

    def refs(self) -> Iterator[Ref]:
        if self.work_unit:
            yield "work_unit", "work_units", self.work_unit


class PointKind(enum.StrEnum):
    """How a point's value behaves."""

    ANALOG = "analog"
    BINARY = "binary"
    COUNTER = "counter"  # monotonic, e.g. an energy register
    MULTISTATE = "multistate"


class Point(Strict):
    """A value a device provides; its global id is `<device id>.<point id>`."""

    id: Id
    name: Name | None = None
    unit: str = ""
    kind: PointKind = PointKind.ANALOG
    address: Register | None = None
    writable: bool = False
    min: float | None = None
    max: float | None = None


class Protocol(enum.StrEnum):
    """How the hub reaches a device."""

    MODBUS = "modbus"
    BACNET = "bacnet"
    MQTT = "mqtt"
    HTTP = "http"
    VIRTUAL = "virtual"


_SECRET_KEY_RE = re.compile(r"(password|passwd|secret|token|api_?key)$", re.IGNORECASE)


class Device(Item):
    """A device and its points; `connection` is protocol-specific (secrets only as *_env)."""

    name: Name
    kind: Id
    protocol: Protocol
    building: Id | None = None
    floor: Id | None = None
    zone: Id | None = None
    location: GeoPoint | None = None
    connection: dict[str, Any] = {}
    points: list[Point] = []

    @field_validator("connection")
    @classmethod
    def _no_inline_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if _SECRET_KEY_RE.search(key):
                raise ValueError(
                    f"{key!r}: secrets never go in the site file; "
                    f"name an environment variable with {key}_env"
                )
        return value

    def refs(self) -> Iterator[Ref]:
        if self.building:
            yield "building", "buildings", self.building
            if self.floor:
                yield "floor", "floors", f"{self.building}/{self.floor}"
        if self.zone:
            yield "zone", "zones", self.zone

    def point_id(self, point: Point) -> str:
        """The global id of one of this device's points."""
        return f"{self.id}.{point.id}"


class Geofence(Item):
    """An area whose entry or exit matters for some kinds of subject."""

    name: Name
    geometry: Area
    applies_to: list[SubjectKind] = []


class GateKind(enum.StrEnum):
    """Who passes through a gate."""

    PEDESTRIAN = "pedestrian"
    VEHICLE = "vehicle"
    BOTH = "both"


class Gate(Item):
    """An entrance of the compound."""

    name: Name
    kind: GateKind = GateKind.BOTH
    location: GeoPoint
    zone: Id | None = None

    def refs(self) -> Iterator[Ref]:
        if self.zone:
            yield "zone", "zones", self.zone


class RoomHvac(Strict):
    """How the building follows a room's bookings: a writable point set to `comfort` from
    `lead_min` before a meeting and back to `setback` after it (or when it is released)."""

    point: Annotated[str, Field(min_length=3, max_length=200)]  # "<device>.<point>"
    comfort: float
    setback: float
    lead_min: Annotated[int, Field(ge=0, le=240)] = 30


class Room(Item):
    """A meeting room."""

    name: Name
    building: Id
    floor: Id | None = None
    capacity: Annotated[int, Field(ge=1, le=5000)]
    equipment: list[str] = []
    work_unit: Id | None = None  # the owning unit
    needs_approval: bool = False  # bookings by other units wait for the owner's approval
    devices: list[Id] = []  # HVAC and other equipment serving the room
    hours: Annotated[str, AfterValidator(check_hours)] = "07:00-22:00"  # bookable, site time
    buffer_min: Annotated[int, Field(ge=0, le=120)] = 10  # kept free after each meeting
    checkin: bool = True  # a booking not checked in is released (see the booking settings)
    hvac: RoomHvac | None = None

    def refs(self) -> Iterator[Ref]:
        yield "building", "buildings", self.building
        if self.floor:
            yield "floor", "floors", f"{self.building}/{self.floor}"
        if self.work_unit:
            yield "work_unit", "work_units", self.work_unit
        for i, d in enumerate(self.devices):
            yield f"devices[{i}]", "devices", d
        if self.hvac:
            yield "hvac", "points", self.hvac.point


class Vehicle(Item):
    """An official vehicle."""

    plate: Annotated[str, Field(min_length=2, max_length=16)]
    name: Name | None = None
    kind: str = "sedan"
    seats: Annotated[int, Field(ge=1, le=80)] = 5
    tracker: str | None = None
    work_unit: Id | None = None
    # Cost of a trip: per kilometre driven, plus a fixed amount per trip (yuan).
    rate_per_km: Annotated[float, Field(ge=0, le=1000)] = 2.0
    fixed_fee: Annotated[float, Field(ge=0, le=100000)] = 0.0

    def refs(self) -> Iterator[Ref]:
        if self.work_unit:
            yield "work_unit", "work_units", self.work_unit


# Section name in the YAML file -> item model. Order is the order problems are reported in.
SECTIONS: dict[str, type[Item]] = {
    "buildings": Building,
    "zones": Zone,
    "work_units": WorkUnit,
    "people": Person,
    "devices": Device,
    "checkpoints": Checkpoint,
    "patrol_routes": PatrolRoute,
    "geofences": Geofence,
    "gates": Gate,
    "rooms": Room,
    "vehicles": Vehicle,
}


class Site(Strict):
    """A validated compound. Build it with `hub.site.load_site`, not directly."""

    site: SiteInfo
    buildings: list[Building] = []
    zones: list[Zone] = []
    work_units: list[WorkUnit] = []
    people: list[Person] = []
    devices: list[Device] = []
    checkpoints: list[Checkpoint] = []
    patrol_routes: list[PatrolRoute] = []
    geofences: list[Geofence] = []
    gates: list[Gate] = []
    rooms: list[Room] = []
    vehicles: list[Vehicle] = []
    rules: list[Item] = []  # hub/site/rules.py registers the section and its kinds
    repair_categories: list[Item] = []  # hub/site/maintenance.py registers these two
    assets: list[Item] = []
    meters: list[Item] = []  # hub/site/energy.py registers this one
    canteens: list[Item] = []  # hub/site/canteen.py registers this one
    feedback_categories: list[Item] = []  # hub/site/feedback.py registers this one
    permit_kinds: list[Item] = []  # hub/site/permits.py registers this one

    counted: ClassVar[tuple[str, ...]] = tuple(SECTIONS)

    def section(self, name: str) -> list[Item]:
        """The items of a section by its YAML name."""
        items: list[Item] = getattr(self, name)
        return items

    def point_ids(self) -> dict[str, tuple[Device, Point]]:
        """Every point of every device by its global id."""
        return {d.point_id(p): (d, p) for d in self.devices for p in d.points}

    def summary(self) -> dict[str, int]:
        """How many of each thing the site has."""
        counts = {name: len(self.section(name)) for name in self.counted}
        counts["floors"] = sum(len(b.floors) for b in self.buildings)
        counts["points"] = sum(len(d.points) for d in self.devices)
        return counts
