"""Alarms: the alarm book (raise, repeat, clear, acknowledge, assign, shelve; history and
audit), the rules' stored state, reminders and escalation; assembled for the hub by
`assemble`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.services.alarms.book import (
    RULES_ACTOR,
    SEVERITIES,
    TICKETS,
    AlarmPolicy,
    AlarmService,
    AlarmState,
)
from hub.services.alarms.shapes import alarm_dict, alarm_of, alarm_payload
from hub.services.alarms.state import SqlRuleStateStore
from hub.services.assembly import Part, Shared
from hub.site import Site
from hub.tasks import Periodic

__all__ = [
    "RULES_ACTOR",
    "SEVERITIES",
    "TICKETS",
    "AlarmPolicy",
    "AlarmService",
    "AlarmState",
    "AlarmSweeper",
    "SqlRuleStateStore",
    "alarm_dict",
    "alarm_of",
    "alarm_payload",
    "alarm_policies",
    "assemble",
]


class AlarmSweeper(Periodic):
    """Runs `AlarmService.sweep` periodically (a hub component)."""

    def __init__(self, alarms: AlarmService, every_s: float = 15.0) -> None:
        super().__init__("alarm_reminders", every_s, lambda: alarms.sweep(datetime.now(UTC)))


def alarm_policies(site: Site) -> dict[str, AlarmPolicy]:
    """Reminders and escalation of each rule's alarms, from the site file."""

    def minutes(m: float | None) -> timedelta | None:
        return timedelta(minutes=m) if m else None

    return {
        r.id: AlarmPolicy(
            minutes(getattr(r, "remind_every_min", None)),
            minutes(getattr(r, "escalate_after_min", None)),
        )
        for r in site.rules
    }


def assemble(shared: Shared) -> Part[AlarmService]:
    """The alarm book and its reminder sweep."""
    alarms = AlarmService(
        shared.db,
        notify=shared.announce,
        policies=alarm_policies(shared.site),
    )
    return Part(alarms, singletons=[AlarmSweeper(alarms)])
