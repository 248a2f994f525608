"""What every adapter's site hook does: check a device's connection, complete its points."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from hub.site.model import Device, Point

Loc = tuple[str | int, ...]
Problems = list[tuple[Loc, str]]
M = TypeVar("M", bound=BaseModel)


class Spec(Protocol):
    """A point of a register map or point list."""

    @property
    def id(self) -> str: ...

    @property
    def writable(self) -> bool: ...


S = TypeVar("S", bound=Spec)


def check_connection(model: type[M], device: Device, problems: Problems) -> M | None:
    """The device's `connection` as the adapter's model, or None with its problems added."""
    try:
        return model.model_validate(device.connection)
    except ValidationError as err:
        for e in err.errors():
            msg = "unknown key" if e["type"] == "extra_forbidden" else str(e["msg"])
            problems.append((("connection", *e["loc"]), msg.removeprefix("Value error, ")))
        return None


def complete_points(
    device: Device,
    specs: Sequence[S],
    describe: Callable[[S], dict[str, Any]],
    source: str,
    problems: Problems,
) -> list[Point]:
    """The device's points completed from its map or list (`source` names it in problems).

    No points in the site file: every point of the map. Otherwise each must be in the map;
    what the site file leaves out (unit, kind, range...) comes from `describe(spec)`.
    """
    by_id = {s.id: s for s in specs}
    if not device.points:
        return [Point.model_validate({"id": s.id, **describe(s)}) for s in specs]
    out = []
    for i, p in enumerate(device.points):
        spec = by_id.get(p.id)
        if spec is None:
            problems.append((("points", i, "id"), f"not in {source}"))
            continue
        if p.writable and not spec.writable:
            problems.append((("points", i, "writable"), f"{spec.id} is read-only in {source}"))
        fill = {k: v for k, v in describe(spec).items() if k not in p.model_fields_set}
        out.append(p.model_copy(update=fill))
    return out
