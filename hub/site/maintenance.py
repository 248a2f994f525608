"""Repair work in the site file: asset categories (with their skill, dispatch and SLA) and the
assets that have no telemetry (doors, lights, plumbing). The site's devices are assets too.

repair_categories:
  - id: hvac
    name: 空调暖通
    skill: hvac
    device_kinds: [ahu, room_controller, chiller]   # devices of these kinds fall in it
    sla: {urgent: [15, 120], high: [30, 480]}      # response, resolution (business minutes)
    dispatch: [{building: b3, skill: hvac-b3}]       # a location that needs another skill
assets:
  - {id: door-b1-1f-east, name: 1号楼一层东门, category: doors, building: b1, floor: 1F}
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Annotated

from pydantic import Field

from hub.site.base import Id, Item, Name, Ref
from hub.site.geo import GeoPoint, Strict
from hub.site.model import SECTIONS, Site


class Priority(enum.StrEnum):
    """How soon a repair is needed."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# Response and resolution targets in business minutes when a category sets none.
DEFAULT_SLA: dict[Priority, tuple[int, int]] = {
    Priority.URGENT: (15, 240),
    Priority.HIGH: (30, 480),
    Priority.NORMAL: (120, 1440),
    Priority.LOW: (480, 4320),
}

Minutes = Annotated[int, Field(ge=1, le=60 * 24 * 60)]


class DispatchOverride(Strict):
    """Where a category's work needs another skill (a building or a zone)."""

    building: Id | None = None
    zone: Id | None = None
    skill: Id


class RepairCategory(Item):
    """A kind of repair work: the skill it needs, its targets, the devices that fall in it."""

    name: Name
    name_en: Name | None = None
    skill: Id
    device_kinds: list[Id] = []
    sla: dict[Priority, tuple[Minutes, Minutes]] = {}
    dispatch: list[DispatchOverride] = []
    default_priority: Priority = Priority.NORMAL

    def targets(self, priority: Priority) -> tuple[int, int]:
        """(response, resolution) business minutes for a priority."""
        return self.sla.get(priority) or DEFAULT_SLA[priority]

    def refs(self) -> Iterator[Ref]:
        for i, d in enumerate(self.dispatch):
            if d.building:
                yield f"dispatch[{i}].building", "buildings", d.building
            if d.zone:
                yield f"dispatch[{i}].zone", "zones", d.zone


class Asset(Item):
    """Something that can break and has no telemetry of its own."""

    name: Name
    category: Id
    building: Id | None = None
    floor: str | None = None
    zone: Id | None = None
    location: GeoPoint | None = None

    def refs(self) -> Iterator[Ref]:
        yield "category", "repair_categories", self.category
        if self.building:
            yield "building", "buildings", self.building
        if self.zone:
            yield "zone", "zones", self.zone


SECTIONS["repair_categories"] = RepairCategory
SECTIONS["assets"] = Asset
Site.counted = (*Site.counted, "repair_categories", "assets")
