"""The rules engine: feeds events and clock ticks to each rule's pure state function, applies
what they decide to the alarm book and persists their state.

A batch is all or nothing: the rules' decisions and the states of the rules that made them
are committed in one transaction (`AlarmBook.commit`); if that fails, the engine takes back
what it had changed in memory, so the same batch delivered again is judged as it was the
first time: a steady fault is neither forgotten (the state saying "raised" for an alarm that
was never stored) nor counted twice. States of rules that decided nothing are saved at most
every `save_every_s`.

A rule whose function raises is disabled (persisted) and raises an alarm about itself; the
other rules go on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from hub.domain import Delivered, Event, Reading, RetryLater, Say, TourProgress
from hub.site import Site
from hub.site.rules import GeofenceRule, MissedPatrolRule, RuleConfig, ThresholdRule
from hub.tasks import cancel
from rules.actions import Action, Raise
from rules.binding import CODECS, CONSUMES, Running, bind, patrol_route
from rules.fences import Fences
from rules.geo import GeofenceDispatch
from rules.kinds import missed_patrol
from rules.ordering import NewestFirst
from rules.ports import AlarmBook, NoTrips, RuleStateStore, StoredRule, TripBook

__all__ = ["RuleEngine", "utcnow"]

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Now, UTC."""
    return datetime.now(UTC)


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
        # several workers: a subject's events may arrive out of order (see rules.ordering)
        self._may_cross = events_may_cross
        self._alarms = alarms
        self._clock = clock
        self._tick_s = tick_s
        self._save_every = save_every_s
        trips = trips if trips is not None else NoTrips()
        self._saved_at = 0.0
        self.fences = Fences(site)
        self._tz = site.site.timezone
        self.geo = GeofenceDispatch(self.fences, self._tz, self._fail)
        self._rules: dict[str, Running] = {}
        # Dispatch: event kind -> rules; a reading's point -> threshold rules (geofence rules
        # through the fence index).
        self._by_kind: dict[str, list[Running]] = {}
        self._by_point: dict[str, list[Running]] = {}
        self._routes: dict[str, missed_patrol.Route] = {}  # missed-patrol rules' routes
        for item in site.rules:
            rule: RuleConfig = item  # type: ignore[assignment]
            if not rule.enabled:
                continue
            up, tk = bind(rule, site, self.fences, trips)
            load, dump = CODECS[rule.kind]
            running = Running(rule, up, tk, StoredRule(), load, dump)
            running.state = load({})
            self._rules[rule.id] = running
            if isinstance(rule, MissedPatrolRule):
                self._routes[rule.id] = patrol_route(rule, site)
            if isinstance(rule, GeofenceRule):
                self.geo.add(running)
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
        self.order = NewestFirst()  # with several workers: events that crossed on the way
        self.evaluated = 0
        self.raised = 0
        self.cleared = 0
        self.failures = 0
        self.retried = 0  # batches taken back because the alarm book's store was away

    # -- lifecycle -------------------------------------------------------------------------
    def load(self) -> None:
        """Take up the persisted state of every rule (call before the first event)."""
        self._loaded = True
        now = self._clock()
        self.geo.load(now)
        stored = self._store.load()
        for rule_id, running in self._rules.items():
            if rule_id in stored:
                running.stored = stored[rule_id]
                running.state = running.load(running.stored.state)
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
                self.geo.forget()
                self.order.forget()
            return False
        if not self._loaded:
            await asyncio.to_thread(self.load)
        return True

    async def _ticker(self) -> None:
        away = False
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                await self.tick()
                away = False
            except RetryLater as err:  # the alarm book's database away: the next tick again
                if not away:
                    log.warning("rules ticks wait for the alarm book: %s", err)
                away = True
            except Exception:
                log.exception("rules tick failed")

    # -- evaluation ------------------------------------------------------------------------
    async def __call__(self, batch: Sequence[Delivered]) -> None:
        """Pipeline handler (all or nothing: see the module's docstring)."""
        await self.handle([env.event for env in batch])

    async def handle(self, events: Sequence[Event]) -> None:
        """Evaluate events, then apply what the rules decided."""
        async with self._lock:
            if not await self._leading():
                return
            now = self._clock()
            snap = self._snapshot()
            actions = self.evaluate(events, now)
            await self._apply(actions, now, snap)

    async def _apply(self, actions: list[Action], now: datetime, snap: tuple[Any, ...]) -> None:
        try:
            await asyncio.to_thread(self._commit, actions, now)
        except BaseException:
            self._restore(snap)  # as if the batch had not been seen: it will come again
            self.retried += 1
            raise
        self.geo.done()
        self.order.done()

    def _snapshot(self) -> tuple[Any, ...]:
        """What a failed commit must take back: every rule's state and flags (the pure
        functions replace a state), and — noted as they change — geofence states stepped in
        place and what the engine remembers of subjects and points."""
        rules = [
            (r, r.state, r.stored.disabled, r.stored.error, r.dirty) for r in self._rules.values()
        ]
        counts = (self.evaluated, self.failures)
        self.geo.begin()
        self.order.begin()
        return rules, counts

    def _restore(self, snap: tuple[Any, ...]) -> None:
        rules, counts = snap
        for running, state, disabled, error, dirty in rules:
            running.state = state
            running.stored.disabled, running.stored.error = disabled, error
            running.dirty = dirty
        self.geo.rollback()  # after: it undoes the geofence states stepped in place
        self.order.rollback()
        self.evaluated, self.failures = counts

    def evaluate(self, events: Sequence[Event], now: datetime) -> list[Action]:
        """Run the rules over the events (no I/O): what they decide."""
        if self._may_cross:
            events = self.order.keep(events)
        actions = self.geo.evaluate(events)
        for event in events:
            targets = self._by_kind.get(event.kind, ())
            if isinstance(event, Reading):
                targets = [*targets, *self._by_point.get(event.point_id, ())]
            for running in targets:
                actions.extend(self._run(running, event, now))
        self.evaluated += len(events)
        return actions

    async def tick(self) -> None:
        """Let time-driven conditions (dwell, hold, silence) mature."""
        async with self._lock:
            if not await self._leading():
                return
            now = self._clock()
            snap = self._snapshot()
            actions = self.tick_actions(now)
            await self._apply(actions, now, snap)
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
                running.state = running.load(row.state)
                log.info("rule %s was re-enabled (by another hub worker)", rule_id)

    def tick_actions(self, now: datetime) -> list[Action]:
        """Every rule's tick (no I/O): what they decide."""
        actions: list[Action] = []
        for running in self._rules.values():
            actions.extend(self._run(running, None, now))
        actions.extend(self.geo.hours_opened(now))
        return actions

    def apply(self, actions: list[Action], now: datetime) -> None:
        """Apply actions to the alarm book and save state (blocking: call off the loop)."""
        self._commit(actions, now)

    def _run(self, running: Running, event: Event | None, now: datetime) -> list[Action]:
        """One step of one rule: its update for an event, its tick for None."""
        if running.stored.disabled:
            return []
        try:
            if event is None:
                state, actions = running.tick(running.state, now, running.config)
            else:
                assert running.update is not None, "dispatched only to rules with an update"
                state, actions = running.update(running.state, event, now, running.config)
        except Exception as exc:
            return self._fail(running, exc)
        if state is not running.state:
            running.state = state
            running.dirty = True
        return actions

    def _fail(self, running: Running, exc: Exception) -> list[Action]:
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
                say=Say("rule.failed", {"rule": rule_id, "error": running.stored.error}),
            )
        ]

    def _commit(self, actions: list[Action], now: datetime) -> None:
        """The decisions with the states of the rules that made them in one transaction; the
        states of rules that decided nothing at most every `save_every_s`."""
        if not actions:
            self._save()
            return
        with self._save_lock:
            deciding = {a.rule for a in actions}
            states = {
                rid: self._as_stored(r)
                for rid, r in self._rules.items()
                if r.dirty and rid in deciding
            }
            self._alarms.commit(actions, states, now)
            for rid in states:
                self._rules[rid].dirty = False
        for action in actions:
            if isinstance(action, Raise):
                self.raised += 1
            else:
                self.cleared += 1

    def _dirty(self) -> dict[str, StoredRule]:
        return {rid: self._as_stored(r) for rid, r in self._rules.items() if r.dirty}

    @staticmethod
    def _as_stored(r: Running) -> StoredRule:
        """The rule as stored: its typed state as JSON (kept, what it was loaded from)."""
        r.stored.state = r.dump(r.state)
        return r.stored

    def _saved(self, saved: dict[str, StoredRule]) -> None:
        for rid in saved:
            self._rules[rid].dirty = False
        self._saved_at = time.monotonic()

    def _save(self, *, force: bool = False) -> None:
        """Persist the changed rule states (at most every `save_every_s` unless forced)."""
        if not force and time.monotonic() - self._saved_at < self._save_every:
            return
        with self._save_lock:
            dirty = self._dirty()
            if dirty:
                self._store.save(dirty)
            self._saved(dirty)

    async def enable(self, rule_id: str) -> None:
        """Re-enable a rule that disabled itself; its state starts afresh."""
        async with self._lock:
            running = self._rules.get(rule_id)
            if running is None:
                raise KeyError(rule_id)
            running.stored = StoredRule()
            running.state = running.load({})
            running.dirty = True
            await asyncio.to_thread(self._save, force=True)

    # -- inspection ------------------------------------------------------------------------
    def rules(self, *, fresh: bool = False) -> list[dict[str, Any]]:
        """Every rule with its configuration and state (for the API). With `fresh`, a standby
        reads the state the leader saved (blocking: call off the event loop)."""
        stored = self._store.load() if fresh and not self._leads() else {}
        return [r.describe(stored.get(rid)) for rid, r in self._rules.items()]

    def patrols(self) -> list[TourProgress]:
        """Each patrol route's open tour, as the missed-patrol rules see it."""
        now = self._clock()
        out = []
        for rid, route in self._routes.items():
            running = self._rules[rid]
            assert isinstance(running.config, MissedPatrolRule)
            out.append(missed_patrol.progress(running.state, route, running.config, now))
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
            "stale": self.order.stale,
            "failures": self.failures,
            "retried": self.retried,
        }
