"""Alarms, the rules and their dry runs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.api.public.base import HistoryEntry, Out, Timestamp


class Said(Out):
    """A message by its catalogue key (`GET /api/i18n`) and arguments: the pages render it in
    the reader's language, times (`*_at`) in the site's."""

    key: str
    args: dict[str, str | float]


class AlarmPublic(Out):
    """An alarm; `message` in English as the rule wrote it, `say` to render per language."""

    id: int
    rule: str
    originator: str
    type: str
    severity: str
    state: str
    message: str
    say: Said | None = None
    occurrences: int
    ticket_requested: bool
    first_at: Timestamp
    last_at: Timestamp
    cleared_at: Timestamp | None
    acked_at: Timestamp | None
    acked_by: str | None
    ack_comment: str
    assignee: str | None
    shelved_until: Timestamp | None


class AlarmDetail(AlarmPublic):
    """An alarm with its history."""

    history: list[HistoryEntry]


class RulePublic(Out):
    """A running rule: its configuration (as in the site file) and its state."""

    id: str
    kind: str
    name: str
    severity: str
    disabled: bool
    error: str
    state: dict[str, Any]
    config: dict[str, Any]


class DryRunTimelineEntry(BaseModel):
    """What the alarm book would have been asked."""

    model_config = ConfigDict(extra="allow")

    ts: Timestamp
    action: str
    rule: str
    originator: str
    type: str
    message: str


class DryRunCount(Out):
    """How often a rule would have raised an alarm type."""

    rule: str
    type: str
    count: int


class DryRunPublic(Out):
    """A dry run's outcome."""

    events: int
    raised: list[DryRunCount]
    still_active: int
    disabled: list[str]
    timeline: list[DryRunTimelineEntry]
