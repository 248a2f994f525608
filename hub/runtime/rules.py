"""The rules engine as the hub runs it: its pipeline feed, its state and alarm book, what the
API may ask of it (dry runs over what was recorded), and the sign-in alarms."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.domain import Event, Reading, Say
from hub.errors import Invalid
from hub.identity.throttle import OnLock
from hub.services.alarms import AlarmService, SqlRuleStateStore
from hub.services.assembly import Consumer, Part, Shared
from hub.services.journal import EventJournal
from hub.site import Site
from hub.site.loader import check_rules_text
from hub.telemetry import TelemetryStore
from rules.dry_run import dry_run
from rules.engine import RuleEngine
from rules.ports import TripBook

# What the rules engine consumes (alarms and commands are its output and others').
RULE_KINDS = ("reading", "status", "position", "sighting", "scan", "gate")

AUTH_RULE = "auth"  # the rule id of sign-in alarms


def sign_in_alarm(alarms: AlarmService) -> OnLock:
    """What a sign-in lock does: an alarm for the security room (one active per account or
    address, its occurrences counting further locks)."""

    def raise_(key: str, failures: int, until: datetime) -> None:
        kind, _, who = key.partition(":")
        what = {"account": "账号", "addr": "地址", "cred": "密钥猜测 地址"}.get(kind, kind)
        alarms.raise_alarm(
            rule=AUTH_RULE,
            originator=key,
            type="sign_in_locked",
            severity="major",
            message=f"{what} {who}: {failures} failed sign-ins, locked until "
            f"{until.isoformat(timespec='seconds')}",
            ticket=False,
            now=datetime.now(UTC),
            say=Say(
                "sign_in.locked",
                {
                    "what": what,
                    "what_en": {"account": "account", "addr": "address"}.get(
                        kind, "key guessing from address"
                    ),
                    "who": who,
                    "failures": failures,
                    "until_at": until.isoformat(),
                },
            ),
        )

    return raise_


class HubRules:
    """The rules as the API sees them: the running engine, and dry runs of rule files over
    what was recorded: readings and positions (telemetry store), device statuses and badge
    sightings (event journal)."""

    MAX_RANGE = timedelta(days=7)

    def __init__(
        self,
        engine: RuleEngine,
        site: Site,
        telemetry: TelemetryStore,
        journal: EventJournal,
    ) -> None:
        self.engine = engine
        self.site = site
        self.telemetry = telemetry
        self.journal = journal

    def rules(self) -> list[dict[str, Any]]:
        """Every running rule with its state (as the leading worker saved it; blocking)."""
        return self.engine.rules(fresh=True)

    async def enable(self, rule_id: str) -> None:
        """Re-enable a rule that disabled itself."""
        await self.engine.enable(rule_id)

    async def dry_run(
        self, text: str, start: datetime, end: datetime, tick_s: float
    ) -> dict[str, Any]:
        """Replay the recorded stretch [start, end) through the rules in `text`."""
        if not timedelta(0) < end - start <= self.MAX_RANGE:
            raise Invalid("give a range of up to 7 days, end after start")
        rules, problems = check_rules_text(text, self.site)
        if problems:
            raise Invalid("; ".join(str(p) for p in problems))
        points = self.site.point_ids()
        devices = {pid: d.id for pid, (d, _) in points.items()}
        wanted: set[str] = set().union(*(r.reads(devices) for r in rules))  # type: ignore[attr-defined]
        events: list[Event] = []
        for pid in sorted(wanted):
            unit = points[pid][1].unit if pid in points else ""
            for sample in await self.telemetry.history(pid, start, end, limit=200_000):
                events.append(Reading(pid, sample.value, unit, sample.ts, sample.quality))
        subjects = [p.id for p in self.site.people if p.role == "guard"]
        subjects += [v.id for v in self.site.vehicles]
        for subject in subjects:
            events += await self.telemetry.track(subject, start, end, limit=200_000)
        events += await asyncio.to_thread(self.journal.events, start, end)
        return await asyncio.to_thread(
            dry_run, self.site, rules, events, start, end, tick=timedelta(seconds=tick_s)
        )


def assemble(
    shared: Shared,
    alarms: AlarmService,
    *,
    trips: TripBook,
    leads: Callable[[], bool],
) -> Part[RuleEngine]:
    """The engine, judging on the leading worker, fed what every worker accepted (with several
    workers, events may cross on the way: it keeps each subject's newest)."""
    engine = RuleEngine(
        shared.site,
        SqlRuleStateStore(shared.db),
        alarms,
        save_every_s=1.0,
        trips=trips,
        leads=leads,
        events_may_cross=shared.settings.mqtt.relay,
    )
    feed = Consumer("rules", engine, kinds=RULE_KINDS, peers=True)
    return Part(engine, consumers=[feed], components=[engine])
