"""The BACnet adapter against bacpypes3 devices on loopback UDP."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from adapters.bacnet import BacnetLink, discover, parse_list, proposal_yaml
from adapters.bacnet.points import ListError
from adapters.bacnet_sim import BacnetFault
from hub.demo.runner import free_udp_port
from hub.domain import Command, Quality


async def test_reads_every_point_with_its_units_through_rpm(bacnet_rigs, ahu) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("ahu", 1001, ahu, {})])
    await rig.wait_for(lambda: len({r.point_id for r in rig.seen.readings}) == len(ahu.points))
    assert rig.seen.last("ahu.supply_temp").unit == "degC"
    assert rig.seen.last("ahu.valve_position").unit == "%"
    assert rig.seen.last("ahu.fan_status").value == 1.0
    poller = rig.adapter.pollers["ahu"]
    assert poller.rpm is True
    assert poller.stats["requests"] <= 3 + len(ahu.points)  # a batched read, then subscriptions
    assert rig.seen.statuses[0].online


async def test_cov_delivers_changes_without_polling(bacnet_rigs, ahu) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("ahu", 1001, ahu, {"interval_s": 60})])
    await rig.wait_for(lambda: rig.adapter.pollers["ahu"].stats["cov_subscriptions"] >= 5)
    requests = rig.adapter.pollers["ahu"].stats["requests"]
    rig.sim.set_value("ahu", "fan_status", "inactive")
    await rig.wait_for(lambda: rig.seen.last("ahu.fan_status").value == 0.0, timeout=3)
    assert rig.adapter.pollers["ahu"].stats["requests"] == requests  # no poll: COV brought it


async def test_a_fault_flag_becomes_a_fault_event_and_clears(bacnet_rigs, ahu) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("ahu", 1001, ahu, {})])
    await rig.wait_for(lambda: rig.seen.statuses)
    rig.sim.set_fault("ahu", BacnetFault.FAULT)
    await rig.wait_for(lambda: rig.seen.statuses[-1].fault)
    await rig.wait_for(lambda: "风机故障 Fan fault" in rig.seen.statuses[-1].detail)
    rig.sim.set_value("ahu", "supply_temp", 17.3)  # a value the device flags as unreliable
    await rig.wait_for(lambda: rig.seen.last("ahu.supply_temp").quality is Quality.UNCERTAIN)
    rig.sim.clear_fault("ahu")
    await rig.wait_for(lambda: not rig.seen.statuses[-1].fault)
    faults = [s.fault for s in rig.seen.statuses]
    assert faults[0] is False
    assert faults[-1] is False
    assert 1 <= faults.count(True) <= 3  # the fault and its detail, not one per object


async def test_write_at_a_priority_then_relinquish(bacnet_rigs, ahu) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("ahu", 1001, ahu, {})])
    await rig.wait_for(lambda: rig.adapter.pollers["ahu"].state == "online")
    now = datetime.now(UTC)
    done = await rig.adapter.execute(Command("ahu.supply_setpoint", "write", now, value=21.5))
    assert (done.ok, done.value) == (True, 21.5)
    obj = rig.sim.devices["ahu"].objects["supply_setpoint"]
    assert obj.priorityArray[7].real == 21.5  # priority 8 is index 7
    back = await rig.adapter.execute(Command("ahu.supply_setpoint", "relinquish", now))
    assert (back.ok, back.value) == (True, 18.0)  # the relinquish default
    assert obj.priorityArray[7].null is not None
    bad = await rig.adapter.execute(Command("ahu.supply_setpoint", "write", now, value=99))
    assert (bad.ok, bad.error) == (False, "invalid")
    ro = await rig.adapter.execute(Command("ahu.supply_temp", "write", now, value=20))
    assert (ro.ok, ro.error) == (False, "invalid")


async def test_a_device_that_rejects_rpm_is_read_property_by_property(bacnet_rigs, room) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("rc", 2101, room, {"cov": False})])
    rig.sim.set_fault("rc", BacnetFault.NO_RPM)
    await rig.wait_for(lambda: rig.adapter.pollers["rc"].rpm is False)
    before = rig.seen.count("rc.room_temp")
    await rig.wait_for(lambda: rig.seen.count("rc.room_temp") > before + 1)
    assert rig.seen.last("rc.room_temp").unit == "degC"
    assert rig.adapter.pollers["rc"].state == "online"


async def test_a_dead_device_goes_offline_once_and_others_keep_being_read(
    bacnet_rigs, ahu, room
) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs(
        [("ahu", 1001, ahu, {"cov": False}), ("rc", 2101, room, {"cov": False})]
    )
    await rig.wait_for(lambda: rig.adapter.health()["online"] == 2)
    rig.sim.set_fault("ahu", BacnetFault.DEAD)
    await rig.wait_for(lambda: rig.adapter.pollers["ahu"].state == "offline")
    before = rig.seen.count("rc.room_temp")
    t0 = time.monotonic()
    await rig.wait_for(lambda: rig.seen.count("rc.room_temp") >= before + 3)
    assert time.monotonic() - t0 < 3.0  # 0.5 s polls continue beside the dead device
    rig.sim.clear_fault("ahu")
    await rig.wait_for(lambda: rig.adapter.pollers["ahu"].state == "online")

    def ahu_status() -> list[bool]:  # the poller's state changes before its status arrives
        return [s.online for s in rig.seen.statuses if s.device_id == "ahu"]

    await rig.wait_for(lambda: len(ahu_status()) >= 3)
    assert ahu_status() == [True, False, True]
    for task in rig.adapter._tasks:
        assert not task.done()


async def test_an_unknown_object_is_counted_and_the_rest_is_read(bacnet_rigs, room) -> None:  # type: ignore[no-untyped-def]
    extra = parse_list(
        "name: with a ghost\npoints:\n"
        "  - {id: room_temp, object: 'analog-input,1', unit: degC}\n"
        "  - {id: ghost, object: 'analog-input,99', unit: degC}\n",
        "ghost.yaml",
    )
    rig = await bacnet_rigs([("rc", 2101, room, {})])
    rig.adapter.pollers["rc"].points["rc.ghost"] = extra.points[1]
    rig.adapter.pollers["rc"].by_object["analog-input,99"] = "rc.ghost"
    await rig.wait_for(lambda: rig.adapter.pollers["rc"].stats["error:unknown-object"] >= 1)
    assert rig.seen.count("rc.room_temp") >= 1
    assert rig.seen.count("rc.ghost") == 0


async def test_a_quiet_subscription_is_re_read(bacnet_rigs, room) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("rc", 2101, room, {"interval_s": 0.3, "cov_quiet_s": 0.5})])
    await rig.wait_for(lambda: rig.adapter.pollers["rc"].stats["cov_quiet_rereads"] >= 2)


async def test_discovery_proposes_a_point_list_from_the_object_list(bacnet_rigs, room) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("rc", 2101, room, {})])
    link = BacnetLink(f"127.0.0.1/8:{free_udp_port()}", 4190002, apdu_timeout_ms=500, retries=0)
    await link.start()
    try:
        (found,) = await discover(link, address=f"127.0.0.1:{rig.ports['rc']}", timeout=2)
    finally:
        link.close()
    assert found["device_instance"] == 2101
    objects = {p["object"]: p for p in found["points"]}
    assert objects["analog-input,1"]["unit"] == "degC"
    assert objects["analog-input,1"]["name"] == "room_temp"
    proposed = parse_list(proposal_yaml(found), "proposal.yaml")
    assert len(proposed.points) == len(room.points)


def test_a_broken_point_list_names_each_row() -> None:
    text = "id,object,unit,writable\nok,analog-input,1,degC,\n"
    with pytest.raises(ListError):
        parse_list(text, "x.csv", csv_format=True)
    yaml_text = (
        "name: x\npoints:\n  - {id: a, object: 'analog-inptu,1'}\n"
        "  - {id: b, object: 'binary-input,1', writable: true}\n  - {id: b, object: 'analog-value,1'}\n"
    )
    with pytest.raises(ListError) as err:
        parse_list(yaml_text, "x.yaml")
    found = dict(err.value.problems)
    assert "object" in found["points[0]"]
    assert "can't be written" in found["points[1]"]
    assert "duplicate" in found["points[2]"]


def test_hub_bacnet_discover_writes_proposed_point_lists(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The CLI against a simulated device running in another process."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    port = free_udp_port()
    script = (
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from adapters.bacnet import load_list\n"
        "from adapters.bacnet_sim import BacnetSimulator, SimulatedBacnetDevice\n"
        "async def main():\n"
        f"    sim = BacnetSimulator([SimulatedBacnetDevice('rc', 2101, {port}, load_list('room_controller'))])\n"
        "    await sim.start()\n"
        "    print('ready', flush=True)\n"
        "    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    device = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert device.stdout is not None
        assert device.stdout.readline().strip() == "ready"
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "hub",
                "bacnet",
                "discover",
                "--address",
                f"127.0.0.1:{port}",
                "--local",
                f"127.0.0.1/8:{free_udp_port()}",
                "--out",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            env={**os.environ, "HUB_DATA_DIR": str(tmp_path / "data")},
        )
    finally:
        device.kill()
        device.wait()
    assert r.returncode == 0, r.stderr
    assert "device 2101" in r.stdout
    proposed = parse_list((tmp_path / "device_2101.yaml").read_text(), "device_2101.yaml")
    assert {p.object for p in proposed.points} >= {"analog-input,1", "analog-value,1"}


async def test_discovery_through_a_bbmd_as_a_foreign_device(room) -> None:  # type: ignore[no-untyped-def]
    """Where broadcasts can't reach, the hub registers with a BBMD and Who-Is goes through it."""
    from adapters.bacnet_sim import BacnetSimulator, SimulatedBacnetDevice

    port = free_udp_port()
    sim = BacnetSimulator([SimulatedBacnetDevice("gw", 3001, port, room, bbmd=True)])
    await sim.start()
    link = BacnetLink(
        f"127.0.0.1/8:{free_udp_port()}",
        4190005,
        bbmd=f"127.0.0.1:{port}",
        ttl_s=60,
        apdu_timeout_ms=500,
        retries=0,
    )
    await link.start()
    try:
        found: list[tuple[int, str]] = []
        for _ in range(20):  # registration happens in the background after start
            found = await link.who_is(timeout=0.5)  # a broadcast: no address
            if found:
                break
        assert found == [(3001, f"127.0.0.1:{port}")]
    finally:
        link.close()
        await sim.stop()


async def test_a_reply_too_big_for_an_unsegmented_apdu_gets_smaller_batches(
    bacnet_rigs, room
) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("rc", 2101, room, {"cov": False})], max_apdu=50)
    await rig.wait_for(lambda: rig.seen.count("rc.room_temp") >= 2)
    poller = rig.adapter.pollers["rc"]
    assert poller.batch < 24
    assert poller.stats["abort:segmentation-not-supported"] >= 1
    assert poller.rpm is True


async def test_cov_subscriptions_are_renewed_before_they_expire(bacnet_rigs, room) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs(
        [("rc", 2101, room, {"cov_lifetime_s": 10, "interval_s": 60, "cov_quiet_s": 3600})]
    )
    await rig.wait_for(lambda: rig.adapter.pollers["rc"].cov_active)
    await asyncio.sleep(12)  # past the 10 s lifetime: alive only if it was renewed
    rig.sim.set_value("rc", "room_temp", 29.5)
    await rig.wait_for(lambda: rig.seen.last("rc.room_temp").value == 29.5, timeout=3)
    assert rig.adapter.pollers["rc"].stats["cov_quiet_rereads"] == 0  # COV brought it
    assert rig.adapter.pollers["rc"].stats["requests"] < 10  # not polled meanwhile


async def test_overrides_and_alarms_show_in_health(bacnet_rigs, room) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("rc", 2101, room, {})])
    await rig.wait_for(lambda: rig.adapter.pollers["rc"].state == "online")
    rig.sim.devices["rc"].objects["room_temp"].statusFlags = [1, 0, 1, 0]
    await rig.wait_for(lambda: rig.adapter.pollers["rc"].health()["overridden"] == ["rc.room_temp"])
    assert rig.adapter.pollers["rc"].health()["in_alarm"] == ["rc.room_temp"]
    assert rig.adapter.pollers["rc"].fault is None  # an alarm or override is no equipment fault
    assert rig.adapter.pollers["rc"].stats["cov_refused"] == 1  # multi-state COV: polled instead
    await rig.wait_for(lambda: rig.seen.count("rc.mode") >= 2)


def still(plist):  # type: ignore[no-untyped-def]
    """The point list with every value held still (the simulator animates none)."""
    points = [
        p.model_copy(update={"sim": {k: v for k, v in p.sim.items() if k != "amplitude"}})
        for p in plist.points
    ]
    return plist.model_copy(update={"points": points})


async def test_a_notifications_flags_belong_to_its_value(bacnet_rigs, ahu) -> None:  # type: ignore[no-untyped-def]
    """A fault flag raised (and cleared) without a change of value: the reading that comes
    with it already has the fault's quality, not the one before (status polled rarely)."""
    rig = await bacnet_rigs(
        [("ahu", 1001, still(ahu), {"interval_s": 60, "status_interval_s": 60})]
    )
    poller = rig.adapter.pollers["ahu"]
    subscribed = sum(1 for _, p in rig.adapter.pollers["ahu"].device.points if p.cov)
    # every subscription has delivered its first notification: what follows is the fault's
    await rig.wait_for(lambda: poller.stats["cov_notifications"] >= subscribed)

    def after(n: int) -> list[Quality]:
        return [r.quality for r in rig.seen.readings[n:] if r.point_id == "ahu.supply_temp"]

    before = len(rig.seen.readings)
    rig.sim.set_fault("ahu", BacnetFault.FAULT)
    await rig.wait_for(lambda: after(before), timeout=5)
    assert after(before)[0] is Quality.UNCERTAIN  # the first word of the fault says so


async def test_a_cleared_flag_makes_the_value_good_at_the_next_status_read(
    bacnet_rigs, ahu
) -> None:  # type: ignore[no-untyped-def]
    """bacpypes3's objects (like many devices) send no notification when flags clear: the
    status read finds it, and the value stands good again at once, not at the next change."""
    rig = await bacnet_rigs([("ahu", 1001, still(ahu), {"interval_s": 1, "status_interval_s": 1})])
    poller = rig.adapter.pollers["ahu"]
    await rig.wait_for(lambda: rig.seen.count("ahu.supply_temp"))
    rig.sim.set_fault("ahu", BacnetFault.FAULT)
    await rig.wait_for(lambda: rig.seen.last("ahu.supply_temp").quality is Quality.UNCERTAIN)
    before = len(rig.seen.readings)
    rig.sim.clear_fault("ahu")
    await rig.wait_for(lambda: rig.seen.last("ahu.supply_temp").quality is Quality.GOOD, timeout=5)
    again = [r for r in rig.seen.readings[before:] if r.point_id == "ahu.supply_temp"]
    assert again[0].value == 16.0  # the same value, now good
    assert poller.stats["quality_changes"] >= 1


async def test_a_written_point_is_read_again_once_settled(bacnet_rigs, room) -> None:  # type: ignore[no-untyped-def]
    rig = await bacnet_rigs([("rc", 1002, still(room), {"interval_s": 1})])
    poller = rig.adapter.pollers["rc"]
    await rig.wait_for(lambda: poller.stats["cov_subscriptions"] >= 1)
    await rig.wait_for(lambda: rig.seen.last("rc.temp_setpoint").value == 24.0)
    done = await rig.adapter.execute(
        Command("rc.temp_setpoint", "write", datetime.now(UTC), value=20.0)
    )
    assert (done.ok, done.value) == (True, 20.0)
    await rig.wait_for(lambda: poller.stats["write_rereads"] >= 1, timeout=10)
    # read again once settled: what the hub shows is what the device holds
    assert rig.seen.last("rc.temp_setpoint").value == rig.sim.value("rc", "temp_setpoint") == 20.0
