"""The site, and the energy reports."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from hub.api.public.base import Out, Timestamp
from hub.services.energy.report import EnergyReport


class StoredReportPublic(Out):
    """A stored (scheduled) report: its PDF and JSON files."""

    name: str
    kind: str
    label: str
    json_file: str = Field(alias="json")
    bytes: int
    created_at: Timestamp

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EnergyReportPublic(EnergyReport):
    """The energy report of a period (`hub/services/energy/report.py`)."""

    charts: dict[str, str] | None = None  # with `charts=true`: PNG data URLs by chart


class SitePublic(Out):
    """The compound as the map and the pages draw it: a summary, the map layers as GeoJSON,
    floor plans, the tracked subjects and the base map."""

    id: str
    name: str
    name_en: str
    timezone: str
    center: dict[str, float]
    zoom: int
    summary: dict[str, int]
    layers: dict[str, Any]  # a GeoJSON FeatureCollection
    plans: list[dict[str, Any]]
    subjects: list[dict[str, Any]]
    map: dict[str, Any]
