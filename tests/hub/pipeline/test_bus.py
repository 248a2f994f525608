"""The pipeline keeps order, counts what it refuses, isolates failures and loses nothing it took."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from hub.domain import PositionFix, Reading, SubjectKind
from hub.pipeline import Envelope, Pipeline, PipelineClosed

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def reading(point: str, value: float, seconds: int = 0) -> Reading:
    return Reading(point, value, "kWh", NOW + timedelta(seconds=seconds))


class Recorder:
    """A consumer that remembers what it saw and can be told to fail or stall."""

    def __init__(self, fail_on: float | None = None) -> None:
        self.seen: list[Envelope] = []
        self.fail_on = fail_on
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        await self.gate.wait()
        for env in batch:
            assert isinstance(env.event, Reading)
            if env.event.value == self.fail_on:
                raise ValueError("cannot store this one")
        self.seen.extend(batch)

    def values(self, source: str | None = None) -> list[float]:
        return [
            e.event.value  # type: ignore[union-attr]
            for e in self.seen
            if source is None or e.source == source
        ]


def make(**kw: object) -> Pipeline:
    return Pipeline(clock=lambda: NOW, **kw)  # type: ignore[arg-type]


async def test_each_source_arrives_in_order_at_every_consumer() -> None:
    p = make()
    a, b = Recorder(), Recorder()
    p.subscribe("a", a)
    p.subscribe("b", b, max_batch=7)
    await p.start()
    for i in range(300):
        await p.publish("modbus", reading("m1.energy", i))
        await p.publish("bacnet", reading("ahu.temp", 1000 + i))
    await p.stop()
    for rec in (a, b):
        assert rec.values("modbus") == list(range(300))
        assert rec.values("bacnet") == [1000 + i for i in range(300)]
    assert p.stats.accepted[("modbus", "reading")] == 300


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (reading("p", float("nan")), "value_nan"),
        (reading("p", float("inf")), "value_out_of_range"),
        (Reading("p", 1.0, "kWh", datetime(1999, 12, 31, tzinfo=UTC)), "ts_before_2000"),
        (reading("p", 1.0, seconds=3600), "ts_in_future"),
        (reading("", 1.0), "bad_id"),
        (PositionFix("g1", SubjectKind.GUARD, NOW, "t", lat=200.0, lon=120.0), "lat_out_of_range"),
        (PositionFix("g1", SubjectKind.GUARD, NOW, "t", lat=30.0, lon=-181.0), "lon_out_of_range"),
        (PositionFix("g1", SubjectKind.GUARD, NOW, "t", lat=0.0, lon=0.0), "null_island"),
        (
            PositionFix("g1", SubjectKind.GUARD, NOW, "t", lat=30.0, lon=120.0, accuracy_m=-1),
            "accuracy_out_of_range",
        ),
    ],
)
async def test_implausible_events_are_rejected_with_a_counted_reason(event, reason) -> None:  # type: ignore[no-untyped-def]
    p = make()
    rec = Recorder()
    p.subscribe("r", rec)
    await p.start()
    verdict = await p.publish("src", event)
    await p.publish("src", reading("ok", 1.0))
    await p.stop()
    assert not verdict
    assert verdict.reason == reason
    assert p.stats.rejected[("src", reason)] == 1
    assert rec.values() == [1.0]


async def test_a_failing_consumer_loses_only_the_bad_event_and_others_go_on() -> None:
    p = make()
    flaky, healthy = Recorder(fail_on=13), Recorder()
    p.subscribe("flaky", flaky, max_batch=50)
    p.subscribe("healthy", healthy)
    await p.start()
    for i in range(40):
        await p.publish("src", reading("p", i))
    await p.stop()
    assert flaky.values() == [i for i in range(40) if i != 13]
    assert healthy.values() == list(range(40))
    assert p.health()["consumers"]["flaky"]["errors"] == 1


async def test_a_slow_lossy_consumer_drops_oldest_and_never_blocks_the_stores() -> None:
    p = make()
    store, live = Recorder(), Recorder()
    live.gate.clear()  # the live view is stuck
    p.subscribe("store", store)
    p.subscribe("live", live, lossless=False, maxsize=10, max_batch=1)
    await p.start()
    for i in range(200):
        await p.publish("src", reading("p", i))
    await asyncio.sleep(0.05)
    assert store.values() == list(range(200))  # the store got everything while live was stuck
    live.gate.set()
    await p.stop()
    assert len(live.values()) <= 12
    assert live.values()[-1] == 199  # the newest state survives
    assert sum(n for (_, r), n in p.stats.dropped.items() if r == "slow_consumer:live") >= 188


async def test_a_slow_lossless_consumer_applies_backpressure_to_publishers() -> None:
    p = make(maxsize=5)
    store = Recorder()
    store.gate.clear()
    p.subscribe("store", store, maxsize=5, max_batch=1)
    await p.start()
    published = 0

    async def producer() -> None:
        nonlocal published
        for i in range(100):
            await p.publish("src", reading("p", i))
            published += 1

    task = asyncio.create_task(producer())
    await asyncio.sleep(0.1)
    assert published < 20  # blocked, not dropping
    assert p.publish_nowait("src", reading("p", -1)).reason == "pipeline_full"
    store.gate.set()
    await task
    await p.stop()
    assert store.values() == list(range(100))
    assert p.stats.dropped[("src", "pipeline_full")] == 1


async def test_stop_delivers_everything_accepted_then_refuses_more() -> None:
    p = make()
    rec = Recorder()
    p.subscribe("r", rec, max_batch=3)
    await p.start()
    for i in range(1000):
        p.publish_nowait("src", reading("p", i))
    await p.stop()
    assert len(rec.values()) == 1000
    with pytest.raises(PipelineClosed):
        await p.publish("src", reading("p", 1))


async def test_consumers_only_get_the_kinds_they_asked_for() -> None:
    p = make()
    seen: list[str] = []

    async def positions(batch: Sequence[Envelope]) -> None:
        seen.extend(e.event.kind for e in batch)

    p.subscribe("positions", positions, kinds=["position"])
    await p.start()
    await p.publish("src", reading("p", 1))
    await p.publish("src", PositionFix("car-1", SubjectKind.VEHICLE, NOW, "t", lat=30.0, lon=120.0))
    await p.stop()
    assert seen == ["position"]


def test_events_refuse_naive_timestamps() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Reading("p", 1.0, "kWh", datetime(2026, 1, 1))


async def test_events_relayed_from_another_worker_reach_only_the_consumers_that_take_them() -> None:
    p = make()
    store, live = Recorder(), Recorder()
    p.subscribe("store", store)
    p.subscribe("live", live, lossless=False, peers=True)
    await p.start()
    await p.relayed("peer:hub-b", [reading("m1.energy", 1.0), reading("m1.energy", 2.0)])
    await p.publish("modbus", reading("m1.energy", 3.0))
    await p.stop()
    assert store.values() == [3.0]  # stored where it arrived, not again here
    assert live.values("peer:hub-b") == [1.0, 2.0]
    assert live.values("modbus") == [3.0]
    assert p.health()["relayed"] == 2
    with pytest.raises(PipelineClosed):
        await p.relayed("peer:hub-b", [reading("m1.energy", 4.0)])
