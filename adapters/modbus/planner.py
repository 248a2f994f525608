"""Coalescing points into as few read requests as the device allows (pure).

Neighbouring points of one table are merged into one request while the request stays within
the device's `max_block` registers and the unused registers between points stay within
`max_gap`. Many devices refuse a block that spans registers they don't implement ("illegal
data address", exception 2): the adapter then adds a *break* in the middle of that block and
plans again, and keeps the break, so the split is remembered; a block of one point that is
refused marks that point unsupported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from adapters.modbus.points import PointSpec, Table

MAX_BITS = 2000  # coils / discrete inputs per request (MODBUS Application Protocol §6.1)


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One read: a table, a start address, a count, and the points it serves."""

    table: Table
    address: int
    count: int
    points: tuple[PointSpec, ...]

    def offsets(self) -> list[tuple[PointSpec, int, int]]:
        """(point, first index, one past the last) of each point in the response."""
        return [
            (p, p.address - self.address, p.address - self.address + p.width) for p in self.points
        ]

    @property
    def end(self) -> int:
        """One past the last address."""
        return self.address + self.count


def plan(
    points: Iterable[PointSpec],
    *,
    max_block: int = 125,
    max_gap: int = 8,
    breaks: frozenset[tuple[Table, int]] = frozenset(),
) -> list[ReadRequest]:
    """Requests covering every point; a break (table, address) starts a new request there."""
    by_table: dict[Table, list[PointSpec]] = {}
    for p in points:
        by_table.setdefault(p.table, []).append(p)
    out: list[ReadRequest] = []
    for table in Table:
        specs = sorted(by_table.get(table, []), key=lambda p: (p.address, p.width))
        limit = MAX_BITS if table.is_bits else max_block
        gap = max_gap * 16 if table.is_bits else max_gap
        current: list[PointSpec] = []
        start = end = 0
        for p in specs:
            p_end = p.address + p.width
            if current and (
                max(end, p_end) - start > limit
                or p.address - end > gap
                or (table, p.address) in breaks
            ):
                out.append(ReadRequest(table, start, end - start, tuple(current)))
                current = []
            if not current:
                start, end = p.address, p_end
            current.append(p)
            end = max(end, p_end)
        if current:
            out.append(ReadRequest(table, start, end - start, tuple(current)))
    return out


def split_points(request: ReadRequest) -> list[tuple[Table, int]]:
    """Where to break a refused request: at its gaps (unimplemented registers between
    points are the usual reason for a refusal) or, without gaps, at its middle point.
    Empty for a request of one point."""
    specs = sorted(request.points, key=lambda p: p.address)
    starts = sorted({p.address for p in specs})
    if len(starts) < 2:
        return []
    gaps = []
    end = specs[0].address + specs[0].width
    for p in specs[1:]:
        if p.address > end:
            gaps.append((request.table, p.address))
        end = max(end, p.address + p.width)
    return gaps or [(request.table, starts[len(starts) // 2])]
