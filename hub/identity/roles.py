"""Roles, and the principal (user or machine) a request acts as."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    """What someone may do. A user may hold several; an API key holds one."""

    ADMIN = "admin"
    SECURITY = "security"  # security-room staff and guards
    DISPATCHER = "dispatcher"  # vehicles and repair tickets
    TECHNICIAN = "technician"
    STAFF = "staff"  # any member of a work unit
    MANAGER = "manager"  # reads reports (energy, use of rooms and cars)
    CANTEEN = "canteen"  # the canteen's staff: menus, the counter, the kitchen's reports
    DISPLAY = "display"  # the wall display, read-only
    GATE_TERMINAL = "gate_terminal"
    DEVICE = "device"  # trackers and other machines that push data
    REPORTER = "reporter"  # an app filing and reading suggestions and complaints (Open311)


# Roles a machine credential may carry; a person's roles need a password and a name.
# (a canteen key: the counter's scanner terminal; a reporter key: an Open311 reporting app)
MACHINE_ROLES = frozenset(
    {Role.DISPLAY, Role.GATE_TERMINAL, Role.DEVICE, Role.ADMIN, Role.CANTEEN, Role.REPORTER}
)

# Groups used by routes.
EVERYONE = frozenset(Role)
PEOPLE = frozenset(
    {
        Role.ADMIN,
        Role.SECURITY,
        Role.DISPATCHER,
        Role.TECHNICIAN,
        Role.STAFF,
        Role.MANAGER,
        Role.CANTEEN,
    }
)
# Who reads energy reports: managers and the facility staff who save energy.
ENERGY_READERS = frozenset({Role.ADMIN, Role.MANAGER, Role.DISPATCHER, Role.TECHNICIAN})
OPERATORS = frozenset({Role.ADMIN, Role.SECURITY, Role.DISPATCHER, Role.TECHNICIAN})
VIEWERS = OPERATORS | {Role.DISPLAY}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a signed-in user or an API key."""

    name: str  # username, or "key:<name>"
    roles: frozenset[Role]
    work_unit: str | None = None
    kind: str = "user"  # "user" or "api_key"
    # the trackers a device key may report for (device ids as they send them); empty: none
    trackers: frozenset[str] = frozenset()

    def may_report_for(self, device: str) -> bool:
        """Whether this principal may send a tracker's positions (administrators: any)."""
        return Role.ADMIN in self.roles or device in self.trackers

    def has_any(self, roles: frozenset[Role]) -> bool:
        """Whether this principal holds at least one of `roles`."""
        return bool(self.roles & roles)
