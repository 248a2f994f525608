"""The energy report as typed objects: what the service builds, the renderer draws (tables,
charts, PDF), the API answers and the stored reports keep as JSON.

Times are ISO 8601 strings in the site's time zone, as the pages and the files show them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReportPeriod(_Part):
    """The period a report covers, the ones it is compared with, its windows."""

    kind: str  # day, week, month, year
    label: str
    first: str
    last: str
    previous: str
    last_year: str
    every: str  # hour or day: the windows' length
    complete: bool  # False: the period is still under way
    windows: list[Timestamp]


class Figures(_Part):
    """One measure's figures (electricity, water...): the total beside the previous period
    and the same period last year (None where the data do not cover them), per m² and per
    person, out-of-hours use, the series per window, and for electricity the peak demand."""

    unit: str
    total: float
    no_data: bool = False  # not one reading in the period: the total is not a use of 0
    previous: float | None
    previous_coverage_pct: float
    change_pct: float | None
    last_year: float | None
    last_year_coverage_pct: float
    yoy_pct: float | None
    per_m2: float | None
    per_person: float | None
    out_of_hours: float | None = None
    out_of_hours_pct: float | None = None
    series: list[float] | None = None  # buildings only
    peak_demand_kw: float | None = None
    peak_at: Timestamp | None = None


class BuildingFigures(_Part):
    """A building and its measures."""

    id: str
    name: str
    name_en: str | None
    area_m2: float | None
    occupants: int | None
    measures: dict[str, Figures]


class MeterFigures(_Part):
    """A meter of the hierarchy and its total in the period."""

    id: str
    name: str
    name_en: str | None
    measures: str
    unit: str
    building: str | None
    parent: str | None
    virtual: bool
    total: float | None
    coverage_pct: float | None


class Flag(_Part):
    """Something the counting noticed: a reset, a rollover, an estimate across a gap."""

    meter: str
    kind: str
    start: Timestamp = Field(alias="from")
    to: Timestamp
    amount: float | None


class Offline(_Part):
    """A meter not heard from for `offline_min`."""

    meter: str
    last_seen: Timestamp | None


class Quality(_Part):
    """What the report's figures rest on: flags, estimated and missing windows per meter,
    meters offline, and the gap the estimates bridge."""

    flags: list[Flag]
    estimated: dict[str, list[Timestamp]]
    missing: dict[str, list[Timestamp]]
    offline: list[Offline]
    gap_min: float


class EnergyReport(_Part):
    """The energy report of a period."""

    site: str
    site_en: str | None
    period: ReportPeriod
    compound: dict[str, Figures]
    buildings: list[BuildingFigures]
    meters: list[MeterFigures]
    quality: Quality
    generated_at: Timestamp

    def as_json(self) -> dict[str, object]:
        """As JSON (the API's and the stored files' shape)."""
        return self.model_dump(mode="json", by_alias=True)
