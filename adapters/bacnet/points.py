"""BACnet point lists as data: which object and property each hub point is read from.

    points:
      - {id: supply_temp, object: "analog-input,1", unit: degC}
      - {id: supply_setpoint, object: "analog-value,2", writable: true, priority: 8}

Object types use BACnet's names (`analog-input`, `binary-value`, `multi-state-value`, ...).
The unit is read from the object's `units` when the list leaves it out. Errors name the row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.site.tables import TableError, read_table

BUILTIN_LISTS = Path(__file__).parent / "lists"

OBJECT_TYPES = {
    "analog-input",
    "analog-output",
    "analog-value",
    "binary-input",
    "binary-output",
    "binary-value",
    "multi-state-input",
    "multi-state-output",
    "multi-state-value",
    "accumulator",
    "pulse-converter",
    "integer-value",
    "positive-integer-value",
    "large-analog-value",
}
COMMANDABLE = {
    "analog-output",
    "binary-output",
    "multi-state-output",
    "analog-value",
    "binary-value",
    "multi-state-value",
}
_OBJECT_RE = re.compile(r"^([a-z-]+),(\d{1,7})$")


class BacnetPoint(BaseModel):
    """One point of a BACnet device."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
    name: str = ""
    object: str  # "analog-input,1"
    prop: str = Field("present-value", alias="property")  # `property` in the files
    unit: str | None = None  # None: read the object's units
    writable: bool = False
    priority: Annotated[int, Field(ge=1, le=16)] = 8  # manual operator (BACnet priority 8)
    cov: bool = True  # subscribe to COV when the device supports it
    poll_s: Annotated[float, Field(gt=0, le=86_400)] | None = None
    min: float | None = None
    max: float | None = None
    counter: bool = False
    max_rate: Annotated[float, Field(gt=0)] | None = None
    fault: bool = False  # an active binary point means an equipment fault
    sim: dict[str, float] = {}

    @field_validator("object")
    @classmethod
    def _object(cls, value: str) -> str:
        value = value.replace(" ", "")
        m = _OBJECT_RE.match(value)
        if not m or m.group(1) not in OBJECT_TYPES:
            raise ValueError(
                "must be '<object type>,<instance>', e.g. analog-input,1 (types: "
                + ", ".join(sorted(OBJECT_TYPES))
                + ")"
            )
        if int(m.group(2)) > 4194302:
            raise ValueError("instance must be 0..4194302")
        return value

    @property
    def object_type(self) -> str:
        """e.g. analog-input."""
        return self.object.split(",")[0]

    @property
    def instance(self) -> int:
        """The object instance number."""
        return int(self.object.split(",")[1])

    @property
    def binary(self) -> bool:
        """Binary objects read active/inactive as 1/0."""
        return self.object_type.startswith("binary")


class PointList(BaseModel):
    """The points of a device model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    vendor: str = ""
    model: str = ""
    source: str = ""
    points: list[BacnetPoint]

    def point(self, point_id: str) -> BacnetPoint | None:
        """A point by id."""
        return next((p for p in self.points if p.id == point_id), None)


class ListError(Exception):
    """A point list that can't be used; `problems` are (row, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source, self.problems = source, problems
        super().__init__(f"{source}: " + "; ".join(f"{w}: {m}" for w, m in problems))


def parse_list(text: str, source: str, *, csv_format: bool = False) -> PointList:
    """A point list from YAML or CSV text; ListError names every bad row."""
    try:
        settings, rows = read_table(text, csv_format=csv_format)
    except TableError as err:
        raise ListError(source, [("(file)", str(err))]) from err
    problems: list[tuple[str, str]] = []
    good: list[BacnetPoint] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        try:
            point = BacnetPoint.model_validate(row)
        except ValidationError as err:
            for e in err.errors():
                field = ".".join(str(x) for x in e["loc"])
                problems.append((where, f"{field}: {str(e['msg']).removeprefix('Value error, ')}"))
            continue
        if point.id in seen:
            problems.append((where, f"duplicate point id {point.id!r} ({seen[point.id]})"))
        elif point.writable and point.object_type not in COMMANDABLE:
            problems.append((where, f"{point.object_type} objects can't be written"))
        seen.setdefault(point.id, where)
        good.append(point)
    if problems:
        raise ListError(source, problems)
    try:
        return PointList.model_validate({**settings, "points": good})
    except ValidationError as err:
        raise ListError(
            source, [(".".join(map(str, e["loc"])), e["msg"]) for e in err.errors()]
        ) from err


def load_list(name: str, base_dir: Path | None = None) -> PointList:
    """A built-in point list by name, a file next to the site file, or a path."""
    candidates = [Path(name)] if Path(name).is_absolute() else []
    if base_dir is not None:
        candidates.append(base_dir / name)
    candidates += [BUILTIN_LISTS / f"{name}.yaml", BUILTIN_LISTS / f"{name}.csv"]
    for path in candidates:
        if path.is_file():
            return parse_list(
                path.read_text(encoding="utf-8"),
                path.name,
                csv_format=path.suffix.lower() == ".csv",
            )
    builtin = sorted(p.stem for p in BUILTIN_LISTS.glob("*.*"))
    raise ListError(name, [("(list)", f"not found (built-in lists: {', '.join(builtin)})")])
