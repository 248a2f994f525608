"""Rules in the site file (`rules:` section): what to watch, each kind validated by its model.

rules:
  - {id: ahu-faults, kind: equipment_fault, devices: [ahu-b1, ahu-b2], clear_after_s: 120}
  - {id: cars-leave-district, kind: geofence, fence: gf-district, when: exit,
     subjects: [vehicle], dwell_s: 30, severity: major}
  - {id: server-room-hot, kind: threshold, point: ahu-b1.return_temp, above: 28,
     hysteresis: 1, for_s: 300}
  - {id: meters-silent, kind: silence, devices: [meter-b1], after_s: 300}
"""

from __future__ import annotations

import bisect
import enum
import itertools
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from croniter import croniter
from dateutil import rrule
from pydantic import Field, TypeAdapter, field_validator, model_validator

from hub.domain import SubjectKind
from hub.site.base import Id, Item, Ref
from hub.site.geo import Strict
from hub.site.hours import parse_hours
from hub.site.model import SECTIONS, Site


class Severity(enum.StrEnum):
    """How urgent an alarm is."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


# The roles of hub.identity (the site model may not import it; a test keeps them equal).
ROLE_NAMES = frozenset(
    {
        "admin",
        "canteen",
        "security",
        "dispatcher",
        "technician",
        "staff",
        "manager",
        "display",
        "gate_terminal",
        "device",
        "reporter",
    }
)


class _Rule(Item):
    name: str = ""
    severity: Severity = Severity.MAJOR
    enabled: bool = True
    # While an alarm of this rule stays active and unacknowledged: announce it again every
    # `remind_every_min`, and raise its severity one level every `escalate_after_min`.
    remind_every_min: Annotated[float, Field(gt=0, le=24 * 60)] | None = None
    escalate_after_min: Annotated[float, Field(gt=0, le=7 * 24 * 60)] | None = None
    # Who gets this rule's alarms by e-mail: "role:security", "user:li" (users with an
    # e-mail address; the websocket, MQTT and webhooks get every alarm).
    notify: list[Annotated[str, Field(pattern=r"^(role|user):[A-Za-z0-9_.@-]{1,64}$")]] = []

    def reads(self, points: Mapping[str, str]) -> set[str]:
        """The points whose readings the rule judges (`points`: point id -> its device id);
        what a dry run replays from the telemetry store besides positions and the journal."""
        return set()

    @field_validator("notify")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        roles = ROLE_NAMES
        for target in value:
            if target.startswith("role:") and target[5:] not in roles:
                raise ValueError(f"unknown role {target[5:]!r} (known: {', '.join(sorted(roles))})")
        return value


class EquipmentFaultRule(_Rule):
    """A device reporting a fault raises one alarm, cleared once the fault stays clear."""

    kind: Literal["equipment_fault"]
    devices: list[Id] = []  # empty: every device
    clear_after_s: Annotated[float, Field(ge=0, le=86_400)] = 60.0
    ticket: bool = True  # ask for a repair ticket

    def refs(self) -> Iterator[Ref]:
        for i, d in enumerate(self.devices):
            yield f"devices[{i}]", "devices", d

    def reads(self, points: Mapping[str, str]) -> set[str]:
        """Every point of its devices."""
        return {pid for pid, device in points.items() if device in self.devices}


class GeofenceRule(_Rule):
    """A subject entering or leaving a geofence (and staying so for `dwell_s`).

    `fences` makes a group: inside any of them is inside, so moving between adjacent zones
    is no exit. `active_hours` ("22:00-06:00", site time zone) limits the rule to a daily
    window (a zone restricted at night); outside it nothing is raised and raised alarms clear.
    """

    kind: Literal["geofence"]
    fence: Id | None = None
    fences: list[Id] = []
    when: Literal["enter", "exit"] = "exit"
    subjects: list[SubjectKind] = []  # empty: the fences' applies_to
    dwell_s: Annotated[float, Field(ge=0, le=86_400)] = 0.0
    active_hours: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> GeofenceRule:
        if (self.fence is None) == (not self.fences):
            raise ValueError("give either fence or fences (a group)")
        if self.active_hours is not None:
            parse_hours(self.active_hours)
        return self

    @property
    def group(self) -> list[str]:
        """The fences the rule is about."""
        return [self.fence] if self.fence else list(self.fences)

    def refs(self) -> Iterator[Ref]:
        if self.fence:
            yield "fence", "geofences", self.fence
        for i, f in enumerate(self.fences):
            yield f"fences[{i}]", "geofences", f


class ThresholdRule(_Rule):
    """A point above (or below) a limit for `for_s`, cleared past the hysteresis."""

    kind: Literal["threshold"]
    point: str
    above: float | None = None
    below: float | None = None
    hysteresis: Annotated[float, Field(ge=0)] = 0.0
    for_s: Annotated[float, Field(ge=0, le=86_400)] = 0.0

    @model_validator(mode="after")
    def _one_limit(self) -> ThresholdRule:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above / below")
        return self

    def refs(self) -> Iterator[Ref]:
        yield "point", "points", self.point

    def reads(self, points: Mapping[str, str]) -> set[str]:
        """Its point."""
        return {self.point}


class SilenceRule(_Rule):
    """No data from a device (or a subject) for `after_s`."""

    kind: Literal["silence"]
    devices: list[Id] = []
    subjects: list[Id] = []
    after_s: Annotated[float, Field(gt=0, le=7 * 86_400)] = 300.0

    def refs(self) -> Iterator[Ref]:
        for i, d in enumerate(self.devices):
            yield f"devices[{i}]", "devices", d


class CheckpointWindow(Strict):
    """When one checkpoint of a tour is due (minutes after the tour starts) and its grace."""

    at_min: Annotated[float, Field(ge=0, le=24 * 60)]
    grace_min: Annotated[float, Field(ge=0, le=24 * 60)] | None = None


class MissedPatrolRule(_Rule):
    """Tours of a patrol route on a schedule: each checkpoint due in its window.

    `schedule` is an iCalendar RRULE (e.g. "FREQ=DAILY;BYHOUR=8,14,20;BYMINUTE=0") or a cron
    line ("0 8,14,20 * * *"), in the site's time zone. Checkpoint i is due `step_min` * i after the
    tour starts unless `windows` says otherwise, and missed once `grace_min` has passed.
    """

    kind: Literal["missed_patrol"]
    route: Id
    schedule: str
    step_min: Annotated[float, Field(ge=0, le=24 * 60)] = 5.0
    grace_min: Annotated[float, Field(ge=0, le=24 * 60)] = 5.0
    late_min: Annotated[float, Field(ge=0, le=24 * 60)] = 30.0  # a late visit still counts
    windows: dict[Id, CheckpointWindow] = {}

    @field_validator("schedule")
    @classmethod
    def _valid_rrule(cls, value: str) -> str:
        parse_schedule(value, "UTC")
        return value

    def refs(self) -> Iterator[Ref]:
        yield "route", "patrol_routes", self.route
        for cp in self.windows:
            yield f"windows.{cp}", "checkpoints", cp


class LoneWorkerRule(_Rule):
    """A guard whose position has stayed within `radius_m` for `after_s` while his phone or
    badge keeps reporting (a fall, an illness, an assault): check on him."""

    kind: Literal["lone_worker"]
    guards: list[Id] = []  # empty: every subject of kind guard
    after_s: Annotated[float, Field(ge=60, le=4 * 3600)] = 600.0
    radius_m: Annotated[float, Field(gt=0, le=500)] = 15.0
    severity: Severity = Severity.CRITICAL

    def refs(self) -> Iterator[Ref]:
        for i, g in enumerate(self.guards):
            yield f"guards[{i}]", "people", g


class VehicleUseRule(_Rule):
    """An official car moving, or outside the compound, with no approved trip covering now
    (the booking service's trips, read through the rules' trip port)."""

    kind: Literal["vehicle_use"]
    vehicles: list[Id] = []  # empty: every vehicle of the site
    moving_mps: Annotated[float, Field(gt=0, le=50)] = 2.0
    grace_s: Annotated[float, Field(ge=0, le=3600)] = 120.0

    def refs(self) -> Iterator[Ref]:
        for i, v in enumerate(self.vehicles):
            yield f"vehicles[{i}]", "vehicles", v


KEPT = timedelta(days=8)  # how far back a schedule remembers its starts


class Schedule:
    """When tours start: an iCalendar RRULE ("FREQ=DAILY;BYHOUR=8,20") or a cron line
    ("0 8,20 * * *"), in the site's time zone."""

    def __init__(self, text: str, tz: str) -> None:
        self.text = text.strip()
        self.tz = ZoneInfo(tz)
        self.cron = len(self.text.split()) == 5 and "=" not in self.text
        self._rrule: rrule.rrule | None = None
        # dateutil's between() walks every occurrence since the start (2020): an hourly tour
        # is some 60,000 steps, 160 ms of a blocked event loop on every tick. Ticks move
        # forward, so one generator is kept and advanced, and the starts of the last
        # KEPT days are remembered: the rules' ticks and the wall's progress (which asks
        # about the tour before) both answer from them. Only a question about an earlier
        # time (a dry run over the past) walks from the start again.
        self._lock = threading.Lock()
        self._gen: Iterator[datetime] | None = None
        self._kept: list[datetime] = []  # every start from `_kept_from` on, generated so far
        self._kept_from = datetime.min.replace(tzinfo=UTC)
        self._newest: datetime | None = None  # the latest `after` asked about
        if self.cron:
            if not croniter.is_valid(self.text):
                raise ValueError(f"invalid cron line {text!r}")
        else:
            start = datetime(2020, 1, 1, tzinfo=self.tz)
            try:
                parsed = rrule.rrulestr(self.text.removeprefix("RRULE:"), dtstart=start)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"invalid RRULE {text!r}: {exc}") from None
            if not isinstance(parsed, rrule.rrule):
                raise ValueError("give one RRULE")
            self._rrule = parsed

    def between(self, after: datetime, until: datetime) -> list[datetime]:
        """The starts in [after, until], oldest first."""
        if self._rrule is not None:
            with self._lock:
                return self._advance(self._rrule, after, until)
        it = croniter(self.text, (after - timedelta(microseconds=1)).astimezone(self.tz))
        out: list[datetime] = []
        while (t := it.get_next(datetime)) <= until:
            out.append(t)
        return out

    def _advance(self, rule: rrule.rrule, after: datetime, until: datetime) -> list[datetime]:
        if self._gen is None or after < self._kept_from:
            self._gen, self._kept, self._kept_from = iter(rule), [], after - KEPT
            self._newest = after
        while not self._kept or self._kept[-1] <= until:
            t = next(self._gen, None)
            if t is None:
                break  # a finite rule (COUNT or UNTIL) has run out
            if t >= self._kept_from:
                self._kept.append(t)
        self._newest = after if self._newest is None else max(self._newest, after)
        edge = self._newest - KEPT
        if edge > self._kept_from:  # forget the starts older than KEPT before the newest
            self._kept = self._kept[bisect.bisect_left(self._kept, edge) :]
            self._kept_from = edge
        lo = bisect.bisect_left(self._kept, after)
        return [t for t in self._kept[lo:] if t <= until]

    def first(self, n: int) -> list[datetime]:
        """The first `n` starts from 2020 (to check the spacing)."""
        if self._rrule is not None:
            return list(itertools.islice(self._rrule, n))
        it = croniter(self.text, datetime(2020, 1, 1, tzinfo=self.tz))
        return [it.get_next(datetime) for _ in range(n)]


def parse_schedule(schedule: str, tz: str) -> Schedule:
    """The schedule (ValueError with the reason if invalid or too frequent)."""
    parsed = Schedule(schedule, tz)
    first = parsed.first(50)
    if not first:
        raise ValueError(f"schedule {schedule!r} never occurs")
    if any((b - a).total_seconds() < 30 * 60 for a, b in itertools.pairwise(first)):
        raise ValueError("tours must start at least 30 minutes apart")
    return parsed


RuleConfig = Annotated[
    EquipmentFaultRule
    | GeofenceRule
    | ThresholdRule
    | SilenceRule
    | MissedPatrolRule
    | LoneWorkerRule
    | VehicleUseRule,
    Field(discriminator="kind"),
]


_RULE = TypeAdapter(RuleConfig)


class RuleEntry(Item):
    """The `rules` section's item: validated as the model of its `kind`."""

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:
        return _RULE.validate_python(obj)


SECTIONS["rules"] = RuleEntry
Site.counted = (*Site.counted, "rules")
