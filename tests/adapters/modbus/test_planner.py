"""Coalescing: few requests, within the device's limits, split where it refuses (pure)."""

from __future__ import annotations

from adapters.modbus.planner import plan, split_points
from adapters.modbus.points import PointSpec, Table, load_map


def p(pid: str, address: int, dtype: str = "float32", table: str = "input") -> PointSpec:
    return PointSpec.model_validate({"id": pid, "address": address, "type": dtype, "table": table})


def test_neighbours_merge_and_far_points_do_not() -> None:
    points = [p("a", 0), p("b", 2), p("c", 4), p("far", 100)]
    reqs = plan(points, max_block=125, max_gap=8)
    assert [(r.address, r.count) for r in reqs] == [(0, 6), (100, 2)]
    assert [pt.id for pt in reqs[0].points] == ["a", "b", "c"]


def test_blocks_respect_the_device_maximum() -> None:
    points = [p(f"x{i}", i * 2) for i in range(100)]  # 200 registers
    reqs = plan(points, max_block=80, max_gap=0)
    assert all(r.count <= 80 for r in reqs)
    assert sum(len(r.points) for r in reqs) == 100
    assert len(reqs) == 3


def test_gaps_up_to_the_limit_are_read_over() -> None:
    points = [p("a", 0), p("b", 10)]  # 8 unused registers between
    assert len(plan(points, max_gap=8)) == 1
    assert len(plan(points, max_gap=7)) == 2


def test_tables_never_mix_and_bits_use_bit_limits() -> None:
    points = [
        p("h", 0, "uint16", "holding"),
        p("i", 0, "uint16", "input"),
        *[p(f"c{i}", i, "bool", "coil") for i in range(0, 3000, 100)],
    ]
    reqs = plan(points, max_block=125, max_gap=8)
    tables = [r.table for r in reqs]
    assert tables.count(Table.HOLDING) == 1
    assert tables.count(Table.INPUT) == 1
    assert all(r.count <= 2000 for r in reqs if r.table is Table.COIL)


def test_a_refused_block_splits_at_its_gaps_then_in_half() -> None:
    (req,) = plan([p("a", 0), p("b", 2), p("c", 10), p("d", 12)], max_gap=8)
    assert split_points(req) == [(Table.INPUT, 10)]
    (contiguous,) = plan([p("a", 0), p("b", 2), p("c", 4), p("d", 6)])
    assert split_points(contiguous) == [(Table.INPUT, 4)]
    (single,) = plan([p("a", 0)])
    assert split_points(single) == []
    split = plan(
        [p("a", 0), p("b", 2), p("c", 10), p("d", 12)], breaks=frozenset({(Table.INPUT, 10)})
    )
    assert [(r.address, r.count) for r in split] == [(0, 4), (10, 4)]


def test_the_sdm630_needs_far_fewer_requests_than_points() -> None:
    sdm = load_map("eastron_sdm630")
    reqs = plan(sdm.points, max_block=sdm.max_block, max_gap=0)
    assert len(sdm.points) == 16
    assert len(reqs) == 6
