"""The live websocket under load: 200 clients while 2,000 fixes/s arrive.

Two servers, one after the other, each in its own process, fed the same fixes and read by the
same 200 clients (two client processes):

- baseline: a bare `websockets` server that `broadcast()`s every fix, as the hub's live
  message, to every client the moment it arrives (no coalescing, no hub);
- hub: the whole hub (pipeline with the location stage, rules, telemetry store, live view)
  with 1,000 tracked vehicles; fixes enter its pipeline and reach the clients through `/ws`,
  coalesced per vehicle and sent `rate_hz` times a second in one shared frame.

Each client counts the position updates it receives (a change in a hub frame counts as one,
like one broadcast message) and samples the delay from a fix's ingest (its `ts`) to its
arrival. Figures: updates delivered per second over all clients, p50 / p99 latency.
Goals: p99 < 300 ms; >= 0.7 of the baseline's deliveries/s.

    python bench/ws.py [--quick]
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import ROOT, parse, result

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "200"))
CLIENT_PROCESSES = 2
VEHICLES = 1000
RATE = 2000  # fixes per second
SAMPLE_EVERY = 20  # vehicles whose updates are timed: v0, v20, v40, ...
LIVE_HZ = float(os.environ.get("BENCH_LIVE_HZ", "10"))  # the hub's live rate (its default)


def fixes_forever(publish: Any) -> Any:
    """A coroutine publishing RATE fixes a second round-robin over the vehicles, each carrying
    its ingest time as `ts`; `publish(i, lat, lon, ts)` hands one to the server."""

    async def run() -> None:
        step = 0.01
        per_step = int(RATE * step)
        n = 0
        start = time.perf_counter()
        while True:
            for _ in range(per_step):
                v = n % VEHICLES
                lap = n // VEHICLES
                lat = 30.2590 + (v % 40) * 0.00005 + (lap % 50) * 1e-6
                lon = 120.1290 + (v // 40) * 0.00005
                publish(v, lat, lon, datetime.now(UTC))
                n += 1
            start += step
            await asyncio.sleep(max(0.0, start - time.perf_counter()))

    return run()


# -- servers (each in its own process) ---------------------------------------------------------
def baseline_server(port_q: Any, go: Any) -> None:
    """websockets' own server and broadcast(): every fix to every client at once."""
    import orjson
    from websockets.asyncio.server import broadcast, serve

    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    def publish(v: int, lat: float, lon: float, ts: datetime) -> None:
        msg = {
            "type": "position",
            "key": f"v{v}",
            "subject_id": f"v{v}",
            "subject_kind": "vehicle",
            "ts": ts.isoformat(),
            "source": "bench",
            "lat": lat,
            "lon": lon,
        }
        broadcast(clients, orjson.dumps(msg).decode())

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, compression=None) as server:
            port_q.put((server.sockets[0].getsockname()[1], ""))
            await asyncio.to_thread(go.wait)
            await fixes_forever(publish)

    asyncio.run(main())


def hub_server(port_q: Any, go: Any) -> None:
    """The hub, its /ws served by uvicorn, fixes entering its pipeline."""
    import uvicorn

    from hub.domain import PositionFix, SubjectKind
    from hub.identity import Role
    from hub.runtime import Hub, load_site_for_hub
    from hub.settings import Settings
    from hub.site.model import Vehicle

    site = load_site_for_hub(ROOT / "hub" / "demo" / "site.yaml")
    vehicles = [
        Vehicle(id=f"v{i}", plate=f"浙A{i:05d}", tracker=f"trk-{i}") for i in range(VEHICLES)
    ]
    site = site.model_copy(update={"vehicles": vehicles})
    data = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    settings = Settings(
        data_dir=data, secret_key="b" * 48, log_level="WARNING", live={"rate_hz": LIVE_HZ}
    )
    hub = Hub(settings, site, factories=())
    server = uvicorn.Server(
        uvicorn.Config(
            hub.app(), host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio"
        )
    )
    trackers = [f"trk-{i}" for i in range(VEHICLES)]

    def publish(v: int, lat: float, lon: float, ts: datetime) -> None:
        fix = PositionFix(trackers[v], SubjectKind.VEHICLE, ts, "bench", lat=lat, lon=lon)
        hub.pipeline.publish_nowait("bench", fix)

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        hub.ctx.identity.ensure_user("bench-wall", "bench password 1", [Role.DISPLAY])
        token = hub.ctx.identity.login("bench-wall", "bench password 1", purpose="display")
        port_q.put((port, token))
        await asyncio.to_thread(go.wait)
        feeding = asyncio.create_task(fixes_forever(publish))
        await serving
        feeding.cancel()

    asyncio.run(main())


# -- clients ---------------------------------------------------------------------------------
def clients_process(url: str, n: int, ready: Any, stop: Any, out: Any) -> None:
    """`n` websocket clients; reports (deliveries after warm-up, seconds, latency samples)."""
    import orjson
    from websockets.asyncio.client import connect

    sampled = {f"v{i}" for i in range(0, VEHICLES, SAMPLE_EVERY)}
    counted = [0]
    samples: list[float] = []
    window: dict[str, float] = {}

    def take(change: dict[str, Any], now: float) -> None:
        if change.get("type") != "position":
            return
        if "start" in window:
            counted[0] += 1
            if change["key"] in sampled:
                sent = datetime.fromisoformat(change["ts"]).timestamp()
                samples.append(now - sent)

    async def one(opened: list[int]) -> None:
        async with connect(url, max_size=None, compression=None) as ws:
            opened.append(1)
            async for raw in ws:
                now = time.time()
                msg = orjson.loads(raw)
                kind = msg.get("type")
                if kind == "delta":
                    for change in msg["changes"]:
                        take(change, now)
                elif kind == "position":
                    take(msg, now)

    async def main() -> None:
        opened: list[int] = []
        tasks = [asyncio.create_task(one(opened)) for _ in range(n)]
        while len(opened) < n:
            await asyncio.sleep(0.05)
        ready.put(n)
        await asyncio.to_thread(stop["warm"].wait)
        window["start"] = time.perf_counter()
        await asyncio.to_thread(stop["end"].wait)
        seconds = time.perf_counter() - window.pop("start")
        out.put((counted[0], seconds, samples))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def run(server: Any, path: str, seconds: float) -> dict[str, float]:
    """One server under the clients; its deliveries/s and latency."""
    ctx = mp.get_context("spawn")
    port_q, go = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=server, args=(port_q, go), daemon=True)
    proc.start()
    port, token = port_q.get(timeout=120)
    url = f"ws://127.0.0.1:{port}{path}" + (f"?token={token}" if token else "")
    ready, out = ctx.Queue(), ctx.Queue()
    stop = {"warm": ctx.Event(), "end": ctx.Event()}
    per = CLIENTS // CLIENT_PROCESSES
    procs = [
        ctx.Process(target=clients_process, args=(url, per, ready, stop, out), daemon=True)
        for _ in range(CLIENT_PROCESSES)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()
    time.sleep(2.0)  # warm-up: the first frames and the clients' first parses are not counted
    stop["warm"].set()
    time.sleep(seconds)
    stop["end"].set()
    counted, latencies, spans = 0, [], []
    for _ in procs:
        n, span, samples = out.get(timeout=120)
        counted += n
        spans.append(span)
        latencies.extend(samples)
    for p in procs:
        p.join(30)
    proc.terminate()
    proc.join(30)
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [float("nan")] * 99
    return {
        "per_s": counted / max(spans),
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "samples": len(latencies),
    }


def main() -> None:
    args = parse(__doc__.splitlines()[0])
    seconds = 6.0 if args.quick else 20.0
    offered = RATE * CLIENTS
    base = run(baseline_server, "/", seconds)
    print(
        f"baseline (websockets broadcast): {base['per_s']:,.0f} updates/s delivered of "
        f"{offered:,} offered, p50 {base['p50_ms']:.1f} ms, p99 {base['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    hub = run(hub_server, "/ws", seconds)
    print(
        f"hub (/ws, coalesced {LIVE_HZ:g} Hz):      {hub['per_s']:,.0f} updates/s delivered of "
        f"{offered:,} offered, p50 {hub['p50_ms']:.1f} ms, p99 {hub['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    result(
        "ws",
        hub["per_s"],
        "position updates delivered/s (200 clients, 2,000 fixes/s)",
        base["per_s"],
        0.7,
        p50_ms=round(hub["p50_ms"], 1),
        p99_ms=round(hub["p99_ms"], 1),
        p99_goal_ms=300,
        baseline_p50_ms=round(base["p50_ms"], 1),
        baseline_p99_ms=round(base["p99_ms"], 1),
        offered_per_s=offered,
        live_rate_hz=LIVE_HZ,
        seconds=seconds,
    )


if __name__ == "__main__":
    main()
