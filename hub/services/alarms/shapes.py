"""How an alarm is written out: for the API, as an outbox message (and back), and its
message by catalogue key as the alarm row keeps it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from hub.domain import AlarmEvent, Say
from hub.storage.models import Alarm


def alarm_dict(a: Alarm) -> dict[str, Any]:
    """An alarm as the API shows it."""
    return {
        "id": a.id,
        "rule": a.rule,
        "originator": a.originator,
        "type": a.type,
        "severity": a.severity,
        "state": a.state,
        "message": a.message,
        "say": a.say,
        "occurrences": a.occurrences,
        "ticket_requested": a.ticket_requested,
        "first_at": a.first_at.isoformat(),
        "last_at": a.last_at.isoformat(),
        "cleared_at": a.cleared_at.isoformat() if a.cleared_at else None,
        "acked_at": a.acked_at.isoformat() if a.acked_at else None,
        "acked_by": a.acked_by,
        "ack_comment": a.ack_comment,
        "assignee": a.assignee,
        "shelved_until": a.shelved_until.isoformat() if a.shelved_until else None,
    }


def said(say: Say | None) -> dict[str, Any] | None:
    """A message by catalogue key as the alarm row keeps it."""
    return {"key": say.key, "args": dict(say.args)} if say is not None else None


def alarm_payload(event: AlarmEvent) -> dict[str, Any]:
    """An alarm change as an outbox message (JSON)."""
    return {**dataclasses.asdict(event), "ts": event.ts.isoformat()}


def alarm_of(payload: dict[str, Any]) -> AlarmEvent:
    """The alarm change an outbox message carries."""
    return AlarmEvent(**{**payload, "ts": datetime.fromisoformat(payload["ts"])})
