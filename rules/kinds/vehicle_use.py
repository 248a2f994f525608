"""Unauthorised vehicle use: an official car moving, or outside the compound, with no
approved trip covering the fix's time, for longer than `grace_s` (a car moved across the
car park, a trip that started a minute early). The engine reads the trip book and the
compound boundary and hands this function the answers, so it stays pure.

Cleared when a fix finds the car covered by a trip, or parked (inside and not moving).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.domain import PositionFix, Say, SubjectKind
from hub.site.rules import VehicleUseRule
from rules.actions import Action, Clear, Raise
from rules.state import Condition, dump_conditions, load_conditions

State = Mapping[str, Condition]  # vehicle -> since when in use without a trip, raised


def load(raw: Mapping[str, Any]) -> State:
    """From the stored JSON (`{vehicle: {"since", "raised"}}`)."""
    return load_conditions(raw)


def dump(state: State) -> dict[str, Any]:
    """As stored."""
    return dump_conditions(state)


@dataclass(frozen=True)
class Facts:
    """What the engine found out about one fix."""

    inside_compound: bool
    covered_by_trip: bool


def update(
    state: State, fix: PositionFix, facts: Facts, rule: VehicleUseRule
) -> tuple[State, list[Action]]:
    """A fix of a vehicle."""
    if fix.subject_kind is not SubjectKind.VEHICLE or (
        rule.vehicles and fix.subject_id not in rule.vehicles
    ):
        return state, []
    car = fix.subject_id
    moving = (fix.speed_mps or 0.0) >= rule.moving_mps
    in_use = moving or not facts.inside_compound
    entry = state.get(car)
    if not in_use or facts.covered_by_trip:
        if entry is None:
            return state, []
        out = {k: v for k, v in state.items() if k != car}
        if not entry.raised:
            return out, []
        why = "an approved trip covers it" if facts.covered_by_trip else "parked"
        return out, [Clear(rule.id, car, "vehicle_unauthorised", f"{car}: {why}")]
    since = entry.since if entry and entry.since else fix.ts
    raised = bool(entry and entry.raised)
    actions: list[Action] = []
    if not raised and (fix.ts - since).total_seconds() >= rule.grace_s:
        raised = True
        where = "outside the compound" if not facts.inside_compound else "moving in the compound"
        actions.append(
            Raise(
                rule.id,
                car,
                "vehicle_unauthorised",
                rule.severity.value,
                f"{car} {where} with no approved trip",
                say=Say(
                    "vehicle.outside" if not facts.inside_compound else "vehicle.moving",
                    {"vehicle_id": car},
                ),
            )
        )
    return {**state, car: Condition(since, raised)}, actions


def tick(state: State, now: datetime, rule: VehicleUseRule) -> tuple[State, list[Action]]:
    """Nothing matures without a fix: a car that stops reporting is the silence rule's."""
    return state, []
