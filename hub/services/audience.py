"""Whom something is for — everyone, or the people of some work units and of some roles — as
notices and questionnaires share it: checked against the site, stored as JSON, resolved to the
active people it names at the moment it is needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Invalid
from hub.identity.roles import Principal, Role
from hub.site import Site
from hub.storage.models import User, UserRole


@dataclass(frozen=True)
class Audience:
    """Everyone, or the people of these work units, of the work units in these buildings, and
    of these roles."""

    everyone: bool = False
    units: tuple[str, ...] = field(default_factory=tuple)
    roles: tuple[str, ...] = field(default_factory=tuple)
    buildings: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        """As stored."""
        return {
            "all": self.everyone,
            "units": list(self.units),
            "roles": list(self.roles),
            "buildings": list(self.buildings),
        }

    def check(self, site: Site, what: str) -> None:
        """Invalid (keys `<what>.unit`, `.building`, `.role`, `.audience`) unless it names
        someone real."""
        known = {u.id for u in site.work_units}
        unknown = [u for u in self.units if u not in known]
        if unknown:
            raise Invalid(f"no work unit {unknown[0]!r}", field="units", key=f"{what}.unit")
        buildings = {b.id for b in site.buildings}
        if any(b not in buildings for b in self.buildings):
            raise Invalid("no such building", field="buildings", key=f"{what}.building")
        roles = {r.value for r in Role}
        if any(r not in roles for r in self.roles):
            raise Invalid("no such role", field="roles", key=f"{what}.role")
        if not (self.everyone or self.units or self.roles or self.buildings):
            raise Invalid("say who it is for", field="audience", key=f"{what}.audience")


def units_of(audience: dict[str, Any], site: Site) -> set[str]:
    """The work units a stored audience names, directly or by their building."""
    buildings = set(audience.get("buildings", []))
    return set(audience.get("units", [])) | {
        u.id for u in site.work_units if u.building is not None and u.building in buildings
    }


def people(s: Session, audience: dict[str, Any], site: Site) -> list[tuple[str, str | None]]:
    """The active people a stored audience names: (username, work unit), by username."""
    q = select(User.username, User.work_unit).where(User.active.is_(True))
    if not audience.get("all"):
        units, roles = units_of(audience, site), audience.get("roles", [])
        holders = select(UserRole.user_id).where(UserRole.role.in_(roles))
        q = q.where(User.work_unit.in_(units) | User.id.in_(holders))
    return [(u, unit) for u, unit in s.execute(q.order_by(User.username))]


def includes(audience: dict[str, Any], who: Principal, site: Site) -> bool:
    """Whether a stored audience names this person (as they are signed in now)."""
    if audience.get("all"):
        return True
    if who.work_unit is not None and who.work_unit in units_of(audience, site):
        return True
    return any(r.value in audience.get("roles", []) for r in who.roles)
