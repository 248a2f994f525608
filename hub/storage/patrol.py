"""Patrol tours in the relational store: kept in the transaction of the rule state that closed
them, read back as the domain's records for the patrol report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain.patrol import (
    TourRecord,
    refusal_json,
    refusal_of,
    visit_json,
    visit_of,
)
from hub.storage.models import PatrolTour


def keep_tour(s: Session, r: TourRecord) -> None:
    """Store a tour's record in the caller's transaction (once: a batch delivered again finds
    it kept)."""
    found = s.scalar(
        select(PatrolTour.id).where(PatrolTour.rule == r.rule, PatrolTour.start == r.start)
    )
    if found is not None:
        return
    s.add(
        PatrolTour(
            rule=r.rule,
            route=r.route,
            start=r.start,
            end=r.end,
            unobserved=r.unobserved,
            checkpoints=list(r.checkpoints),
            guards=list(r.guards),
            visits=[{"checkpoint": v.checkpoint, **visit_json(v)} for v in r.visits],
            out_of_order=list(r.out_of_order),
            refused=[refusal_json(x) for x in r.refused],
        )
    )


def record_of(row: PatrolTour) -> TourRecord:
    """A stored tour as the domain's record."""
    return TourRecord(
        rule=row.rule,
        route=row.route,
        start=row.start,
        end=row.end,
        checkpoints=tuple(row.checkpoints),
        guards=tuple(row.guards),
        unobserved=row.unobserved,
        visits=tuple(visit_of(v["checkpoint"], v) for v in row.visits),
        out_of_order=tuple(row.out_of_order),
        refused=tuple(refusal_of(x) for x in row.refused),
    )


def tours_between(
    s: Session, since: datetime, until: datetime, routes: Sequence[str] | None = None
) -> list[TourRecord]:
    """The tours that started in [since, until), oldest first."""
    q = select(PatrolTour).where(PatrolTour.start >= since, PatrolTour.start < until)
    if routes:
        q = q.where(PatrolTour.route.in_(routes))
    return [record_of(row) for row in s.scalars(q.order_by(PatrolTour.start, PatrolTour.id))]
