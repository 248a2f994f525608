"""The gate decision API under 100 concurrent terminals, beside a bare endpoint of the same
framework (FastAPI under uvicorn, one worker each, same client) in the same run.

Each terminal has a registered visitor car and asks for it in, then out, then in again (every
decision a real one: plate parsing and matching against the allow list and 200 expected cars,
anti-passback, the decision row written, the gate event published to the wall). Two
measurements per server:

- throughput: the 100 terminals ask as fast as they can (closed loop) — decisions/s;
- latency: the 100 terminals each ask once a second (100 decisions/s in all, far above a
  compound gate's real peak) — p50 / p99.

Goals: p99 < 20 ms; >= 0.5 of the bare endpoint's decisions/s. The bare endpoint is a plain
`def`, as most FastAPI endpoints (and most of the hub's) are: FastAPI runs it on its thread
pool, one thread hop a request. A third server, an `async def` endpoint behind the hub's
API-key authentication (which every hub endpoint must have), shows the floor an
authenticated call on the event loop starts from: the hub's decision route is `async`, and
its thread hop is one per batch of decisions, not one per request.

    python bench/gate.py [--quick]
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from _common import ROOT, parse, result, serve
from fastapi import FastAPI
from pydantic import BaseModel, Field

TERMINALS = 100
PROVINCE = "浙"


def plate(i: int) -> str:
    return f"{PROVINCE}A{i:05d}"


class DecideBody(BaseModel):
    """The decision request's body, as the hub takes it."""

    gate_id: str = Field(max_length=64)
    direction: Literal["in", "out"]
    plate: str | None = Field(None, max_length=32)
    qr: str | None = Field(None, max_length=4000)


def bare_decide(body: DecideBody) -> dict[str, Any]:
    """The same framework's floor: validate the same body, answer a constant decision."""
    return {"decision": "allow", "reason": "bare", "gate_id": body.gate_id}


def bare_server(port_q: Any) -> None:
    """A FastAPI app with only the bare endpoint."""
    app = FastAPI()
    app.post("/api/gate/decide")(bare_decide)
    serve(app, port_q, "")


ENTRIES = 10_000


def prepared_hub() -> tuple[Any, str]:
    """A hub with 200 visitor cars expected today and 500 staff plates listed, and a gate
    terminal's API key."""
    from hub.identity import Role
    from hub.identity.roles import Principal
    from hub.runtime import Hub, load_site_for_hub
    from hub.services.gate.visits import VisitorIn
    from hub.settings import Settings

    site = load_site_for_hub(ROOT / "hub" / "demo" / "site.yaml")
    data = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    settings = Settings(data_dir=data, secret_key="b" * 48, log_level="WARNING")
    hub = Hub(settings, site, factories=())
    hub.migrate()
    assert hub.ctx.visits is not None
    assert hub.ctx.gate is not None
    host = Principal("host", frozenset({Role.STAFF}), "u-edu")
    now = datetime.now(UTC)
    visit = hub.ctx.visits.register(
        host,
        purpose="benchmark",
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=6),
        visitors=[VisitorIn(f"访客{i}", plate=plate(i)) for i in range(200)],
        entries=ENTRIES,  # each car goes in and out all through the run
    )
    guard = Principal("guard", frozenset({Role.SECURITY}))
    if visit["status"] == "invited":  # a group this big waits (u-edu has no approver: security)
        hub.ctx.visits.decide(guard, visit["id"], True)
    for i in range(1000, 1500):
        hub.ctx.gate.list_plate(guard, plate(i), "allow")
    key = hub.ctx.identity.create_api_key("bench-terminal", Role.GATE_TERMINAL, actor="bench")[0]
    return hub, key


def hub_server(port_q: Any) -> None:
    """The hub's gate decision API."""
    hub, key = prepared_hub()
    serve(hub.app(), port_q, key)


def authenticated_bare_server(port_q: Any) -> None:
    """An `async` bare endpoint that authenticates the terminal's API key as every hub
    endpoint must (the hub's own guard and identity store), then answers a constant
    decision."""
    from fastapi import Depends

    from hub.api.deps import RoleGuard
    from hub.api.errors import install
    from hub.identity import Role

    hub, key = prepared_hub()
    app = FastAPI()
    app.state.ctx = hub.ctx
    install(app)
    guard = Depends(RoleGuard({Role.GATE_TERMINAL, Role.ADMIN}))

    async def decide(body: DecideBody) -> dict[str, Any]:
        return bare_decide(body)

    app.post("/api/gate/decide", dependencies=[guard])(decide)
    serve(app, port_q, key)


class Connection:
    """A lean HTTP/1.1 keep-alive client connection (a Python HTTP client library would be
    the bottleneck here, not the servers measured)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
    ) -> None:
        self.reader, self.writer = reader, writer
        self.head = (
            "POST /api/gate/decide HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {key}\r\nContent-Length: "
        ).encode()

    async def post(self, body: bytes) -> tuple[int, bytes]:
        self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


def terminals(port: int, key: str, seconds: float, paced: bool, out: Any) -> None:
    """100 terminals: each its own car, in then out; closed loop or once a second."""
    import orjson

    async def main() -> None:
        latencies: list[float] = []
        count = [0]

        async def terminal(i: int, stop: float) -> None:
            conn = Connection(*await asyncio.open_connection("127.0.0.1", port), key)
            direction = "in"
            nxt = time.perf_counter() + (i / TERMINALS if paced else 0.0)
            car = plate(i + (TERMINALS if paced else 0))  # each phase its own cars
            while True:
                if paced:
                    await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
                    nxt += 1.0
                if time.perf_counter() >= stop:
                    conn.writer.close()
                    return
                body = {"gate_id": "gate-main", "direction": direction, "plate": car}
                t0 = time.perf_counter()
                status, answer = await conn.post(orjson.dumps(body))
                latencies.append(time.perf_counter() - t0)
                if status != 200 or orjson.loads(answer)["decision"] != "allow":
                    raise RuntimeError(f"terminal {i}: {status} {answer[:200]!r}")
                count[0] += 1
                direction = "out" if direction == "in" else "in"

        t0 = time.perf_counter()
        await asyncio.gather(*(terminal(i, t0 + seconds) for i in range(TERMINALS)))
        out.put((count[0] / (time.perf_counter() - t0), latencies))

    asyncio.run(main())


def measure(server: Any, seconds: float) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    port_q = ctx.Queue()
    proc = ctx.Process(target=server, args=(port_q,), daemon=True)
    proc.start()
    port, key = port_q.get(timeout=120)
    figures: dict[str, float] = {}
    for paced in (False, True):
        out = ctx.Queue()
        client = ctx.Process(target=terminals, args=(port, key, seconds, paced, out), daemon=True)
        client.start()
        rate, latencies = out.get(timeout=seconds + 120)
        client.join(30)
        q = statistics.quantiles(latencies, n=100)
        if paced:
            figures.update(p50_ms=q[49] * 1000, p99_ms=q[98] * 1000)
        else:
            figures.update(per_s=rate, loaded_p99_ms=q[98] * 1000)
    proc.terminate()
    proc.join(30)
    return figures


def main() -> None:
    args = parse(__doc__.splitlines()[0])
    seconds = 5.0 if args.quick else 20.0
    bare = measure(bare_server, seconds)
    print(
        f"bare FastAPI endpoint: {bare['per_s']:,.0f}/s closed loop; at 100/s "
        f"p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    auth = measure(authenticated_bare_server, seconds)
    print(
        f"async + API-key auth:  {auth['per_s']:,.0f}/s closed loop; at 100/s "
        f"p50 {auth['p50_ms']:.1f} ms, p99 {auth['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    hub = measure(hub_server, seconds)
    print(
        f"hub gate decisions:    {hub['per_s']:,.0f}/s closed loop "
        f"(p99 {hub['loaded_p99_ms']:.0f} ms with 100 in flight); "
        f"at 100/s p50 {hub['p50_ms']:.1f} ms, p99 {hub['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    result(
        "gate",
        hub["per_s"],
        "decisions/s (100 terminals, closed loop)",
        bare["per_s"],
        0.5,
        p50_ms=round(hub["p50_ms"], 2),
        p99_ms=round(hub["p99_ms"], 2),
        p99_goal_ms=20,
        paced_per_s=TERMINALS,
        loaded_p99_ms=round(hub["loaded_p99_ms"], 1),
        bare_p99_ms=round(bare["p99_ms"], 2),
        authenticated_bare_per_s=round(auth["per_s"], 1),
        ratio_to_authenticated_bare=round(hub["per_s"] / auth["per_s"], 3),
        seconds=seconds,
    )


if __name__ == "__main__":
    main()
