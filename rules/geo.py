"""Geofence rules, fed by the fence index: a fix reaches only the rules of the fences whose
side its subject changed, and a sparse track's straight line between two fixes is checked for
small fences passed through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from hub.domain import PositionFix, Say
from hub.site.hours import in_hours
from hub.site.rules import GeofenceRule
from rules.actions import Action, occurred
from rules.binding import Running
from rules.fences import Fences
from rules.kinds import geofence

_MISSING = object()  # a key the undo log must remove again
PASS_THROUGH_MIN_M = 50.0  # fixes closer than this are dense enough: no crossing check

Fail = Callable[[Running, Exception], list[Action]]


class GeofenceDispatch:
    """What the engine knows of each subject's side of every fence, and the geofence rules
    it steps when a side changes."""

    def __init__(self, fences: Fences, tz: str, fail: Fail) -> None:
        self.fences = fences
        self._tz = tz
        self._fail = fail
        self.rules: list[Running] = []
        self._by_fence: dict[str, list[Running]] = {}
        # fence -> enter rules without dwell: the ones a crossing between two fixes triggers
        self._pass_through: dict[str, list[Running]] = {}
        self._sides: dict[str, frozenset[str]] = {}  # subject -> fences it was last inside
        self._kinds: dict[str, str] = {}  # subject -> its kind
        self._sides_before: dict[str, frozenset[str]] = {}  # ... at the fix before that
        self._last_pos: dict[str, tuple[float, float]] = {}
        self._undo: list[tuple[dict[Any, Any], Any, Any]] | None = None
        self._undo_active: list[tuple[Running, bool | None]] = []

    def add(self, running: Running) -> None:
        """Index a geofence rule by its fences."""
        rule = running.config
        assert isinstance(rule, GeofenceRule)
        running.applies = tuple(self.fences.applies_to(rule.group))
        running.group = frozenset(rule.group)
        for fence in rule.group:
            self._by_fence.setdefault(fence, []).append(running)
            if rule.when == "enter" and rule.dwell_s == 0:
                self._pass_through.setdefault(fence, []).append(running)
        self.rules.append(running)

    def load(self, now: datetime) -> None:
        """Whether each rule with hours is inside them now."""
        for running in self.rules:
            hours = getattr(running.config, "active_hours", None)
            running.active = in_hours(hours, now, self._tz)

    # -- what the engine may have to take back ---------------------------------------------
    # An undo log, not a copy: a batch touches few of the subjects the engine knows, and a
    # paced stream comes in many small batches.
    def _caches(self) -> tuple[dict[str, Any], ...]:
        return (self._sides, self._sides_before, self._kinds, self._last_pos)

    def forget(self) -> None:
        """Forget every subject's side (a standby's view goes stale)."""
        for seen in self._caches():
            seen.clear()

    def begin(self) -> None:
        """Start noting what the batch changes (see `rollback`)."""
        self._undo = []
        self._undo_active = [(r, r.active) for r in self.rules]

    def done(self) -> None:
        """The batch is committed: forget the notes."""
        self._undo = None

    def rollback(self) -> None:
        """Undo what the batch changed: subjects' sides and positions, rules' states and
        hours flags."""
        for d, key, old in reversed(self._undo or []):
            if old is _MISSING:
                d.pop(key, None)
            else:
                d[key] = old
        for running, active in self._undo_active:
            running.active = active
        self._undo = None

    def _set(self, d: dict[Any, Any], key: Any, value: Any) -> None:
        if self._undo is not None:
            self._undo.append((d, key, d.get(key, _MISSING)))
        d[key] = value

    def _pop(self, d: dict[Any, Any], key: Any) -> Any:
        if self._undo is not None and key in d:
            self._undo.append((d, key, d[key]))
        return d.pop(key, None)

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, events: Sequence[Any]) -> list[Action]:
        """The geofence rules' decisions on the fixes among `events` (in order)."""
        if not self.rules:
            return []
        fixes = [
            e
            for e in events
            if isinstance(e, PositionFix) and e.lat is not None and e.lon is not None
        ]
        actions: list[Action] = []
        sides = self.fences.containing([(f.lat, f.lon) for f in fixes])  # type: ignore[misc]
        crossed = self._crossings(fixes)
        for i, (fix, inside) in enumerate(zip(fixes, sides, strict=True)):
            actions.extend(self._geofence(fix, inside))
            if i in crossed:
                actions.extend(self._passed_through(fix, crossed[i], inside))
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
        for f, at in zip(fixes, here, strict=True):
            self._set(last, f.subject_id, at)
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
            said = Say(
                "geofence.passed", {"subject_id": fix.subject_id, "fences_id": "/".join(cfg.group)}
            )
            actions += occurred(
                cfg.id, fix.subject_id, "geofence_enter", cfg.severity.value, text, said
            )
        return actions

    def _geofence(self, fix: PositionFix, inside: frozenset[str]) -> list[Action]:
        """The geofence rules of the fences whose side this subject changed (all of them at
        its first fix): a fix on the same side as before changes nothing a tick would not."""
        subject = fix.subject_id
        before = self._sides.get(subject)
        self._set(self._sides_before, subject, before or frozenset())
        self._set(self._sides, subject, inside)
        self._set(self._kinds, subject, fix.subject_kind.value)
        if before is None:
            rules = self.rules
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
            actions.extend(self._step(running, subject, fix.ts, inside))
        return actions

    def _step(
        self, running: Running, subject: str, ts: datetime, inside: frozenset[str]
    ) -> list[Action]:
        cfg = running.config
        assert isinstance(cfg, GeofenceRule)
        state = running.state
        try:
            active = in_hours(cfg.active_hours, ts, self._tz)
            sub, acts = geofence.step(
                state.get(subject), ts, bool(running.group & inside), cfg, subject, active
            )
        except Exception as exc:
            return self._fail(running, exc)
        if sub is None:
            if self._pop(state, subject) is not None:
                running.dirty = True
        elif sub != state.get(subject):
            self._set(state, subject, sub)
            running.dirty = True
        return acts

    def hours_opened(self, now: datetime) -> list[Action]:
        """Geofence rules whose hours just began: step every subject seen so far (those
        already on the watched side start their condition now)."""
        actions: list[Action] = []
        for running in self.rules:
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
                    actions.extend(self._step(running, subject, now, inside))
        return actions
