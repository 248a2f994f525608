"""Register maps as data: a YAML or CSV file per device model, one row per point.

    points:
      - {id: total_energy, address: 0x0156, table: input, type: float32, unit: kWh, counter: true}

A CSV map has the same columns (`id,address,table,type,...`) and the map-level settings as
`# key: value` comment lines at the top. Errors name the file and the row (CSV: the line
number; YAML: `points[7]`), so `hub check` can point at the cell to fix.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.site.tables import TableError, read_table

BUILTIN_MAPS = Path(__file__).parent / "maps"


class Table(enum.StrEnum):
    """The four Modbus data tables."""

    HOLDING = "holding"  # FC03 read, FC06/FC16 write
    INPUT = "input"  # FC04
    COIL = "coil"  # FC01 read, FC05 write
    DISCRETE = "discrete"  # FC02

    @property
    def is_bits(self) -> bool:
        """Coils and discrete inputs hold bits, not registers."""
        return self in (Table.COIL, Table.DISCRETE)


class DataType(enum.StrEnum):
    """How a point's registers encode its value."""

    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BOOL = "bool"  # a coil / discrete input, or a register that is non-zero
    BIT = "bit"  # one bit of a register (`bit: 0..15`)
    STRING = "string"  # `length` registers of text

    def registers(self, length: int = 1) -> int:
        """How many registers (or bits, for bit tables) the type spans."""
        if self is DataType.STRING:
            return length
        return _WIDTH[self]


_WIDTH = {
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.BOOL: 1,
    DataType.BIT: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.FLOAT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT64: 4,
}


class Order(enum.StrEnum):
    """Word order (which register is most significant) or byte order within a register."""

    BIG = "big"
    LITTLE = "little"


class PointSpec(BaseModel):
    """One point of a register map."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
    name: str = ""
    table: Table = Table.HOLDING
    address: Annotated[int, Field(ge=0, le=65535)]
    type: DataType = DataType.UINT16
    bit: Annotated[int, Field(ge=0, le=15)] | None = None
    length: Annotated[int, Field(ge=1, le=123)] = 1  # string registers
    word_order: Order = Order.BIG
    byte_order: Order = Order.BIG
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    writable: bool = False
    nodata: float | None = None  # the raw value meaning "no value" (e.g. 65535 or NaN)
    min: float | None = None  # plausible range of the engineering value
    max: float | None = None
    counter: bool = False  # monotonic (energy, run hours)
    max_rate: Annotated[float, Field(gt=0)] | None = None  # counter units per hour
    fault: bool = False  # a true / non-zero value means the equipment is faulty
    fault_values: list[float] = []  # values meaning fault (for status codes)
    poll_s: Annotated[float, Field(gt=0, le=86_400)] | None = None
    sim: dict[str, float] = {}  # hints for the simulator (mean, amplitude, period_s, rate_per_h)

    @model_validator(mode="after")
    def _consistent(self) -> PointSpec:
        if self.table.is_bits and self.type is not DataType.BOOL:
            raise ValueError(f"a {self.table} point must be of type bool")
        if self.type is DataType.BIT and self.bit is None:
            raise ValueError("type bit needs `bit` (0..15)")
        if self.type is not DataType.BIT and self.bit is not None:
            raise ValueError("`bit` is only for type bit")
        if self.writable and self.table in (Table.INPUT, Table.DISCRETE):
            raise ValueError(f"{self.table} points are read-only")
        if self.writable and self.type in (DataType.BIT, DataType.STRING):
            raise ValueError(f"type {self.type} can't be written")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        if self.scale == 0:
            raise ValueError("scale can't be 0")
        if self.address + self.width - 1 > 65535:
            raise ValueError("the point runs past address 65535")
        return self

    @property
    def width(self) -> int:
        """Registers (or bits) the point occupies."""
        return self.type.registers(self.length)


class RegisterMap(BaseModel):
    """A device model's points and its protocol limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    vendor: str = ""
    model: str = ""
    source: str = ""  # where the register list comes from
    max_block: Annotated[int, Field(ge=1, le=125)] = 125  # registers per read request
    max_gap: Annotated[int, Field(ge=0, le=124)] = 8  # unused registers worth reading over
    points: list[PointSpec]

    def point(self, point_id: str) -> PointSpec | None:
        """A point by id."""
        return next((p for p in self.points if p.id == point_id), None)


@dataclass(frozen=True, slots=True)
class MapProblem:
    """A problem in a map file: where (row) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class MapError(Exception):
    """A map that can't be used; `problems` names each row."""

    def __init__(self, source: str, problems: list[MapProblem]) -> None:
        self.source, self.problems = source, problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


_INT_FIELDS = {"address", "bit", "length"}
_FLOAT_FIELDS = {"scale", "offset", "nodata", "min", "max", "max_rate", "poll_s"}
_BOOL_FIELDS = {"writable", "counter", "fault"}


def _cell(key: str, value: str) -> Any:
    value = value.strip()
    if value == "":
        return None
    if key in _INT_FIELDS:
        return int(value, 0)  # 0x0156 or 342
    if key in _FLOAT_FIELDS:
        return float(value)
    if key in _BOOL_FIELDS:
        if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise ValueError(f"{key}: {value!r} is not true/false")
        return value.lower() in ("true", "yes", "1")
    if key == "fault_values":
        return [float(v) for v in value.split("|")]
    return value


def parse_map(text: str, source: str, *, csv_format: bool = False) -> RegisterMap:
    """A register map from YAML or CSV text; MapError lists every bad row."""
    problems: list[MapProblem] = []
    try:
        settings, raw_rows = read_table(text, csv_format=csv_format)
    except TableError as err:
        raise MapError(source, [MapProblem("(file)", str(err))]) from err
    rows: list[tuple[str, Any]] = []
    for where, row in raw_rows:
        if not csv_format:
            rows.append((where, row))
            continue
        try:  # CSV cells are text: addresses may be hex, booleans words
            rows.append((where, {k: _cell(k, v) for k, v in row.items()}))
        except ValueError as err:
            problems.append(MapProblem(where, str(err)))
    if csv_format:
        for key in ("max_block", "max_gap"):
            if key in settings:
                settings[key] = int(settings[key], 0)
    good: list[PointSpec] = []
    placed: list[tuple[str, PointSpec]] = []
    for where, row in rows:
        try:
            good.append(PointSpec.model_validate(row))
            placed.append((where, good[-1]))
        except ValidationError as err:
            for e in err.errors():
                field = ".".join(str(x) for x in e["loc"])
                msg = str(e["msg"]).removeprefix("Value error, ")
                problems.append(MapProblem(where, f"{field + ': ' if field else ''}{msg}"))
    seen: dict[str, str] = {}
    for where, spec in placed:
        if spec.id in seen:
            problems.append(MapProblem(where, f"duplicate point id {spec.id!r} ({seen[spec.id]})"))
        seen.setdefault(spec.id, where)
    problems += _overlaps(good)
    if problems:
        raise MapError(source, problems)
    try:
        return RegisterMap.model_validate({**settings, "points": good})
    except ValidationError as err:
        raise MapError(
            source, [MapProblem(".".join(map(str, e["loc"])), e["msg"]) for e in err.errors()]
        ) from err


def _overlaps(points: Iterable[PointSpec]) -> list[MapProblem]:
    """Two points claiming the same register (bits of one register may share it)."""
    problems = []
    taken: dict[tuple[Table, int], str] = {}
    for p in points:
        if p.type is DataType.BIT:
            continue
        for a in range(p.address, p.address + p.width):
            other = taken.get((p.table, a))
            if other is not None:
                problems.append(MapProblem(p.id, f"overlaps {other!r} at {p.table} {a}"))
                break
            taken[(p.table, a)] = p.id
    return problems


def load_map(name: str, base_dir: Path | None = None) -> RegisterMap:
    """A built-in map by name (`eastron_sdm630`), a file next to the site file, or a path."""
    candidates = []
    if Path(name).is_absolute():
        candidates.append(Path(name))
    if base_dir is not None:
        candidates.append(base_dir / name)
    candidates += [BUILTIN_MAPS / f"{name}.yaml", BUILTIN_MAPS / f"{name}.csv"]
    for path in candidates:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            return parse_map(text, path.name, csv_format=path.suffix.lower() == ".csv")
    builtin = sorted(p.stem for p in BUILTIN_MAPS.glob("*.*"))
    raise MapError(name, [MapProblem("(map)", f"not found (built-in maps: {', '.join(builtin)})")])
