"""The spool keeps batches in order on disk, splits in place, and applies its size policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.telemetry.spool import Spool, SpoolFull, pack


def test_batches_come_back_oldest_first_and_survive_reopening(tmp_path: Path) -> None:
    s = Spool(tmp_path / "s.db")
    for i in range(3):
        s.append(pack([f"m v={i}"]), 1)
    s.close()
    s = Spool(tmp_path / "s.db")
    assert (s.batches, s.points) == (3, 3)
    seen = []
    while (b := s.oldest()) is not None:
        seen.append(b.lines())
        s.delete(b)
    assert seen == [["m v=0"], ["m v=1"], ["m v=2"]]
    assert (s.batches, s.points, s.bytes) == (0, 0, 0)


def test_a_split_batch_stays_at_the_head_in_order(tmp_path: Path) -> None:
    s = Spool(tmp_path / "s.db")
    s.append(pack(["a", "b", "c", "d"]), 4)
    s.append(pack(["e"]), 1)
    head = s.oldest()
    assert head is not None
    s.replace(head, [["a", "b"], ["c", "d"]])
    second = s.oldest()
    assert second is not None
    s.replace(second, [["a"], ["b"]])
    order = []
    while (b := s.oldest()) is not None:
        order += b.lines()
        s.delete(b)
    assert order == ["a", "b", "c", "d", "e"]


def test_block_policy_refuses_when_full(tmp_path: Path) -> None:
    payload = pack(["x" * 10_000])
    s = Spool(tmp_path / "s.db", max_bytes=len(payload) * 2, when_full="block")
    s.append(payload, 1)
    s.append(payload, 1)
    with pytest.raises(SpoolFull):
        s.append(payload, 1)
    assert s.points == 2
    assert s.usage() == pytest.approx(1.0)


def test_drop_oldest_policy_makes_room_and_counts(tmp_path: Path) -> None:
    payloads = [pack([f"line {i} " + "y" * 5000]) for i in range(3)]
    s = Spool(tmp_path / "s.db", max_bytes=len(payloads[0]) * 2 + 10, when_full="drop_oldest")
    for p in payloads:
        s.append(p, 1)
    assert s.dropped_points == 1
    first = s.oldest()
    assert first is not None
    assert first.lines()[0].startswith("line 1")
