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

import enum
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, model_validator

from hub.domain import SubjectKind
from hub.site.model import SECTIONS, Id, Item, Ref, Site


class Severity(enum.StrEnum):
    """How urgent an alarm is."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class _Rule(Item):
    name: str = ""
    severity: Severity = Severity.MAJOR
    enabled: bool = True


class EquipmentFaultRule(_Rule):
    """A device reporting a fault raises one alarm, cleared once the fault stays clear."""

    kind: Literal["equipment_fault"]
    devices: list[Id] = []  # empty: every device
    clear_after_s: Annotated[float, Field(ge=0, le=86_400)] = 60.0
    ticket: bool = True  # ask for a repair ticket

    def refs(self) -> Iterator[Ref]:
        for i, d in enumerate(self.devices):
            yield f"devices[{i}]", "devices", d


class GeofenceRule(_Rule):
    """A subject entering or leaving a geofence (and staying so for `dwell_s`)."""

    kind: Literal["geofence"]
    fence: Id
    when: Literal["enter", "exit"] = "exit"
    subjects: list[SubjectKind] = []  # empty: the fence's applies_to
    dwell_s: Annotated[float, Field(ge=0, le=86_400)] = 0.0

    def refs(self) -> Iterator[Ref]:
        yield "fence", "geofences", self.fence


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


class SilenceRule(_Rule):
    """No data from a device (or a subject) for `after_s`."""

    kind: Literal["silence"]
    devices: list[Id] = []
    subjects: list[Id] = []
    after_s: Annotated[float, Field(gt=0, le=7 * 86_400)] = 300.0

    def refs(self) -> Iterator[Ref]:
        for i, d in enumerate(self.devices):
            yield f"devices[{i}]", "devices", d


RuleConfig = Annotated[
    EquipmentFaultRule | GeofenceRule | ThresholdRule | SilenceRule, Field(discriminator="kind")
]


_RULE = TypeAdapter(RuleConfig)


class RuleEntry(Item):
    """The `rules` section's item: validated as the model of its `kind`."""

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:
        return _RULE.validate_python(obj)


SECTIONS["rules"] = RuleEntry
Site.counted = (*Site.counted, "rules")
