"""The live view: coalescing per entity, one shared frame per tick, slow clients get the
newest state (bounded), gate passages kept one by one, finished alarms leave the state."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from hub.domain import AlarmEvent, GateDirection, GateEvent, PositionFix, SubjectKind
from hub.live import LiveHub, to_message
from hub.pipeline import Envelope

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def fix(subject: str, lat: float, seconds: int = 0) -> PositionFix:
    return PositionFix(
        subject, SubjectKind.GUARD, T0 + timedelta(seconds=seconds), "test", lat=lat, lon=120.13
    )


def alarm(alarm_id: str, state: str, seconds: int = 0) -> AlarmEvent:
    return AlarmEvent(
        alarm_id, "equipment_fault", "ahu-b2", state, "major", T0 + timedelta(seconds=seconds)
    )


def passage(n: int) -> GateEvent:
    return GateEvent("g-main", GateDirection.IN, True, T0 + timedelta(seconds=n), "qr", f"v{n}")


async def feed(live: LiveHub, *events: object) -> None:
    await live([Envelope("test", e, 0.0, None) for e in events])  # type: ignore[arg-type]


async def test_a_tick_sends_each_entity_once_with_its_newest_state() -> None:
    live = LiveHub()
    client, snapshot = live.connect("wall")
    assert json.loads(snapshot)["entities"] == []
    await feed(live, *(fix("g1", 30.0 + i / 1000, i) for i in range(100)), fix("g2", 30.5))
    assert live.flush() == 2
    frame = json.loads(await client.next_frame())
    assert frame["type"] == "delta"
    assert [(c["key"], c["lat"]) for c in frame["changes"]] == [("g1", 30.099), ("g2", 30.5)]
    assert live.flush() == 0  # nothing new: no frame


async def test_every_client_that_keeps_up_gets_the_same_serialised_frame() -> None:
    live = LiveHub()
    clients = [live.connect()[0] for _ in range(3)]
    await feed(live, fix("g1", 30.1))
    live.flush()
    frames = [await c.next_frame() for c in clients]
    assert frames[0] is frames[1] is frames[2]  # serialised once per tick, not per client


async def test_a_slow_client_gets_the_newest_state_in_one_frame_not_a_backlog() -> None:
    live = LiveHub()
    fast, _ = live.connect()
    slow, _ = live.connect()
    sent: list[str] = []
    gate = asyncio.Event()

    async def stuck_send(frame: str) -> None:
        sent.append(frame)
        await gate.wait()  # a screen on a bad link

    pump = asyncio.create_task(slow.pump(stuck_send))
    for tick in range(50):
        await feed(live, fix("g1", 30.0 + tick / 100, tick), fix(f"g{tick % 5 + 2}", 31, tick))
        live.flush()
        await fast.next_frame()
        await asyncio.sleep(0)
    assert len(sent) == 1  # still writing the first frame
    gate.set()
    await asyncio.sleep(0.01)
    pump.cancel()
    catch_up = json.loads(sent[1])
    keys = sorted(c["key"] for c in catch_up["changes"])
    assert keys == ["g1", "g2", "g3", "g4", "g5", "g6"]  # bounded by the entities
    assert next(c for c in catch_up["changes"] if c["key"] == "g1")["lat"] == 30.49
    assert catch_up["seq"] == live.seq
    assert slow.coalesced > 0


async def test_gate_passages_are_each_kept_and_new_clients_get_the_last_ones() -> None:
    live = LiveHub(gate_history=3)
    client, _ = live.connect()
    await feed(live, *(passage(n) for n in range(5)))
    live.flush()
    frame = json.loads(await client.next_frame())
    assert [c["subject"] for c in frame["changes"]] == ["v0", "v1", "v2", "v3", "v4"]
    _, snapshot = live.connect()
    assert [g["subject"] for g in json.loads(snapshot)["gates"]] == ["v2", "v3", "v4"]


async def test_an_alarm_cleared_and_acknowledged_is_sent_then_leaves_the_state() -> None:
    live = LiveHub(locate=lambda originator: f"device:{originator}")
    client, _ = live.connect()
    await feed(live, alarm("7", "ACTIVE_UNACK"))
    live.flush()
    (change,) = json.loads(await client.next_frame())["changes"]
    assert change["at"] == "device:ahu-b2"
    assert [e["key"] for e in live.snapshot()] == ["7"]
    await feed(live, alarm("7", "CLEARED_ACK", 5))
    live.flush()
    (change,) = json.loads(await client.next_frame())["changes"]
    assert change["state"] == "CLEARED_ACK"
    assert live.snapshot() == []


async def test_a_late_fix_does_not_move_the_marker_back() -> None:
    live = LiveHub()
    await feed(live, fix("g1", 30.2, 10), fix("g1", 30.1, 5))
    (state,) = live.snapshot()
    assert state["lat"] == 30.2


async def test_the_ticker_flushes_at_the_configured_rate_and_stops() -> None:
    live = LiveHub(rate_hz=50)
    client, _ = live.connect()
    await live.start()
    live.put(to_message(fix("g1", 30.3)))
    frame = json.loads(await asyncio.wait_for(client.next_frame(), 1.0))
    assert frame["changes"][0]["key"] == "g1"
    await live.stop()
    live.disconnect(client)
    assert live.health()["clients"] == 0
