"""Patrols in the site file: checkpoints, routes, and how a visit to a checkpoint is proven.

    site:
      patrol:
        proof: {methods: [ble, code], need: 1, ble: {max_distance_m: 3, min_reports: 3}}
        max_speed_mps: 3
        shifts:
          - {id: day, name: 白班, hours: "08:00-20:00"}
          - {id: night, name: 夜班, hours: "20:00-08:00"}
    checkpoints:
      - {id: cp-vault, name: 机要室, location: [...], gateway: vault-gw,
         proof: {methods: [ble, code], need: 2}}

A checkpoint's `proof` replaces the site's default as a whole (the fields it leaves out take
the built-in defaults below, not the site's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from hub.domain.patrol import Method
from hub.site.base import Id, Item, Name, Ref
from hub.site.geo import GeoPoint, Strict
from hub.site.hours import check_hours


class BleProof(Strict):
    """A badge seen close to the checkpoint's gateway, long enough: within `max_distance_m`
    (the gateway's estimate), or at least `min_rssi`, or called close by the gateway itself
    (`trust_close`); for `min_s` seconds or `min_reports` reports, with no silence longer than
    `gap_s` between them (a badge walked past the door is not a visit)."""

    max_distance_m: Annotated[float, Field(gt=0, le=100)] | None = 3.0
    min_rssi: Annotated[float, Field(ge=-127, le=0)] | None = None
    trust_close: bool = True
    min_s: Annotated[float, Field(ge=0, le=600)] = 5.0
    min_reports: Annotated[int, Field(ge=1, le=100)] = 3
    gap_s: Annotated[float, Field(gt=0, le=600)] = 30.0


class GpsProof(Strict):
    """The guard's phone's fix within `radius_m` of the checkpoint, its accuracy counted
    against it (a fix 10 m off with 20 m accuracy may be 30 m off), and no vaguer than
    `max_accuracy_m`."""

    radius_m: Annotated[float, Field(gt=0, le=1000)] = 25.0
    max_accuracy_m: Annotated[float, Field(gt=0, le=1000)] = 30.0


class CodeProof(Strict):
    """The checkpoint's code changes every `period_s` (a display or a programmable token shows
    it); a scan is accepted for its own step and `window_steps` steps after it (the guard's
    walk from the label to the phone's network), so a photo of it is worthless soon after."""

    period_s: Annotated[int, Field(ge=10, le=3600)] = 30
    window_steps: Annotated[int, Field(ge=0, le=10)] = 1


class Proof(Strict):
    """How a visit to a checkpoint is proven: `need` of the `methods`, their proofs within
    `within_s` of each other."""

    # a phone's fix is for outdoor checkpoints: name `gps` where it serves
    methods: Annotated[list[Method], Field(min_length=1)] = [Method.BLE, Method.CODE]
    need: Annotated[int, Field(ge=1, le=3)] = 1
    within_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    ble: BleProof = BleProof()
    gps: GpsProof = GpsProof()
    code: CodeProof = CodeProof()

    @model_validator(mode="after")
    def _enough_methods(self) -> Proof:
        if len(set(self.methods)) != len(self.methods):
            raise ValueError("methods: each at most once")
        if self.need > len(self.methods):
            raise ValueError(f"need {self.need} of {len(self.methods)} method(s): not possible")
        return self


class Shift(Strict):
    """A guards' shift: the patrol report groups tours by the shift they start in."""

    id: Id
    name: Name
    name_en: Name | None = None
    hours: Annotated[str, AfterValidator(check_hours)]


class PatrolSettings(Strict):
    """The site's patrol defaults."""

    proof: Proof = Proof()
    # a guard's two visits farther apart than this speed allows (less `slack_m`, the
    # proofs' own reach) are not both real: the second is refused
    max_speed_mps: Annotated[float, Field(gt=0, le=20)] = 3.0
    slack_m: Annotated[float, Field(ge=0, le=500)] = 20.0
    shifts: list[Shift] = [
        Shift(id="day", name="白班", name_en="day", hours="08:00-20:00"),
        Shift(id="night", name="夜班", name_en="night", hours="20:00-08:00"),
    ]


class Checkpoint(Item):
    """A patrol checkpoint: a BLE gateway that sees badges, a beacon phones see, a place a
    phone's fix can reach, a code label; `proof` says which of them prove a visit here."""

    name: Name
    name_en: Name | None = None
    location: GeoPoint
    zone: Id | None = None
    beacon: str | None = None  # iBeacon "uuid-major-minor" on the wall, seen by phones
    gateway: str | None = None  # BLE gateway (ESPresense room) that sees badges
    proof: Proof | None = None  # None: the site's default

    def refs(self) -> Iterator[Ref]:
        if self.zone:
            yield "zone", "zones", self.zone


class PatrolRoute(Item):
    """An ordered (or free) round of checkpoints and the guards who walk it."""

    name: Name
    name_en: Name | None = None
    checkpoints: Annotated[list[Id], Field(min_length=1)]
    ordered: bool = True
    guards: list[Id] = []

    def refs(self) -> Iterator[Ref]:
        for i, cp in enumerate(self.checkpoints):
            yield f"checkpoints[{i}]", "checkpoints", cp
        for i, g in enumerate(self.guards):
            yield f"guards[{i}]", "people", g
