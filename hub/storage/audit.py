"""The audit trail: every change made through the hub, who made it and when."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.storage.db import Database
from hub.storage.models import AuditEntry


def record(s: Session, actor: str, action: str, target: str = "", **detail: Any) -> None:
    """Add an entry in the caller's transaction, so it commits with the change it describes."""
    s.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))


def history(entries: Iterable[Any]) -> list[dict[str, Any]]:
    """Log entries (`ts`, `actor`, `action`, `detail`) of an alarm or a ticket as the API
    shows them, oldest first as given."""
    return [
        {"ts": e.ts.isoformat(), "actor": e.actor, "action": e.action, **e.detail} for e in entries
    ]


def recent(db: Database, *, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest entries first, optionally of one action."""
    with db.session() as s:
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if action:
            q = q.where(AuditEntry.action == action)
        return list(s.scalars(q))
