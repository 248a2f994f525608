"""The meter hierarchy (pure): which meters add up to a building's or the compound's figure
without counting anything twice, and what a virtual meter is made of."""

from __future__ import annotations

from collections.abc import Mapping

from hub.site.energy import Measure, Meter


class MeterTreeError(ValueError):
    """The site's meters don't form a hierarchy (a cycle, a virtual meter of itself...)."""


class MeterTree:
    """The site's meters by id, checked: parents form a tree, virtual meters combine meters
    of their own measure and are not defined through themselves."""

    def __init__(self, meters: list[Meter]) -> None:
        self.meters = {m.id: m for m in meters}
        problems = []
        for m in meters:
            seen, p = {m.id}, m.parent
            while p is not None:
                if p in seen:
                    problems.append(f"meter {m.id!r}: its parents form a cycle")
                    break
                seen.add(p)
                p = self.meters[p].parent if p in self.meters else None
            if m.parent in self.meters and self.meters[m.parent].measures != m.measures:
                problems.append(f"meter {m.id!r}: measures {m.measures}, its parent does not")
            if m.virtual is not None:
                for part in (m.virtual.of, *m.virtual.minus):
                    other = self.meters.get(part)
                    if other is None or other.virtual is not None:
                        problems.append(f"meter {m.id!r}: {part!r} is not a metered meter")
                    elif other.measures != m.measures:
                        problems.append(f"meter {m.id!r}: {part!r} measures something else")
        if problems:
            raise MeterTreeError("; ".join(problems))

    @property
    def metered(self) -> list[Meter]:
        """The meters that read a counter."""
        return [m for m in self.meters.values() if m.point is not None]

    def value(self, meter_id: str, metered: Mapping[str, float]) -> float:
        """A meter's figure from the metered meters' figures (virtual: `of` minus `minus`)."""
        m = self.meters[meter_id]
        if m.virtual is None:
            return metered.get(meter_id, 0.0)
        return metered.get(m.virtual.of, 0.0) - sum(metered.get(x, 0.0) for x in m.virtual.minus)

    def tops(self, measure: Measure, building: str | None = None) -> list[Meter]:
        """The metered meters whose figures add up to a building's (or, with None, the whole
        compound's) consumption: the highest metered meters in it, never one below another."""
        out = []
        for m in self.metered:
            if m.measures != measure or (building is not None and m.building != building):
                continue
            parent = self.meters.get(m.parent) if m.parent else None
            if parent is None or (building is not None and parent.building != building):
                out.append(m)
        return out

    def measures(self) -> list[Measure]:
        """The measures the site meters, in a stable order."""
        present = {m.measures for m in self.meters.values()}
        return [x for x in Measure if x in present]
