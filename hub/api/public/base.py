"""What every response body shares: exactly the fields described, times as given."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Out(BaseModel):
    """Base of response bodies: exactly the fields described."""

    model_config = ConfigDict(extra="forbid")


class HistoryEntry(BaseModel):
    """One change in an alarm's or a ticket's history; the fields after `action` depend on
    the action (a comment's text, an assignment's `to`, a hold's reason...)."""

    model_config = ConfigDict(extra="allow")

    ts: Timestamp
    actor: str
    action: str
