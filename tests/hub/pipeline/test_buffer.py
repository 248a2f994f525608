"""The pipeline's bounded buffer: order, capacity, drop-oldest and join accounting."""

from __future__ import annotations

import asyncio

from hub.pipeline.buffer import Buffer


async def test_put_many_waits_for_room_and_keeps_order() -> None:
    b: Buffer[int] = Buffer(3)
    producer = asyncio.create_task(b.put_many(list(range(10))))
    got: list[int] = []
    while len(got) < 10:
        batch = await b.get_batch(2)
        assert len(b) <= 3
        got += batch
        b.task_done(len(batch))
    await producer
    assert got == list(range(10))
    await asyncio.wait_for(b.join(), 1)


async def test_drop_oldest_keeps_the_newest_and_join_still_waits_for_the_one_in_hand() -> None:
    b: Buffer[int] = Buffer(4)
    b.put_dropping_oldest([0])
    in_hand = await b.get_batch(1)
    assert b.put_dropping_oldest(list(range(1, 51))) == 46  # a batch larger than the buffer
    assert [await b.get_batch(1) for _ in range(4)] == [[47], [48], [49], [50]]
    b.task_done(4)
    joined = asyncio.create_task(b.join())
    await asyncio.sleep(0.01)
    assert not joined.done()  # item 0 is still being handled
    b.task_done(len(in_hand))
    await asyncio.wait_for(joined, 1)


def test_put_nowait_many_is_all_or_nothing() -> None:
    b: Buffer[int] = Buffer(3)
    assert b.put_nowait_many([1, 2])
    assert not b.put_nowait_many([3, 4])
    assert len(b) == 2
