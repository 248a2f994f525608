"""BACnet reads and COV latency: the adapter beside sequential ReadProperty, same run.

N simulated devices x M analog inputs (bacpypes3 applications, each on its own UDP port, in
a separate process). Measured in one run:
- values/s read by the adapter (ReadPropertyMultiple in batches, up to `max_outstanding`
  requests in flight per device, devices in parallel) beside a bare bacpypes3 loop reading
  the same present-values one ReadProperty at a time;
- COV latency: the simulator changes one point every 20 ms on a schedule both sides know;
  the time from the change to the reading in the hub's pipeline, p50 and p99.
Goals: >= 3x the sequential values/s; COV p99 < 100 ms.

    python bench/bacnet.py [--quick]
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time

from _common import ROOT, parse, result

from adapters.bacnet import BacnetAdapter, BacnetLink, PointList
from adapters.bacnet.config import BacnetConnection, BacnetDevice
from hub.demo.runner import free_udp_port
from hub.domain import Reading
from hub.pipeline import Envelope, Pipeline

SIM = """
import asyncio, sys, time
sys.path.insert(0, {root!r})
from adapters.bacnet import PointList
from adapters.bacnet_sim import BacnetSimulator, SimulatedBacnetDevice
plist = PointList.model_validate({plist!r})
ports = {ports!r}
async def main():
    sim = BacnetSimulator([SimulatedBacnetDevice(f"d{{i}}", 1000 + i, p, plist)
                           for i, p in enumerate(ports)], tick_s=3600)
    await sim.start()
    print("ready", flush=True)
    t0 = float(await asyncio.to_thread(sys.stdin.readline))  # change k at t0 + k * 0.02
    obj = sim.devices["d0"].objects["cov"]
    for k in range(1, {changes} + 1):
        await asyncio.sleep(max(0.0, t0 + k * 0.02 - time.time()))
        obj.presentValue = float(k)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def point_list(m: int) -> dict[str, object]:
    points = [
        {
            "id": "cov",
            "object": "analog-input,0",
            "unit": "degC",
            "sim": {"mean": 0.0, "cov_increment": 0.5},
        }
    ]
    points += [
        {
            "id": f"t{i}",
            "object": f"analog-input,{i + 1}",
            "unit": "degC",
            "cov": False,
            "sim": {"mean": 20.0 + i},
        }
        for i in range(m - 1)
    ]
    return {"name": "bench", "points": points}


async def adapter_rate(devices: list[BacnetDevice], rounds: int) -> float:
    link = BacnetLink(f"127.0.0.1/8:{free_udp_port()}", 4190001, apdu_timeout_ms=5000, retries=0)
    pipeline = Pipeline(maxsize=100_000)

    async def drop(batch: list[Envelope]) -> None:
        return None

    pipeline.subscribe("drop", drop, max_batch=5000)  # type: ignore[arg-type]
    await pipeline.start()
    adapter = BacnetAdapter(devices, pipeline, link)
    await link.start()
    pollers = list(adapter.pollers.values())
    await asyncio.gather(*(p.poll(list(p.points)) for p in pollers))  # warm up (units)
    values = 0
    started = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(p.poll(list(p.points)) for p in pollers))
        values += sum(len(p.points) for p in pollers)
    elapsed = time.perf_counter() - started
    bad = {p.device.id: p.health() for p in pollers if p.state != "online"}
    assert not bad, bad
    link.close()
    await pipeline.stop()
    return values / elapsed


async def sequential_rate(devices: list[BacnetDevice], rounds: int) -> float:
    from bacpypes3.pdu import Address
    from bacpypes3.primitivedata import ObjectIdentifier

    link = BacnetLink(f"127.0.0.1/8:{free_udp_port()}", 4190002, apdu_timeout_ms=5000, retries=0)
    await link.start()
    assert link.app is not None
    targets = [
        (Address(d.connection.address), ObjectIdentifier(p.object))
        for d in devices
        for _, p in d.points
    ]
    await link.app.read_property(targets[0][0], targets[0][1], "present-value")  # warm up
    started = time.perf_counter()
    for _ in range(rounds):
        for address, obj in targets:
            await link.app.read_property(address, obj, "present-value")
    elapsed = time.perf_counter() - started
    link.close()
    return rounds * len(targets) / elapsed


async def cov_latency(
    device: BacnetDevice, sim: subprocess.Popen[str], changes: int
) -> list[float]:
    link = BacnetLink(f"127.0.0.1/8:{free_udp_port()}", 4190003, apdu_timeout_ms=5000, retries=0)
    pipeline = Pipeline()
    arrived: dict[int, float] = {}

    async def record(batch: list[Envelope]) -> None:
        now = time.time()
        for env in batch:
            e = env.event
            if isinstance(e, Reading) and e.point_id.endswith(".cov") and e.value >= 1:
                arrived.setdefault(int(e.value), now)

    pipeline.subscribe("record", record)  # type: ignore[arg-type]
    await pipeline.start()
    adapter = BacnetAdapter([device], pipeline, link)
    await adapter.start()
    poller = adapter.pollers[device.id]
    async with asyncio.timeout(30):
        while not poller.cov_active:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    t0 = time.time() + 0.2
    assert sim.stdin is not None
    sim.stdin.write(f"{t0}\n")
    sim.stdin.flush()
    await asyncio.sleep(0.2 + changes * 0.02 + 1.0)
    await adapter.stop()
    await pipeline.stop()
    return [(arrived[k] - (t0 + k * 0.02)) * 1000 for k in sorted(arrived)]


def main() -> None:
    args = parse(__doc__ or "")
    n, m, rounds, changes = (5, 40, 5, 150) if args.quick else (20, 50, 10, 400)
    plist = point_list(m)
    ports = [free_udp_port() for _ in range(n)]
    script = SIM.format(root=str(ROOT), plist=plist, ports=ports, changes=changes)
    sim = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert sim.stdout is not None
        assert sim.stdout.readline().strip() == "ready"
        pl = PointList.model_validate(plist)
        devices = [
            BacnetDevice(
                f"d{i}",
                BacnetConnection(
                    address=f"127.0.0.1:{p}",
                    device_instance=1000 + i,
                    points="bench",
                    timeout_s=5,
                    interval_s=3600,
                ),
                tuple((f"d{i}.{pt.id}", pt) for pt in pl.points),
            )
            for i, p in enumerate(ports)
        ]
        adapter = asyncio.run(adapter_rate(devices, rounds))
        sequential = asyncio.run(sequential_rate(devices, max(1, rounds // 2)))
        cov_device = BacnetDevice(
            "d0",
            devices[0].connection.model_copy(update={"interval_s": 3600}),
            devices[0].points[:1],
        )
        latencies = asyncio.run(cov_latency(cov_device, sim, changes))
    finally:
        sim.kill()
        sim.wait()
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"devices x points:              {n} x {m}")
    print(f"adapter (RPM, 4 outstanding):  {adapter:,.0f} values/s")
    print(f"sequential ReadProperty:       {sequential:,.0f} values/s")
    print(
        f"COV change -> pipeline:        p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"({len(latencies)} of {changes} changes)"
    )
    result(
        "bacnet",
        adapter,
        "values/s",
        sequential,
        3.0,
        p50_ms=round(p50, 1),  # a COV change to its reading in the pipeline
        p99_ms=round(p99, 1),
        p99_goal_ms=100,
        cov_received=len(latencies),
        cov_sent=changes,
    )


if __name__ == "__main__":
    main()
