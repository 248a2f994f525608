"""A BACnet device's `connection` in the site file, and the site hook that checks it.

devices:
  - id: ahu-b1
    protocol: bacnet
    connection: {address: "10.20.0.51", device_instance: 1001, points: ahu_controller}
    points: []        # every point of the list, or pick some by id
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from adapters.bacnet.points import BacnetPoint, ListError, load_list
from adapters.common.site import check_connection, complete_points
from hub.site.model import Device, PointKind

Loc = tuple[str | int, ...]


class BacnetConnection(BaseModel):
    """How to reach and read one BACnet device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: Annotated[str, Field(min_length=1)]  # "10.20.0.51" or "10.20.0.51:47808"
    device_instance: Annotated[int, Field(ge=0, le=4194302)]
    points: Annotated[str, Field(min_length=1)]  # a point list: built-in name or file
    interval_s: Annotated[float, Field(gt=0, le=86_400)] = 30.0  # points without COV
    rpm_batch: Annotated[int, Field(ge=1, le=200)] = 24  # properties per ReadPropertyMultiple
    max_outstanding: Annotated[int, Field(ge=1, le=32)] = 4  # confirmed requests in flight
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 3.0
    cov: bool = True  # subscribe where the device supports it
    cov_lifetime_s: Annotated[int, Field(ge=10, le=86_400)] = 300
    cov_quiet_s: Annotated[float, Field(gt=0, le=86_400)] = 900.0  # re-read after silence
    # status-flags and reliability are read with the values at most this often (COV brings
    # their changes for subscribed points in between)
    status_interval_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    breaker_after: Annotated[int, Field(ge=1, le=100)] = 3
    backoff_max_s: Annotated[float, Field(gt=0, le=3600)] = 300.0


@dataclass(frozen=True, slots=True)
class BacnetDevice:
    """A device ready to read: where, how, and which list points as which hub points."""

    id: str
    connection: BacnetConnection
    points: tuple[tuple[str, BacnetPoint], ...]  # (global point id, point)


def _from_list(p: BacnetPoint) -> dict[str, object]:
    kind = (
        PointKind.COUNTER
        if p.counter
        else PointKind.BINARY
        if p.binary
        else (PointKind.MULTISTATE if p.object_type.startswith("multi-state") else PointKind.ANALOG)
    )
    return {
        "name": p.name or None,
        "unit": p.unit or "",
        "kind": kind,
        "writable": p.writable,
        "min": p.min,
        "max": p.max,
    }


def site_hook(device: Device, base_dir: Path | None) -> tuple[Device, list[tuple[Loc, str]]]:
    """Check a BACnet device of the site file and complete its points from its point list."""
    problems: list[tuple[Loc, str]] = []
    conn = check_connection(BacnetConnection, device, problems)
    if conn is None:
        return device, problems
    try:
        plist = load_list(conn.points, base_dir)
    except ListError as err:
        for where, msg in err.problems:
            problems.append((("connection", "points"), f"{err.source} {where}: {msg}"))
        return device, problems
    points = complete_points(
        device, plist.points, _from_list, f"point list {plist.name!r}", problems
    )
    return device.model_copy(update={"points": points}), problems


def bacnet_devices(devices: list[Device], base_dir: Path | None = None) -> list[BacnetDevice]:
    """The site's BACnet devices, ready to read (the site was checked: errors raise)."""
    out = []
    for d in devices:
        if d.protocol != "bacnet":
            continue
        conn = BacnetConnection.model_validate(d.connection)
        plist = load_list(conn.points, base_dir)
        pts = []
        for p in d.points:
            spec = plist.point(p.id)
            if spec is not None:
                if p.unit and not spec.unit:
                    spec = spec.model_copy(update={"unit": p.unit})
                pts.append((d.point_id(p), spec))
        out.append(BacnetDevice(d.id, conn, tuple(pts)))
    return out
