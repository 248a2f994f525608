"""Which pure functions run each configured rule, and which event kinds feed it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.prepared import prep

from hub.domain import Event, PositionFix, StoredRule
from hub.site import Site
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
from rules.actions import Action
from rules.fences import Fences
from rules.kinds import (
    equipment_fault,
    geofence,
    lone_worker,
    missed_patrol,
    silence,
    threshold,
    vehicle_use,
)
from rules.ports import TripBook

State = Any  # each rule kind's own (typed) state: see its `State`
Update = Callable[[State, Event, datetime, Any], tuple[State, list[Action]]]
Tick = Callable[[State, datetime, Any], tuple[State, list[Action]]]
Load = Callable[[Mapping[str, Any]], State]  # the stored JSON -> the typed state
Dump = Callable[[State], dict[str, Any]]  # and back


def _as_is(raw: Mapping[str, Any]) -> dict[str, Any]:
    return dict(raw)


# How each kind's state is stored: typed in memory, JSON in the table (rules/state.py).
CODECS: dict[str, tuple[Load, Dump]] = {
    "equipment_fault": (equipment_fault.load, equipment_fault.dump),
    "threshold": (threshold.load, threshold.dump),
    "silence": (silence.load, silence.dump),
    "vehicle_use": (vehicle_use.load, vehicle_use.dump),
    "geofence": (geofence.load, geofence.dump),
    "lone_worker": (lone_worker.load, lone_worker.dump),
    "missed_patrol": (missed_patrol.load, missed_patrol.dump),
}


# The event kinds each rule kind consumes (geofence rules are fed by the fence index).
CONSUMES: dict[str, tuple[str, ...]] = {
    "equipment_fault": ("status",),
    "threshold": ("reading",),
    "silence": ("reading", "status", "position"),
    "missed_patrol": ("sighting", "scan", "position"),
    "lone_worker": ("position",),
    "vehicle_use": ("position",),
    "geofence": (),
}


@dataclass
class Running:
    """A rule as the engine runs it: its configuration, functions and stored state."""

    config: RuleConfig
    update: Update | None  # None: fed otherwise (geofence rules, by the fence index)
    tick: Tick
    stored: StoredRule  # as loaded and saved: the JSON state, and whether disabled (why)
    load: Load = _as_is
    dump: Dump = _as_is
    state: State = None  # in memory, typed (`load(stored.state)`)
    dirty: bool = False
    applies: tuple[str, ...] = ()  # geofence rules: the fences' subject kinds
    group: frozenset[str] = frozenset()  # geofence rules: the fences
    active: bool | None = None  # geofence rules with hours: inside them at the last tick

    def describe(self, saved: StoredRule | None = None) -> dict[str, Any]:
        """The rule as the API shows it: configuration, whether disabled (why), and its state
        as stored (`saved`: what the leading worker saved, for a standby)."""
        state = saved or StoredRule(self.dump(self.state), self.stored.disabled, self.stored.error)
        return {
            "id": self.config.id,
            "kind": self.config.kind,
            "name": self.config.name,
            "severity": self.config.severity.value,
            "disabled": state.disabled,
            "error": state.error,
            "state": state.state,
            "config": self.config.model_dump(mode="json"),
        }


def patrol_route(rule: MissedPatrolRule, site: Site) -> missed_patrol.Route:
    """What a missed-patrol rule needs of its route."""
    r = next(p for p in site.patrol_routes if p.id == rule.route)
    settings = site.site.patrol
    cps = {c.id: c for c in site.checkpoints}
    people = {p.id: p for p in site.people}
    places = {
        cp: missed_patrol.Place(
            c.name,
            c.name_en or c.name,
            c.location.lat,
            c.location.lon,
            c.proof or settings.proof,
        )
        for cp in r.checkpoints
        for c in [cps[cp]]
    }
    return missed_patrol.Route(
        r.id,
        tuple(r.checkpoints),
        r.ordered,
        frozenset(r.guards),
        site.site.timezone,
        name=r.name,
        name_en=r.name_en or r.name,
        places=places,
        people={p.id: p.name for p in site.people},
        duty={g: people[g].on_duty for g in r.guards if g in people}
        | {p.id: p.on_duty for p in site.people if p.id not in r.guards},
        max_speed_mps=settings.max_speed_mps,
        slack_m=settings.slack_m,
    )


def bind(
    rule: RuleConfig, site: Site, fences: Fences, trips: TripBook
) -> tuple[Update | None, Tick]:
    """The update (None for geofence rules: the fence index feeds them) and tick of a rule."""
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
            route = patrol_route(rule, site)

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
