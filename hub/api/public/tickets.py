"""Repair tickets and what the report form lists."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hub.api.public.base import HistoryEntry, Out, Timestamp


class PartUsed(BaseModel):
    """A part a repair used."""

    model_config = ConfigDict(extra="allow")

    name: str


class TicketPublic(Out):
    """A repair ticket, with when its targets fall due (None once met or while on hold)."""

    id: int
    source: str
    status: str
    asset_id: str | None
    category: str
    priority: str
    title: str
    description: str
    location: str
    building: str | None
    photo: str | None
    reporter: str
    reporter_unit: str | None
    skill: str
    assignee: str | None
    occurrences: int
    fault_active: bool
    created_at: Timestamp
    assigned_at: Timestamp | None
    accepted_at: Timestamp | None
    started_at: Timestamp | None
    hold_since: Timestamp | None
    resolved_at: Timestamp | None
    closed_at: Timestamp | None
    response_target_min: float
    resolution_target_min: float
    response_breached: bool
    resolution_breached: bool
    resolution_notes: str
    parts: list[PartUsed]
    rating: int | None
    rating_comment: str
    rated_at: Timestamp | None
    reopened: int
    response_due: Timestamp | None
    resolution_due: Timestamp | None


class TicketDetail(TicketPublic):
    """A ticket with its history."""

    history: list[HistoryEntry]


class TicketReported(TicketPublic):
    """A reported repair; `merged` when it was the same report again within a minute."""

    merged: bool


class CategoryPublic(Out):
    """A repair category: the skill it needs, its targets per priority (response and
    resolution, minutes)."""

    id: str
    name: str
    name_en: str
    skill: str
    targets: dict[str, list[float]]


class TechnicianPublic(Out):
    """A technician: skills, duty hours, whether on duty now, open work."""

    id: str
    name: str
    username: str | None
    skills: list[str]
    on_duty_hours: str | None
    on_duty: bool
    open_tickets: int


class AssetPublic(Out):
    """An asset: a device of the site or an asset without telemetry."""

    id: str
    name: str
    category: str
    building: str | None
    floor: str | None
    zone: str | None
    device: bool
