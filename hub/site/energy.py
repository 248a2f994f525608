"""Meters in the site file: what each measures, where it sits in the hierarchy (compound →
building → floor or system → sub-meter), the counter it reads, and virtual meters (a meter
minus its metered tenants) so nothing is counted twice.

meters:
  - {id: m-b1, name: 1号楼总表, measures: electricity, point: meter-b1.total_energy,
     power_point: meter-b1.total_power, building: b1}
  - {id: m-b1-dc, name: 1号楼机房, point: meter-dc.total_energy, parent: m-b1, building: b1,
     system: it}
  - {id: m-b1-office, name: 1号楼除机房, virtual: {of: m-b1, minus: [m-b1-dc]}, building: b1}
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Annotated

from pydantic import Field, model_validator

from hub.site.base import Id, Item, Name, Ref
from hub.site.geo import Strict
from hub.site.model import SECTIONS, Site


class Measure(enum.StrEnum):
    """What a meter measures, and its unit."""

    ELECTRICITY = "electricity"
    WATER = "water"
    GAS = "gas"

    @property
    def unit(self) -> str:
        """The unit its counters are kept in."""
        return "kWh" if self is Measure.ELECTRICITY else "m³"


class Virtual(Strict):
    """A meter computed from others: `of` minus the `minus` meters."""

    of: Id
    minus: Annotated[list[Id], Field(min_length=1)]


class Meter(Item):
    """A meter: a counter point (or a virtual combination), where it sits, what it measures."""

    name: Name
    name_en: Name | None = None
    measures: Measure = Measure.ELECTRICITY
    point: Annotated[str, Field(min_length=3, max_length=200)] | None = None  # "<device>.<point>"
    power_point: Annotated[str, Field(min_length=3, max_length=200)] | None = None  # W, demand
    virtual: Virtual | None = None
    parent: Id | None = None
    building: Id | None = None
    floor: Id | None = None
    system: Id | None = None  # e.g. hvac, lighting, it, kitchen
    rollover: Annotated[float, Field(gt=0)] | None = None  # the counter wraps to 0 here

    @model_validator(mode="after")
    def _point_or_virtual(self) -> Meter:
        if (self.point is None) == (self.virtual is None):
            raise ValueError("a meter reads a counter point or is virtual, not both or neither")
        return self

    def refs(self) -> Iterator[Ref]:
        if self.point:
            yield "point", "points", self.point
        if self.power_point:
            yield "power_point", "points", self.power_point
        if self.parent:
            yield "parent", "meters", self.parent
        if self.building:
            yield "building", "buildings", self.building
            if self.floor:
                yield "floor", "floors", f"{self.building}/{self.floor}"
        if self.virtual:
            yield "virtual.of", "meters", self.virtual.of
            for i, m in enumerate(self.virtual.minus):
                yield f"virtual.minus[{i}]", "meters", m


SECTIONS["meters"] = Meter
Site.counted = (*Site.counted, "meters")


def meters_of(site: Site) -> list[Meter]:
    """The site's meters, typed."""
    return [m for m in site.meters if isinstance(m, Meter)]
