"""The transactional outbox: a change and what it owes another part of the hub commit
together; the consumer marks each message done in the transaction of its own effect.

    producer's transaction:  change rows  +  put(consumer, kind, payload)
    consumer's transaction:  take(consumer) ─► its effect  +  done_at      (one row at a time)

So a message is neither lost (the queue in memory may be full, the hub may stop between the
two) nor applied twice (a re-delivery finds it done). `FOR UPDATE SKIP LOCKED` lets two hub
workers drain the same consumer without taking the same row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from hub.storage.db import Database
from hub.storage.models import OutboxRow

T = TypeVar("T")
GIVE_UP_AFTER = 20  # attempts: a message its consumer refuses this often is set aside


def put(s: Session, consumer: str, kind: str, payload: dict[str, Any], now: datetime) -> None:
    """Owe `consumer` a message, in the caller's transaction."""
    s.add(OutboxRow(consumer=consumer, kind=kind, payload=payload, created_at=now))


def take(
    db: Database,
    consumer: str,
    apply: Callable[[Session, str, dict[str, Any]], T],
) -> tuple[bool, T | None]:
    """Apply the oldest pending message of `consumer` with `apply(session, kind, payload)` and
    mark it done, in one transaction: (True, what apply returned), or (False, None) when
    nothing is pending. If `apply` raises, nothing of it is kept, the attempt is counted
    (after `GIVE_UP_AFTER` the message is set aside with its error) and the error re-raised."""
    row_id: int | None = None
    try:
        with db.session() as s:
            row = s.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.consumer == consumer,
                    OutboxRow.done_at.is_(None),
                    OutboxRow.attempts < GIVE_UP_AFTER,
                )
                .order_by(OutboxRow.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return False, None
            row_id = row.id
            out = apply(s, row.kind, dict(row.payload))
            row.done_at = datetime.now(UTC)
        return True, out
    except (OperationalError, InterfaceError):
        raise  # the database away: not the message's fault, it waits as it is
    except Exception as err:
        if row_id is not None:  # the consumer's effect rolled back: count the attempt
            with db.session() as s:
                s.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == row_id)
                    .values(attempts=OutboxRow.attempts + 1, error=str(err)[:300])
                )
        raise


def pending(db: Database, consumer: str) -> dict[str, int]:
    """How many messages wait for `consumer`, and how many it gave up on."""
    with db.session() as s:
        waiting = s.scalar(
            select(func.count()).where(
                OutboxRow.consumer == consumer,
                OutboxRow.done_at.is_(None),
                OutboxRow.attempts < GIVE_UP_AFTER,
            )
        )
        stuck = s.scalar(
            select(func.count()).where(
                OutboxRow.consumer == consumer,
                OutboxRow.done_at.is_(None),
                OutboxRow.attempts >= GIVE_UP_AFTER,
            )
        )
    return {"pending": int(waiting or 0), "set_aside": int(stuck or 0)}


def prune(db: Database, before: datetime) -> int:
    """Delete the messages done before `before`."""
    with db.session() as s:
        result = s.execute(
            delete(OutboxRow).where(OutboxRow.done_at.is_not(None), OutboxRow.done_at < before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
