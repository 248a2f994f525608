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
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from shapely.prepared import prep

from hub.domain import Event, PositionFix, Reading
from hub.pipeline import Envelope
from hub.site import Site
from hub.site.hours import in_hours
from hub.site.rules import (
    EquipmentFaultRule,
    GeofenceRule,
    LoneWorkerRule,
    MissedPatrolRule,
    RuleConfig,
    SilenceRule,
    ThresholdRule,
    VehicleUseRule,
)
from hub.tasks import cancel
from rules.actions import Action, Clear, Raise, occurred
from rules.kinds import (
    equipment_fault,
    geofence,
    lone_worker,
    missed_patrol,
    silence,
    threshold,
    vehicle_use,
)
from rules.ports import AlarmBook, NoTrips, RuleStateStore, StoredRule, TripBook

log = logging.getLogger(__name__)

State = dict[str, Any]
Update = Callable[[State, Event, datetime, Any], tuple[State, list[Action]]]
Tick = Callable[[State, datetime, Any], tuple[State, list[Action]]]


def utcnow() -> datetime:
    """Now, UTC."""
    return datetime.now(UTC)


class Fences:
    """The site's geofences in an STRtree: which fences contain each fix of a batch, and
    which fences each segment between two fixes touches, in one vectorised query each
    (shapely 2; a fence's edge counts as inside)."""

    def __init__(self, site: Site) -> None:
        self.ids = [g.id for g in site.geofences]
        geoms = [g.geometry.to_shape() for g in site.geofences]
        self._tree = shapely.STRtree(geoms) if geoms else None
        self._applies = {g.id: [k.value for k in g.applies_to] for g in site.geofences}

    def containing(self, points: Sequence[tuple[float, float]]) -> list[frozenset[str]]:
        """For each (lat, lon), the ids of the fences it is in."""
        out: list[set[str]] = [set() for _ in points]
        if self._tree is None or not points:
            return [frozenset()] * len(points)
        coords = np.asarray([(lon, lat) for lat, lon in points], dtype=float)
        hits = self._tree.query(shapely.points(coords), predicate="intersects")
        for p, g in zip(hits[0].tolist(), hits[1].tolist(), strict=True):
            out[p].add(self.ids[g])
        return [frozenset(s) for s in out]

    def crossed(
        self, segments: Sequence[tuple[int, tuple[float, float], tuple[float, float]]]
    ) -> dict[int, frozenset[str]]:
        """For (key, (lat, lon), (lat, lon)) segments, the fences each touches, by key (only
        the keys that touch any)."""
        if self._tree is None or not segments:
            return {}
        lines = shapely.linestrings(
            np.asarray([[(a[1], a[0]), (b[1], b[0])] for _, a, b in segments], dtype=float)
        )
        hits = self._tree.query(lines, predicate="intersects")
        out: dict[int, set[str]] = {}
        for k, g in zip(hits[0].tolist(), hits[1].tolist(), strict=True):
            out.setdefault(segments[k][0], set()).add(self.ids[g])
        return {key: frozenset(v) for key, v in out.items()}

    def applies(self, fence: str) -> list[str]:
        """The subject kinds the fence is for (empty: everyone)."""
        return self._applies.get(fence, [])

    def applies_to(self, group: Sequence[str]) -> list[str]:
        """The subject kinds a group of fences is for (empty: everyone)."""
        kinds = [self.applies(f) for f in group]
        if any(not k for k in kinds):
            return []
        return sorted({k for ks in kinds for k in ks})


PASS_THROUGH_MIN_M = 50.0  # fixes closer than this are dense enough: no crossing check


# The event kinds each rule kind consumes (geofence rules are fed by the fence index).
CONSUMES: dict[str, tuple[str, ...]] = {
    "equipment_fault": ("status",),
    "threshold": ("reading",),
    "silence": ("reading", "status", "position"),
    "missed_patrol": ("sighting",),
    "lone_worker": ("position",),
    "vehicle_use": ("position",),
    "geofence": (),
}


def _kind(
    rule: RuleConfig, site: Site, fences: Fences, trips: TripBook
) -> tuple[Update | None, Tick]:
    match rule:
        case VehicleUseRule():
            compound = prep(site.site.boundary.to_shape())

            def use_update(s: State, e: Event, now: datetime, c: Any) -> tuple[State, list[Action]]:
                if not isinstance(e, PositionFix) or e.lat is None or e.lon is None:
                    return s, []
                facts = vehicle_use.Facts(
                    inside_compound=bool(compound.intersects(shapely.Point(e.lon, e.lat))),
                    covered_by_trip=trips.covering(e.subject_id, e.ts),
                )
                return vehicle_use.update(s, e, facts, c)

            return use_update, vehicle_use.tick
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
        case LoneWorkerRule():
            return lone_worker.update, lone_worker.tick
        case GeofenceRule():
            tz = site.site.timezone

            def tick(s: State, now: datetime, r: Any) -> tuple[State, list[Action]]:
                return geofence.tick(s, now, r, tz)

            # Fixes reach geofence rules through the fence index (`_geofence`), not `update`.
            return None, tick
    raise TypeError(f"no rule kind for {type(rule).__name__}")


@dataclass
class _Running:
    config: RuleConfig
    update: Update | None  # None: fed otherwise (geofence rules, by the fence index)
    tick: Tick
    stored: StoredRule
    dirty: bool = False
    applies: tuple[str, ...] = ()  # geofence rules: the fences' subject kinds
    group: frozenset[str] = frozenset()  # geofence rules: the fences
    active: bool | None = None  # geofence rules with hours: inside them at the last tick


class RuleEngine:
    """Runs the site's rules; a pipeline consumer and a periodic ticker (a hub component).

    With several hub workers only the leader's engine judges (`leads`); the others stand by
    and show the state the leader saved.
    """

    name = "rules"
    ENABLES_EVERY_S = 10.0  # how often a leader with a disabled rule looks for its re-enabling

    def __init__(
        self,
        site: Site,
        store: RuleStateStore,
        alarms: AlarmBook,
        *,
        clock: Callable[[], datetime] = utcnow,
        tick_s: float = 1.0,
        save_every_s: float = 0.0,
        trips: TripBook | None = None,
        leads: Callable[[], bool] = lambda: True,
        events_may_cross: bool = False,
    ) -> None:
        self._store = store
        self._leads = leads
        # several workers: a subject's events may arrive out of order (see _in_order)
        self._may_cross = events_may_cross
        self._alarms = alarms
        self._clock = clock
        self._tick_s = tick_s
        self._save_every = save_every_s
        trips = trips if trips is not None else NoTrips()
        self._saved_at = 0.0
        self.fences = Fences(site)
        self._rules: dict[str, _Running] = {}
        # Dispatch: event kind -> rules; a reading's point -> threshold rules; a fence -> its
        # geofence rules (evaluated only when a subject's side of that fence changes).
        self._by_kind: dict[str, list[_Running]] = {}
        self._by_point: dict[str, list[_Running]] = {}
        self._by_fence: dict[str, list[_Running]] = {}
        self._geo: list[_Running] = []
        self._sides: dict[str, frozenset[str]] = {}  # subject -> fences it was last inside
        self._kinds: dict[str, str] = {}  # subject -> its kind
        self._sides_before: dict[str, frozenset[str]] = {}  # ... at the fix before that
        self._last_pos: dict[str, tuple[float, float]] = {}
        # fence -> enter rules without dwell: the ones a crossing between two fixes triggers
        self._pass_through: dict[str, list[_Running]] = {}
        self._tz = site.site.timezone
        for item in site.rules:
            rule: RuleConfig = item  # type: ignore[assignment]
            if not rule.enabled:
                continue
            up, tk = _kind(rule, site, self.fences, trips)
            running = _Running(rule, up, tk, StoredRule())
            self._rules[rule.id] = running
            if isinstance(rule, GeofenceRule):
                running.applies = tuple(self.fences.applies_to(rule.group))
                running.group = frozenset(rule.group)
                for fence in rule.group:
                    self._by_fence.setdefault(fence, []).append(running)
                    if rule.when == "enter" and rule.dwell_s == 0:
                        self._pass_through.setdefault(fence, []).append(running)
                self._geo.append(running)
            elif isinstance(rule, ThresholdRule):
                self._by_point.setdefault(rule.point, []).append(running)
            else:
                for kind in CONSUMES[rule.kind]:
                    self._by_kind.setdefault(kind, []).append(running)
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Cancelling a task awaiting to_thread() leaves its thread running: stop()'s final
        # save could otherwise run beside a tick's (both inserting a new rule's row).
        self._save_lock = threading.Lock()
        self._loaded = False
        self._enables_seen_at = 0.0
        # a subject's newest judged fix, a point's newest judged reading
        self._newest_fix: dict[str, datetime] = {}
        self._newest_reading: dict[str, datetime] = {}
        self.stale = 0
        self.evaluated = 0
        self.raised = 0
        self.cleared = 0
        self.failures = 0

    # -- lifecycle -------------------------------------------------------------------------
    def load(self) -> None:
        """Take up the persisted state of every rule (call before the first event)."""
        self._loaded = True
        now = self._clock()
        for running in self._geo:
            hours = getattr(running.config, "active_hours", None)
            running.active = in_hours(hours, now, self._tz)
        stored = self._store.load()
        for rule_id, running in self._rules.items():
            if rule_id in stored:
                running.stored = stored[rule_id]
            if isinstance(running.config, MissedPatrolRule):
                missed_patrol.prewarm(running.config, self._tz, now)

    async def start(self) -> None:
        """Load state and start ticking."""
        if not self._loaded:
            await asyncio.to_thread(self.load)
        self._task = asyncio.create_task(self._ticker(), name="rules:tick")

    async def stop(self) -> None:
        """Stop ticking and save every rule's state (a standby has nothing of its own)."""
        if self._task is not None:
            await cancel([self._task])
            self._task = None
        async with self._lock:
            if self._leads():
                await asyncio.to_thread(self._save, force=True)

    async def _leading(self) -> bool:
        """Whether this worker runs the rules now (with several workers, only the leader
        does: each alarm raised once). Taking over, it first loads the state the last
        leader saved."""
        if not self._leads():
            if self._loaded:  # standing by: what this worker saw goes stale
                self._loaded = False
                for seen in (
                    self._sides,
                    self._sides_before,
                    self._kinds,
                    self._last_pos,
                    self._newest_fix,
                    self._newest_reading,
                ):
                    seen.clear()
            return False
        if not self._loaded:
            await asyncio.to_thread(self.load)
        return True

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
            if not await self._leading():
                return
            now = self._clock()
            actions = self.evaluate(events, now)
            await asyncio.to_thread(self._commit, actions, now)

    def _in_order(self, events: Sequence[Event]) -> Sequence[Event]:
        """The events without fixes and readings older than their subject's or point's newest
        one already judged. With several hub workers a subject's fixes reach the leader by two
        roads (taken in here, or relayed from another worker) and may arrive out of order; a
        stale fix would flip a geofence back. (One hub needs no such check: the pipeline keeps
        each source's order and the location stage drops a subject's late fixes.) Dropped fixes
        are stored all the same; sightings are all kept: patrol evidence counts whenever it
        arrives."""
        kept: list[Event] = []
        for e in events:
            if isinstance(e, PositionFix):
                newest, key = self._newest_fix, e.subject_id
            elif isinstance(e, Reading):
                newest, key = self._newest_reading, e.point_id
            else:
                kept.append(e)
                continue
            last = newest.get(key)
            if last is not None and e.ts < last:
                self.stale += 1
                continue
            newest[key] = e.ts
            kept.append(e)
        return kept

    def evaluate(self, events: Sequence[Event], now: datetime) -> list[Action]:
        """Run the rules over the events (no I/O): what they decide."""
        if self._may_cross:
            events = self._in_order(events)
        actions: list[Action] = []
        fixes: list[PositionFix] = []
        if self._geo:
            fixes = [
                e
                for e in events
                if isinstance(e, PositionFix) and e.lat is not None and e.lon is not None
            ]
            sides = self.fences.containing([(f.lat, f.lon) for f in fixes])  # type: ignore[misc]
            crossed = self._crossings(fixes)
            for i, (fix, inside) in enumerate(zip(fixes, sides, strict=True)):
                actions.extend(self._geofence(fix, inside))
                if i in crossed:
                    actions.extend(self._passed_through(fix, crossed[i], inside))
        for event in events:
            targets = self._by_kind.get(event.kind, ())
            if isinstance(event, Reading):
                targets = [*targets, *self._by_point.get(event.point_id, ())]
            for running in targets:
                actions.extend(self._run(running, event, now))
        self.evaluated += len(events)
        return actions

    def _crossings(self, fixes: Sequence[PositionFix]) -> dict[int, frozenset[str]]:
        """For fixes (by index), the fences the straight line from the subject's previous fix
        touches, when some rule would care and the fixes are sparse (at least
        `PASS_THROUGH_MIN_M` apart: denser tracks have a fix inside any fence that matters):
        a fast car between two sparse fixes can cross a small fence without a fix in it."""
        if not self._pass_through or not fixes:
            return {}
        last = self._last_pos
        here = [(f.lat, f.lon) for f in fixes]
        before = [last.get(f.subject_id) for f in fixes]
        last.update(zip((f.subject_id for f in fixes), here, strict=True))  # type: ignore[arg-type]
        known = [i for i, b in enumerate(before) if b is not None]
        if not known:
            return {}
        a0 = np.asarray([before[i] for i in known], dtype=float)
        a1 = np.asarray([here[i] for i in known], dtype=float)
        dlat = np.radians(a1[:, 0] - a0[:, 0])
        dlon = np.radians(a1[:, 1] - a0[:, 1]) * np.cos(np.radians(a0[:, 0]))
        far = np.flatnonzero(6_371_000.0 * np.hypot(dlat, dlon) >= PASS_THROUGH_MIN_M)
        segments = [(known[k], before[known[k]], here[known[k]]) for k in far.tolist()]
        return self.fences.crossed(segments)  # type: ignore[arg-type]

    def _passed_through(
        self, fix: PositionFix, crossed: frozenset[str], inside: frozenset[str]
    ) -> list[Action]:
        """Enter rules without dwell whose fence (group) the subject crossed between two fixes
        outside it: recorded as an entry that is already over (raised and cleared)."""
        before = self._sides_before.get(fix.subject_id, frozenset())
        actions: list[Action] = []
        for running in {id(r): r for f in crossed for r in self._pass_through.get(f, ())}.values():
            cfg = running.config
            assert isinstance(cfg, GeofenceRule)
            if (
                running.group & (before | inside)
                or running.stored.disabled
                or not geofence.watches(cfg, fix.subject_kind.value, running.applies)
                or not in_hours(cfg.active_hours, fix.ts, self._tz)
            ):
                continue
            text = f"{fix.subject_id} passed through {' / '.join(cfg.group)} between two fixes"
            actions += occurred(cfg.id, fix.subject_id, "geofence_enter", cfg.severity.value, text)
        return actions

    def _geofence(self, fix: PositionFix, inside: frozenset[str]) -> list[Action]:
        """The geofence rules of the fences whose side this subject changed (all of them at
        its first fix): a fix on the same side as before changes nothing a tick would not."""
        subject = fix.subject_id
        before = self._sides.get(subject)
        self._sides_before[subject] = before or frozenset()
        self._sides[subject] = inside
        self._kinds[subject] = fix.subject_kind.value
        if before is None:
            rules = self._geo
        else:
            changed = before ^ inside
            if not changed:
                return []
            rules = list({id(r): r for f in changed for r in self._by_fence.get(f, ())}.values())
        actions: list[Action] = []
        for running in rules:
            cfg = running.config
            assert isinstance(cfg, GeofenceRule)
            if running.stored.disabled or not geofence.watches(
                cfg, fix.subject_kind.value, running.applies
            ):
                continue
            actions.extend(self._geo_step(running, subject, fix.ts, inside))
        return actions

    def _geo_step(
        self, running: _Running, subject: str, ts: datetime, inside: frozenset[str]
    ) -> list[Action]:
        cfg = running.config
        assert isinstance(cfg, GeofenceRule)
        state = running.stored.state
        try:
            active = in_hours(cfg.active_hours, ts, self._tz)
            sub, acts = geofence.step(
                state.get(subject), ts, bool(running.group & inside), cfg, subject, active
            )
        except Exception as exc:
            return self._fail(running, exc)
        if sub is None:
            if state.pop(subject, None) is not None:
                running.dirty = True
        elif sub != state.get(subject):
            state[subject] = sub
            running.dirty = True
        return acts

    def _hours_opened(self, now: datetime) -> list[Action]:
        """Geofence rules whose hours just began: step every subject seen so far (those
        already on the watched side start their condition now)."""
        actions: list[Action] = []
        for running in self._geo:
            cfg = running.config
            assert isinstance(cfg, GeofenceRule)
            if cfg.active_hours is None or running.stored.disabled:
                continue
            active = in_hours(cfg.active_hours, now, self._tz)
            opened = active and running.active is False
            running.active = active
            if not opened:
                continue
            for subject, inside in self._sides.items():
                if geofence.watches(cfg, self._kinds[subject], running.applies):
                    actions.extend(self._geo_step(running, subject, now, inside))
        return actions

    async def tick(self) -> None:
        """Let time-driven conditions (dwell, hold, silence) mature."""
        async with self._lock:
            if not await self._leading():
                return
            now = self._clock()
            actions = self.tick_actions(now)
            await asyncio.to_thread(self._commit, actions, now)
            if time.monotonic() - self._enables_seen_at >= self.ENABLES_EVERY_S:
                self._enables_seen_at = time.monotonic()
                if any(r.stored.disabled for r in self._rules.values()):
                    await asyncio.to_thread(self._take_enables)

    def _take_enables(self) -> None:
        """Rules re-enabled through another hub worker's API (it saved a fresh state): take
        them up."""
        stored = self._store.load()
        for rule_id, running in self._rules.items():
            row = stored.get(rule_id)
            if running.stored.disabled and row is not None and not row.disabled:
                running.stored = row
                log.info("rule %s was re-enabled (by another hub worker)", rule_id)

    def tick_actions(self, now: datetime) -> list[Action]:
        """Every rule's tick (no I/O): what they decide."""
        actions: list[Action] = []
        for running in self._rules.values():
            actions.extend(self._run(running, None, now))
        actions.extend(self._hours_opened(now))
        return actions

    def apply(self, actions: list[Action], now: datetime) -> None:
        """Apply actions to the alarm book and save state (blocking: call off the loop)."""
        self._commit(actions, now)

    def _run(self, running: _Running, event: Event | None, now: datetime) -> list[Action]:
        """One step of one rule: its update for an event, its tick for None."""
        if running.stored.disabled:
            return []
        try:
            if event is None:
                state, actions = running.tick(running.stored.state, now, running.config)
            else:
                assert running.update is not None, "dispatched only to rules with an update"
                state, actions = running.update(running.stored.state, event, now, running.config)
        except Exception as exc:
            return self._fail(running, exc)
        if state is not running.stored.state:
            running.stored.state = state
            running.dirty = True
        return actions

    def _fail(self, running: _Running, exc: Exception) -> list[Action]:
        """Disable a rule whose function raised; an alarm about the rule says why."""
        self.failures += 1
        rule_id = running.config.id
        log.error("rule %s failed; disabling it", rule_id, exc_info=exc)
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
        self._save()

    def _save(self, *, force: bool = False) -> None:
        """Persist the changed rule states (at most every `save_every_s` unless forced)."""
        if not force and time.monotonic() - self._saved_at < self._save_every:
            return
        with self._save_lock:
            dirty = {rid: r.stored for rid, r in self._rules.items() if r.dirty}
            if dirty:
                self._store.save(dirty)
                for r in dirty:
                    self._rules[r].dirty = False
            self._saved_at = time.monotonic()

    async def enable(self, rule_id: str) -> None:
        """Re-enable a rule that disabled itself; its state starts afresh."""
        async with self._lock:
            running = self._rules.get(rule_id)
            if running is None:
                raise KeyError(rule_id)
            running.stored = StoredRule()
            running.dirty = True
            await asyncio.to_thread(self._save, force=True)

    # -- inspection ------------------------------------------------------------------------
    def rules(self, *, fresh: bool = False) -> list[dict[str, Any]]:
        """Every rule with its configuration and state (for the API). With `fresh`, a standby
        reads the state the leader saved (blocking: call off the event loop)."""
        stored = self._store.load() if fresh and not self._leads() else {}
        out = []
        for rid, r in self._rules.items():
            state = stored.get(rid, r.stored)
            out.append(
                {
                    "id": rid,
                    "kind": r.config.kind,
                    "name": r.config.name,
                    "severity": r.config.severity.value,
                    "disabled": state.disabled,
                    "error": state.error,
                    "state": state.state,
                    "config": r.config.model_dump(mode="json"),
                }
            )
        return out

    def health(self) -> dict[str, Any]:
        """Counts; degraded while a rule is disabled by a failure."""
        disabled = [rid for rid, r in self._rules.items() if r.stored.disabled]
        return {
            "status": "degraded" if disabled else "ok",
            "standby": not self._leads(),
            "rules": len(self._rules),
            "disabled": disabled,
            "evaluated": self.evaluated,
            "raised": self.raised,
            "cleared": self.cleared,
            "stale": self.stale,
            "failures": self.failures,
        }
