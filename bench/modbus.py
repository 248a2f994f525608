"""Modbus polling: coalesced reads vs one request per point, and vs a bare pymodbus loop.

N simulated devices x 60 points (a synthetic map: float32 and uint16 runs with small gaps),
10 devices per gateway port, served by pymodbus's server in a separate process. Measured in
one run:
- the adapter's poll cycle (every device once): requests and seconds, after the first cycle
  (which learns where the devices refuse merged blocks);
- the same points read one request per point, through the same adapter;
- registers/s of the adapter's cycle beside a bare pymodbus loop reading the same blocks
  (no decoding, no pipeline).
Goals: >= 10x fewer requests than per point; >= 0.7 of the bare loop's registers/s.

    python bench/modbus.py [--quick]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _common import ROOT, parse, result

from adapters.modbus import ModbusAdapter, load_map
from adapters.modbus.config import ModbusConnection, ModbusDevice
from adapters.modbus.planner import plan
from hub.pipeline import Envelope, Pipeline
from tests.support.servers import free_port, wait_for_port

PER_PORT = 10


def synthetic_map(path: Path) -> None:
    """60 points: 6 runs of 10 (float32 and uint16 alternating runs), 4 unused registers apart."""
    points = []
    address = 0
    for run in range(6):
        dtype = "float32" if run % 2 == 0 else "uint16"
        for i in range(10):
            points.append(
                {
                    "id": f"p{run}_{i}",
                    "address": address,
                    "type": dtype,
                    "table": "holding",
                    "unit": "W",
                    "sim": {"mean": 100.0 + i},
                }
            )
            address += 2 if dtype == "float32" else 1
        address += 4
    path.write_text(
        yaml.safe_dump({"name": "bench", "max_block": 125, "max_gap": 8, "points": points})
    )


SERVER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from adapters.modbus import load_map
from adapters.modbus_sim import ModbusSimulator, SimulatedDevice
m = load_map({map!r})
devices = [SimulatedDevice(f"d{{i}}", port, (i % {per}) + 1, m)
           for i, port in enumerate({ports!r})]
async def main():
    sim = ModbusSimulator(devices)
    await sim.start()
    await asyncio.Event().wait()
asyncio.run(main())
"""


def devices(n: int, ports: list[int], rmap_path: Path) -> list[ModbusDevice]:
    rmap = load_map(str(rmap_path))
    out = []
    for i in range(n):
        conn = ModbusConnection(
            host="127.0.0.1",
            port=ports[i],
            unit=(i % PER_PORT) + 1,
            map=str(rmap_path),
            interval_s=3600,
            timeout_s=5,
        )
        points = tuple((f"d{i}.{p.id}", p) for p in rmap.points)
        out.append(ModbusDevice(f"d{i}", conn, rmap, points))
    return out


async def cycle(adapter: ModbusAdapter) -> tuple[float, int]:
    """Poll every device once (devices on one port share its queue); seconds, requests."""
    before = sum(c.requests for c in adapter.connections.values())
    started = time.perf_counter()
    await asyncio.gather(*(p.poll(p.groups) for p in adapter.pollers.values()))
    elapsed = time.perf_counter() - started
    return elapsed, sum(c.requests for c in adapter.connections.values()) - before


async def measure(devs: list[ModbusDevice], per_point: bool) -> tuple[float, int, int]:
    pipeline = Pipeline(maxsize=100_000)
    seen = 0

    async def count(batch: list[Envelope]) -> None:
        nonlocal seen
        seen += len(batch)

    pipeline.subscribe("count", count, max_batch=5000)  # type: ignore[arg-type]
    await pipeline.start()
    adapter = ModbusAdapter(devs, pipeline)
    if per_point:
        for poller in adapter.pollers.values():
            poller.breaks = {(s.table, s.address) for _, s in poller.device.points}
    await cycle(adapter)  # first cycle: connect, learn splits
    best = (float("inf"), 0)
    for _ in range(3):
        best = min(best, await cycle(adapter))
    registers = sum(
        r.count for p in adapter.pollers.values() for g in p.groups for r, _ in p._requests(g)
    )
    await adapter.stop()
    await pipeline.stop()
    return best[0], best[1], registers


async def bare(devs: list[ModbusDevice]) -> float:
    """The same blocks read by bare pymodbus clients, one per port, ports in parallel."""
    from pymodbus.client import AsyncModbusTcpClient

    blocks = {d.id: plan([s for _, s in d.points], max_block=d.max_block, max_gap=0) for d in devs}
    by_port: dict[int, list[ModbusDevice]] = {}
    for d in devs:
        by_port.setdefault(d.connection.port, []).append(d)
    clients = {}
    for port in by_port:
        c = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
        await c.connect()
        clients[port] = c

    async def one_port(port: int) -> int:
        n = 0
        for d in by_port[port]:
            for b in blocks[d.id]:
                r = await clients[port].read_holding_registers(
                    b.address, count=b.count, device_id=d.connection.unit
                )
                n += len(r.registers)
        return n

    best = 0.0
    for _ in range(4):
        started = time.perf_counter()
        regs = sum(await asyncio.gather(*(one_port(p) for p in by_port)))
        best = max(best, regs / (time.perf_counter() - started))
    for c in clients.values():
        c.close()
    return best


def main() -> None:
    args = parse(__doc__ or "")
    n = 50 if args.quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        map_path = Path(tmp) / "bench_map.yaml"
        synthetic_map(map_path)
        port_list = [free_port() for _ in range((n + PER_PORT - 1) // PER_PORT)]
        ports = [port_list[i // PER_PORT] for i in range(n)]
        script = SERVER.format(root=str(ROOT), map=str(map_path), per=PER_PORT, ports=ports)
        server = subprocess.Popen(
            [sys.executable, "-c", script],
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for p in port_list:
                wait_for_port(p, 60)
            devs = devices(n, ports, map_path)
            t_co, req_co, regs = asyncio.run(measure(devs, per_point=False))
            t_pp, req_pp, _ = asyncio.run(measure(devs, per_point=True))
            bare_rate = asyncio.run(bare(devs))
        finally:
            server.kill()
            server.wait()
    adapter_rate = regs / t_co
    print(f"devices x points:            {n} x 60 on {len(port_list)} gateway ports")
    print(f"coalesced cycle:             {req_co} requests, {t_co:.3f} s")
    print(f"one request per point:       {req_pp} requests, {t_pp:.3f} s")
    print(f"requests saved:              {req_pp / req_co:.1f}x fewer")
    print(f"adapter registers/s:         {adapter_rate:,.0f}")
    print(f"bare pymodbus registers/s:   {bare_rate:,.0f}")
    result(
        "modbus",
        adapter_rate,
        "registers/s",
        bare_rate,
        0.7,
        requests={
            "coalesced": req_co,
            "per_point": req_pp,
            "ratio": round(req_pp / req_co, 1),
            "goal": 10,
        },
        cycle_s={"coalesced": round(t_co, 3), "per_point": round(t_pp, 3)},
    )


if __name__ == "__main__":
    main()
