"""Who gets a repair (pure): the skill a ticket needs, then the on-duty technician with that
skill and the least open work; nobody on duty leaves it in the dispatcher's queue."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.site.hours import in_hours
from hub.site.maintenance import RepairCategory
from hub.site.model import Person, PersonRole


@dataclass(frozen=True)
class Technician:
    """A person who repairs things, as dispatch sees them."""

    person_id: str
    name: str
    username: str | None
    skills: frozenset[str]
    on_duty: str | None  # daily hours, site time

    @classmethod
    def of(cls, p: Person) -> Technician:
        """From the site file's person."""
        return cls(p.id, p.name, p.username, frozenset(p.skills), p.on_duty)


def technicians(people: Iterable[Person]) -> list[Technician]:
    """The site's technicians."""
    return [Technician.of(p) for p in people if p.role == PersonRole.TECHNICIAN]


def skill_for(category: RepairCategory, building: str | None, zone: str | None) -> str:
    """The skill a repair of `category` needs at this place (first matching override)."""
    for o in category.dispatch:
        here = (o.building is None or o.building == building) and (o.zone is None or o.zone == zone)
        if here and (o.building or o.zone):
            return o.skill
    return category.skill


def choose(
    staff: Iterable[Technician],
    skill: str,
    open_work: Mapping[str, int],
    now: datetime,
    tz: str,
) -> Technician | None:
    """The on-duty technician with `skill` and the fewest open tickets (ties: by id)."""
    fit = [t for t in staff if skill in t.skills and in_hours(t.on_duty, now, tz)]
    if not fit:
        return None
    return min(fit, key=lambda t: (open_work.get(t.person_id, 0), t.person_id))
