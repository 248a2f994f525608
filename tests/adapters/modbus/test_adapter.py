"""The Modbus adapter against pymodbus's server on loopback TCP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from adapters.modbus import ModbusAdapter, RegisterMap
from adapters.modbus_sim import Fault, ModbusSimulator, SimulatedDevice
from hub.domain import Command, Quality
from hub.pipeline import Pipeline
from tests.adapters.modbus.conftest import EVERY_TYPE, Recorder, Rig, device
from tests.support.servers import free_port

VALUES = {
    "i16": -12.3,
    "u16": 65000.0,
    "i32_cdab": -2_000_000.0,
    "u32": 4_000_000_000.0,
    "i64": -(2.0**40),
    "u64_dcba": 2.0**45,
    "f32": 1234.5,
    "f32_cdab": -0.15625,
    "f32_badc": 3.5e6,
    "f64": 1.000000001,
    "setpoint": 21.5,
    "ir_f32": 42.25,
}


async def test_every_type_and_word_order_decodes_to_the_engineering_value(rigs, port) -> None:  # type: ignore[no-untyped-def]
    rig = await rigs([("dev", port, 1, EVERY_TYPE, {})])
    for pid, value in VALUES.items():
        rig.sim.set_value("dev", pid, value)
    await rig.wait_for(
        lambda: all(
            rig.seen.count(f"dev.{p}")
            and rig.seen.last(f"dev.{p}").value == pytest.approx(v, rel=1e-6)
            for p, v in VALUES.items()
        )
    )
    assert rig.seen.last("dev.i16").unit == "degC"
    assert rig.seen.last("dev.coil").value in (0.0, 1.0)
    assert rig.seen.statuses[0].online is True


async def test_reads_are_coalesced_and_a_refused_block_is_split_and_remembered(
    rigs, port, sdm630: RegisterMap
) -> None:  # type: ignore[no-untyped-def]
    rig = await rigs([("m1", port, 1, sdm630, {"max_gap": 8})])
    poller = rig.adapter.pollers["m1"]
    await rig.wait_for(lambda: rig.seen.count("m1.total_energy") >= 3)
    health = poller.health()
    assert health["requests_per_poll"] == 6  # 16 points
    assert health["splits"] == 1  # the meter refused one merged block, once
    assert health["exception_2"] == 1
    assert health["breaks"] == ["input:62", "input:70", "input:84"]
    values = {r.point_id for r in rig.seen.readings}
    assert len(values) == 16


async def test_a_dead_device_goes_offline_while_the_others_keep_their_cadence(
    rigs, sdm630: RegisterMap, ahu: RegisterMap
) -> None:  # type: ignore[no-untyped-def]
    alive_port, dead_port = free_port(), free_port()
    rig = await rigs([("alive", alive_port, 1, sdm630, {}), ("dead", dead_port, 1, ahu, {})])
    await rig.wait_for(lambda: rig.seen.count("dead.supply_temp") >= 1)
    rig.sim.set_fault("dead", Fault.DEAD)
    before = rig.seen.count("alive.total_power")
    await rig.settle(3.0)
    polls = rig.seen.count("alive.total_power") - before
    assert polls >= 12  # 3 s at 0.2 s: the dead device's timeouts don't slow the other host
    offline = [s for s in rig.seen.statuses if s.device_id == "dead" and not s.online]
    assert len(offline) == 1  # reported once, not once per failed poll
    assert rig.adapter.health()["offline"] == ["dead"]
    rig.sim.clear_fault("dead")
    await rig.wait_for(lambda: rig.adapter.pollers["dead"].state == "online")
    back = [s for s in rig.seen.statuses if s.device_id == "dead"]
    assert [s.online for s in back] == [True, False, True]


async def test_a_fault_bit_becomes_a_device_fault_status_once_per_change(rigs, port, ahu) -> None:  # type: ignore[no-untyped-def]
    rig = await rigs([("ahu", port, 1, ahu, {})])
    await rig.wait_for(lambda: bool(rig.seen.statuses))
    rig.sim.set_fault("ahu", Fault.BIT, points=["fan_fault"])
    await rig.wait_for(lambda: any(s.fault for s in rig.seen.statuses))
    await rig.settle(1.0)  # several more polls with the bit still set
    rig.sim.clear_fault("ahu")
    await rig.wait_for(lambda: not rig.seen.statuses[-1].fault)
    changes = [(s.online, s.fault, s.detail) for s in rig.seen.statuses]
    assert changes == [
        (True, False, ""),
        (True, True, "风机故障 Fan fault"),
        (True, False, ""),
    ]
    assert rig.seen.last("ahu.fan_fault").value == 0.0


async def test_exception_replies_and_gateway_failures_are_counted_and_recovered(rigs, ahu) -> None:  # type: ignore[no-untyped-def]
    gw = free_port()
    rig = await rigs([("u1", gw, 1, ahu, {}), ("u2", gw, 2, ahu, {})])
    await rig.wait_for(lambda: rig.adapter.health()["online"] == 2)
    rig.sim.set_fault("u1", Fault.EXCEPTION, code=4)
    rig.sim.set_fault("u2", Fault.GATEWAY)
    await rig.wait_for(lambda: sorted(rig.adapter.health()["offline"]) == ["u1", "u2"])
    h1 = rig.adapter.pollers["u1"].health()
    assert h1["exception_4"] >= 2
    assert "device failure" in h1["last_error"]
    assert "gateway" in rig.adapter.pollers["u2"].health()["last_error"]
    rig.sim.clear_fault("u1")
    rig.sim.clear_fault("u2")
    await rig.wait_for(lambda: rig.adapter.health()["online"] == 2)
    for task in rig.adapter._tasks:
        assert not task.done()  # nothing escaped the polling loops


async def test_a_connection_reset_and_a_host_that_comes_back(rigs, port, sdm630) -> None:  # type: ignore[no-untyped-def]
    rig = await rigs([("m", port, 1, sdm630, {})])
    await rig.wait_for(lambda: rig.adapter.pollers["m"].state == "online")
    await rig.sim.stop()  # the host goes away: connections reset, then refused
    await rig.wait_for(lambda: rig.adapter.pollers["m"].state == "offline")
    await rig.sim.start()
    await rig.wait_for(lambda: rig.adapter.pollers["m"].state == "online")
    assert rig.adapter.health()["link_errors"] >= 2


async def test_rtu_frames_over_tcp_through_a_serial_gateway(rigs, port, ahu) -> None:  # type: ignore[no-untyped-def]
    rig = await rigs(
        [("a1", port, 7, ahu, {"framer": "rtu"}), ("a2", port, 8, ahu, {"framer": "rtu"})]
    )
    await rig.wait_for(
        lambda: rig.seen.count("a1.supply_temp") and rig.seen.count("a2.supply_temp")
    )
    assert rig.seen.last("a1.supply_temp").value == pytest.approx(
        rig.sim.value("a1", "supply_temp"), abs=0.2
    )


async def test_a_setpoint_write_is_range_checked_written_and_read_back(rigs, port, ahu) -> None:  # type: ignore[no-untyped-def]
    rig = await rigs([("ahu", port, 1, ahu, {})])
    now = datetime.now(UTC)
    result = await rig.adapter.execute(Command("ahu.supply_setpoint", "write", now, value=20.5))
    assert (result.ok, result.value) == (True, 20.5)
    assert rig.sim.value("ahu", "supply_setpoint") == 20.5
    await rig.wait_for(
        lambda: (
            rig.seen.count("ahu.supply_setpoint")
            and rig.seen.last("ahu.supply_setpoint").value == 20.5
        )
    )
    too_hot = await rig.adapter.execute(Command("ahu.supply_setpoint", "write", now, value=45))
    assert (too_hot.ok, too_hot.error) == (False, "invalid")
    read_only = await rig.adapter.execute(Command("ahu.supply_temp", "write", now, value=20))
    assert (read_only.ok, read_only.error) == (False, "invalid")
    fan = await rig.adapter.execute(Command("ahu.fan_command", "write", now, value=0))
    assert (fan.ok, fan.value) == (True, 0.0)
    rig.sim.set_fault("ahu", Fault.DEAD)
    away = await rig.adapter.execute(Command("ahu.supply_setpoint", "write", now, value=19))
    assert (away.ok, away.error) == (False, "unreachable")
    rig.sim.clear_fault("ahu")


async def test_counter_glitches_are_marked_bad(rigs, port, sdm630) -> None:  # type: ignore[no-untyped-def]
    rig = await rigs([("m", port, 1, sdm630, {})])
    await rig.wait_for(lambda: rig.seen.count("m.total_energy") >= 2)
    rig.sim.set_value("m", "total_energy", 10.0)  # the meter reads far lower: a glitch
    await rig.wait_for(lambda: rig.seen.last("m.total_energy").quality is Quality.BAD)
    assert rig.adapter.pollers["m"].health()["counter_backwards"] >= 1
    await asyncio.sleep(0)


async def test_a_storm_of_a_thousand_timeouts_costs_nothing_else_and_passes(
    sdm630: RegisterMap, ahu: RegisterMap
) -> None:
    """Ten gateways that accept connections and never answer, five units behind each, time
    out over and over while one live meter keeps its cadence; every silent unit is reported
    offline once; no task or connection piles up; and when the gateways answer again every
    unit comes back by itself."""
    held: list[asyncio.StreamWriter] = []
    open_links: set[asyncio.StreamWriter] = set()  # the hub has not closed them

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        open_links.add(writer)
        try:
            while await reader.read(1024):
                pass  # swallow the requests, answer nothing
        finally:
            open_links.discard(writer)
            writer.close()

    silent_ports = [free_port() for _ in range(10)]
    servers = [await asyncio.start_server(silent, "127.0.0.1", p) for p in silent_ports]
    live_port = free_port()
    units = [(f"u{p}-{u}", p, u) for p in silent_ports for u in range(1, 6)]
    live = ModbusSimulator([SimulatedDevice("live", live_port, 1, sdm630)])
    await live.start()
    pipeline, seen = Pipeline(), Recorder()
    pipeline.subscribe("recorder", seen)
    await pipeline.start()
    adapter = ModbusAdapter(
        [device("live", live_port, 1, sdm630)]
        + [device(d, p, u, ahu, timeout_s=0.05, backoff_max_s=0.2) for d, p, u in units],
        pipeline,
    )
    await adapter.start()
    back = ModbusSimulator([SimulatedDevice(d, p, u, ahu) for d, p, u in units])
    rig = Rig(live, adapter, pipeline, seen)
    try:

        def timeouts() -> int:
            return int(adapter.health()["link_errors"])

        await rig.wait_for(lambda: timeouts() >= 200, timeout=60)
        tasks_then = len(asyncio.all_tasks())
        live_then = seen.count("live.total_power")
        await rig.wait_for(lambda: timeouts() >= 1000, timeout=120)
        assert seen.count("live.total_power") > live_then + 5  # the live meter kept polling
        # 800 more timeouts, and no more tasks than a reconnect per gateway could add
        assert len(asyncio.all_tasks()) <= tasks_then + len(silent_ports)
        # a link that timed out is closed and opened afresh (a late answer must not be taken
        # for the next request's), and the old one is gone: one open link per gateway
        await asyncio.sleep(0.1)
        assert len(held) > len(silent_ports)
        assert len(open_links) <= len(silent_ports)
        offline = [s.device_id for s in seen.statuses if not s.online]
        assert sorted(offline) == sorted(d for d, _, _ in units)  # once each
        assert adapter.health()["status"] == "degraded"

        for server in servers:
            server.close()
        for w in held:
            w.close()
        for server in servers:
            await server.wait_closed()
        await back.start()  # the gateways answer again
        await rig.wait_for(lambda: adapter.health()["online"] == len(units) + 1, timeout=60)
        assert adapter.health()["status"] == "ok"
    finally:
        await adapter.stop()
        await pipeline.stop()
        await live.stop()
        await back.stop()
