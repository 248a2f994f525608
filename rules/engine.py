"""The rules engine: feeds events and clock ticks to each rule's pure state function, applies
what they decide to the alarm book and persists their state.

Order of effects: alarms first, then state. A crash between the two re-raises on restart,
which the alarm book counts as one more occurrence of the same active alarm (never a second
alarm); the other order could lose an alarm.

A rule whose function raises is disabled (persisted) and raises an alarm about itself; the
other rules go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.prepared import prep

from hub.domain import Event
from hub.pipeline import Envelope
from hub.site import Site
from hub.site.rules import (
    EquipmentFaultRule,
    GeofenceRule,
    MissedPatrolRule,
    RuleConfig,
    SilenceRule,
    ThresholdRule,
)
from rules.actions import Action, Clear, Raise
from rules.kinds import equipment_fault, geofence, missed_patrol, silence, threshold
from rules.ports import AlarmBook, RuleStateStore, StoredRule

log = logging.getLogger(__name__)

State = dict[str, Any]
Update = Callable[[State, Event, datetime, Any], tuple[State, list[Action]]]
Tick = Callable[[State, datetime, Any], tuple[State, list[Action]]]


def utcnow() -> datetime:
    """Now, UTC."""
    return datetime.now(UTC)


class Fences:
    """The site's geofences as prepared shapes: which side of a fence a fix is on."""

    def __init__(self, site: Site) -> None:
        self._shapes = {g.id: prep(g.geometry.to_shape()) for g in site.geofences}
        self._applies = {g.id: [k.value for k in g.applies_to] for g in site.geofences}

    def inside(self, fence: str, lat: float, lon: float) -> bool:
        """Whether (lat, lon) is in the fence (its edge counts as inside)."""
        return bool(self._shapes[fence].intersects(shapely.Point(lon, lat)))

    def applies(self, fence: str) -> list[str]:
        """The subject kinds the fence is for (empty: everyone)."""
        return self._applies.get(fence, [])


def _kind(rule: RuleConfig, site: Site, fences: Fences) -> tuple[Update, Tick]:
    match rule:
        case MissedPatrolRule():
            r = next(p for p in site.patrol_routes if p.id == rule.route)
            route = missed_patrol.Route(
                r.id, tuple(r.checkpoints), r.ordered, frozenset(r.guards), site.site.timezone
            )

            def patrol_update(
                s: State, e: Event, now: datetime, c: Any
            ) -> tuple[State, list[Action]]:
                return missed_patrol.update(s, e, now, c, route)

            def patrol_tick(s: State, now: datetime, c: Any) -> tuple[State, list[Action]]:
                return missed_patrol.tick(s, now, c, route)

            return patrol_update, patrol_tick
        case EquipmentFaultRule():
            return equipment_fault.update, equipment_fault.tick
        case ThresholdRule():
            return threshold.update, threshold.tick
        case SilenceRule():
            return silence.update, silence.tick
        case GeofenceRule():
            applies = fences.applies(rule.fence)

            def update(s: State, e: Event, now: datetime, r: Any) -> tuple[State, list[Action]]:
                return geofence.update(s, e, now, r, fences.inside, applies)

            return update, geofence.tick
    raise TypeError(f"no rule kind for {type(rule).__name__}")


@dataclass
class _Running:
    config: RuleConfig
    update: Update
    tick: Tick
    stored: StoredRule
    dirty: bool = False


class RuleEngine:
    """Runs the site's rules; a pipeline consumer and a periodic ticker (a hub component)."""

    name = "rules"

    def __init__(
        self,
        site: Site,
        store: RuleStateStore,
        alarms: AlarmBook,
        *,
        clock: Callable[[], datetime] = utcnow,
        tick_s: float = 1.0,
    ) -> None:
        self._store = store
        self._alarms = alarms
        self._clock = clock
        self._tick_s = tick_s
        fences = Fences(site)
        self._rules: dict[str, _Running] = {}
        for item in site.rules:
            rule: RuleConfig = item  # type: ignore[assignment]
            if rule.enabled:
                up, tk = _kind(rule, site, fences)
                self._rules[rule.id] = _Running(rule, up, tk, StoredRule())
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._loaded = False
        self.evaluated = 0
        self.raised = 0
        self.cleared = 0
        self.failures = 0

    # -- lifecycle -------------------------------------------------------------------------
    def load(self) -> None:
        """Take up the persisted state of every rule (call before the first event)."""
        self._loaded = True
        stored = self._store.load()
        for rule_id, running in self._rules.items():
            if rule_id in stored:
                running.stored = stored[rule_id]

    async def start(self) -> None:
        """Load state and start ticking."""
        if not self._loaded:
            await asyncio.to_thread(self.load)
        self._task = asyncio.create_task(self._ticker(), name="rules:tick")

    async def stop(self) -> None:
        """Stop ticking; the state is saved after every batch already."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                await self.tick()
            except Exception:  # the alarm book's database away: try again next tick
                log.exception("rules tick failed")

    # -- evaluation ------------------------------------------------------------------------
    async def __call__(self, batch: Sequence[Envelope]) -> None:
        """Pipeline handler."""
        await self.handle([env.event for env in batch])

    async def handle(self, events: Sequence[Event]) -> None:
        """Evaluate events, then apply what the rules decided."""
        async with self._lock:
            now = self._clock()
            actions: list[Action] = []
            for event in events:
                for running in self._rules.values():
                    actions.extend(self._run(running, event, now))
            self.evaluated += len(events)
            await asyncio.to_thread(self._commit, actions, now)

    async def tick(self) -> None:
        """Let time-driven conditions (dwell, hold, silence) mature."""
        async with self._lock:
            now = self._clock()
            actions: list[Action] = []
            for running in self._rules.values():
                actions.extend(self._run(running, None, now))
            await asyncio.to_thread(self._commit, actions, now)

    def _run(self, running: _Running, event: Event | None, now: datetime) -> list[Action]:
        """One step of one rule: its update for an event, its tick for None."""
        if running.stored.disabled:
            return []
        try:
            if event is None:
                state, actions = running.tick(running.stored.state, now, running.config)
            else:
                state, actions = running.update(running.stored.state, event, now, running.config)
        except Exception as exc:
            self.failures += 1
            rule_id = running.config.id
            log.exception("rule %s failed; disabling it", rule_id)
            running.stored.disabled = True
            running.stored.error = f"{type(exc).__name__}: {exc}"
            running.dirty = True
            return [
                Raise(
                    rule_id,
                    f"rule:{rule_id}",
                    "rule_failure",
                    "major",
                    f"rule {rule_id} disabled: {running.stored.error}",
                )
            ]
        if state != running.stored.state:
            running.stored.state = state
            running.dirty = True
        return actions

    def _commit(self, actions: list[Action], now: datetime) -> None:
        for action in actions:
            if isinstance(action, Raise):
                self.raised += 1
                self._alarms.raise_alarm(
                    rule=action.rule,
                    originator=action.originator,
                    type=action.type,
                    severity=action.severity,
                    message=action.message,
                    ticket=action.ticket,
                    now=now,
                )
            elif isinstance(action, Clear):
                self.cleared += 1
                self._alarms.clear_alarm(
                    rule=action.rule,
                    originator=action.originator,
                    type=action.type,
                    message=action.message,
                    now=now,
                )
        dirty = {rid: r.stored for rid, r in self._rules.items() if r.dirty}
        if dirty:
            self._store.save(dirty)
            for r in self._rules.values():
                r.dirty = False

    async def enable(self, rule_id: str) -> None:
        """Re-enable a rule that disabled itself; its state starts afresh."""
        async with self._lock:
            running = self._rules.get(rule_id)
            if running is None:
                raise KeyError(rule_id)
            running.stored = StoredRule()
            running.dirty = True
            await asyncio.to_thread(self._commit, [], self._clock())

    # -- inspection ------------------------------------------------------------------------
    def rules(self) -> list[dict[str, Any]]:
        """Every rule with its configuration and state (for the API)."""
        return [
            {
                "id": rid,
                "kind": r.config.kind,
                "name": r.config.name,
                "severity": r.config.severity.value,
                "disabled": r.stored.disabled,
                "error": r.stored.error,
                "state": r.stored.state,
                "config": r.config.model_dump(mode="json"),
            }
            for rid, r in self._rules.items()
        ]

    def health(self) -> dict[str, Any]:
        """Counts; degraded while a rule is disabled by a failure."""
        disabled = [rid for rid, r in self._rules.items() if r.stored.disabled]
        return {
            "status": "degraded" if disabled else "ok",
            "rules": len(self._rules),
            "disabled": disabled,
            "evaluated": self.evaluated,
            "raised": self.raised,
            "cleared": self.cleared,
            "failures": self.failures,
        }
