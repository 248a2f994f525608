"""A Modbus device's `connection` in the site file, and the site hook that checks it.

    devices:
      - id: meter-b1
        protocol: modbus
        connection: {host: 10.0.0.21, port: 502, unit: 1, map: eastron_sdm630, interval_s: 10}
        points: [{id: total_energy}, {id: total_power}]   # or [] for every point of the map

The hook validates the connection, loads the map (a built-in name or a file next to the site
file), checks each site point against the map and fills what the site left out (unit, kind,
address, writable, range) from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters.common.site import check_connection, complete_points
from adapters.modbus.points import DataType, MapError, PointSpec, RegisterMap, load_map
from hub.site.model import Device, PointKind

Loc = tuple[str | int, ...]


class ModbusConnection(BaseModel):
    """How to reach one Modbus device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 502
    unit: Annotated[int, Field(ge=0, le=247)] = 1  # unit id (slave address behind a gateway)
    framer: Literal["socket", "rtu"] = "socket"  # rtu: RTU frames over TCP (serial gateways)
    map: Annotated[str, Field(min_length=1)]
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    interval_s: Annotated[float, Field(gt=0, le=86_400)] = 10.0
    max_block: Annotated[int, Field(ge=1, le=125)] | None = None  # lower than the map's
    max_gap: Annotated[int, Field(ge=0, le=124)] | None = None
    request_gap_ms: Annotated[float, Field(ge=0, le=10_000)] = 0.0  # pause between requests
    breaker_after: Annotated[int, Field(ge=1, le=100)] = 3  # failures before "offline"
    backoff_max_s: Annotated[float, Field(gt=0, le=3600)] = 300.0


@dataclass(frozen=True, slots=True)
class ModbusDevice:
    """A device ready to poll: where, how, and which map points as which hub points."""

    id: str
    connection: ModbusConnection
    map: RegisterMap
    points: tuple[tuple[str, PointSpec], ...]  # (global point id, spec)

    @property
    def max_block(self) -> int:
        """Registers per request: the lower of the map's and the site's limit."""
        return min(self.map.max_block, self.connection.max_block or 125)

    @property
    def max_gap(self) -> int:
        """Unused registers worth reading across."""
        return self.connection.max_gap if self.connection.max_gap is not None else self.map.max_gap


def _kind(spec: PointSpec) -> PointKind:
    if spec.counter:
        return PointKind.COUNTER
    if spec.type in (DataType.BOOL, DataType.BIT):
        return PointKind.BINARY
    return PointKind.ANALOG


def _from_map(spec: PointSpec) -> dict[str, object]:
    return {
        "name": spec.name or None,
        "unit": spec.unit,
        "kind": _kind(spec),
        "address": spec.address,
        "writable": spec.writable,
        "min": spec.min,
        "max": spec.max,
    }


def site_hook(device: Device, base_dir: Path | None) -> tuple[Device, list[tuple[Loc, str]]]:
    """Check a Modbus device of the site file and complete its points from its map."""
    problems: list[tuple[Loc, str]] = []
    conn = check_connection(ModbusConnection, device, problems)
    if conn is None:
        return device, problems
    try:
        rmap = load_map(conn.map, base_dir)
    except MapError as err:
        for mp in err.problems:
            problems.append((("connection", "map"), f"{err.source} {mp.where}: {mp.message}"))
        return device, problems
    points = complete_points(device, rmap.points, _from_map, f"map {rmap.name!r}", problems)
    return device.model_copy(update={"points": points}), problems


def modbus_devices(devices: list[Device], base_dir: Path | None = None) -> list[ModbusDevice]:
    """The site's Modbus devices, ready to poll (the site was checked: errors raise)."""
    out = []
    for d in devices:
        if d.protocol != "modbus":
            continue
        conn = ModbusConnection.model_validate(d.connection)
        rmap = load_map(conn.map, base_dir)
        specs = []
        for p in d.points:
            spec = rmap.point(p.id)
            if spec is not None:
                specs.append((d.point_id(p), spec))
        out.append(ModbusDevice(d.id, conn, rmap, tuple(specs)))
    return out
