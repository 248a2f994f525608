"""The canteen's lunchtime rush: 1,000 staff ordering in the last minute before the cut-off,
through the hub's HTTP API (signed in, every order checked: the cut-off, the quota, the menu,
portions held atomically against each dish's limit, the audit entry), beside a bare insert
of the same order (the same framework, body and database, one INSERT of the order and its
lines, nothing checked) in the same run.

Two measurements per server, with 100 people's phones connected at once:

- throughput: the 1,000 orders as fast as they come (closed loop) — orders/s;
- latency: the 1,000 orders spread over the last minute (`--quick`: 20 s) — p50 / p99.

Goals: >= 0.5 of the bare insert's orders/s; p99 < 100 ms. Some dishes have a limit of 60
portions: the orders past it are refused (409) as they would be at lunchtime, counted apart.

    python bench/canteen.py [--quick]
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import ROOT, parse, result, serve
from fastapi import FastAPI
from pydantic import BaseModel, Field

PEOPLE = 1000
PHONES = 100
DISHES = 12
LIMITED = 60  # portions of each of the first four dishes


class LineBody(BaseModel):
    item_id: int = Field(ge=1)
    portions: int = Field(ge=0, le=50)


class OrderBody(BaseModel):
    lines: list[LineBody] = Field(max_length=50)


def tomorrow() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)


def prepared(data: Path) -> tuple[Any, list[str], list[int]]:
    """A hub with tomorrow's lunch on the menu and 1,000 staff with their tokens (rows
    written directly: hashing a thousand passwords is not what is measured)."""
    from hub.identity import Role, tokens
    from hub.identity.roles import Principal
    from hub.runtime import Hub, load_site_for_hub
    from hub.services.canteen import ItemIn
    from hub.settings import Settings
    from hub.storage.models import User, UserRole

    site = load_site_for_hub(ROOT / "hub" / "demo" / "site.yaml")
    settings = Settings(data_dir=data, secret_key="b" * 48, log_level="WARNING")
    hub = Hub(settings, site, factories=())
    hub.migrate()
    cook = Principal("cook", frozenset({Role.CANTEEN}), "u-logistics")
    day = tomorrow()
    items = hub.ctx.canteen.menu.publish(  # lunch for the rush, dinner for the paced minute
        cook,
        "main",
        [
            ItemIn(
                day=day,
                meal=meal,
                name=f"菜品{n}",
                price_cents=800 + 100 * n,
                portions=LIMITED if n < 4 else None,
            )
            for meal in ("lunch", "dinner")
            for n in range(DISHES)
        ],
    )
    units = [u.id for u in site.work_units]
    with hub.ctx.db.session() as s:
        for i in range(2 * PEOPLE):
            user = User(
                username=f"staff{i:04d}", password_hash="-", work_unit=units[i % len(units)]
            )
            user.roles = [UserRole(role=Role.STAFF.value)]
            s.add(user)
    secret = settings.resolve_secret()
    minted = [
        tokens.issue_token(secret, f"staff{i:04d}", 0, timedelta(hours=2))
        for i in range(2 * PEOPLE)
    ]
    return hub, minted, [i["id"] for i in items]  # lunch's dishes, then dinner's


def hub_server(port_q: Any) -> None:
    """The hub's order API."""
    hub, minted, items = prepared(Path(tempfile.mkdtemp(prefix="bench-canteen-")))
    serve(hub.app(), port_q, minted, items)


def bare_server(port_q: Any) -> None:
    """The same route, body and database: the order and its lines inserted, nothing checked
    and nobody authenticated."""
    from hub.services.canteen.orders import new_code
    from hub.storage.models import MealOrder, OrderLine

    hub, minted, items = prepared(Path(tempfile.mkdtemp(prefix="bench-canteen-bare-")))
    db = hub.ctx.db
    app = FastAPI()
    counter = iter(range(10**9))

    @app.put("/api/canteens/{canteen}/orders/{day}/{meal}")
    def bare(canteen: str, day: date, meal: str, body: OrderBody) -> dict[str, Any]:
        with db.session() as s:
            o = MealOrder(
                canteen=canteen,
                day=day,
                meal=meal,
                username=f"bare{next(counter)}",
                code=new_code(),
                status="ordered",
            )
            s.add(o)
            s.flush()
            for line in body.lines:
                s.add(
                    OrderLine(
                        order_id=o.id, item_id=line.item_id, portions=line.portions, price_cents=900
                    )
                )
            return {"id": o.id, "status": "ordered"}

    serve(app, port_q, minted, items)


async def put(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, token: str, body: bytes
) -> int:
    """One PUT on a kept-alive connection; the status."""
    writer.write(
        (
            f"PUT {path} HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
    )
    line = await reader.readline()
    if not line:  # the server closed an idle connection (keep-alive timeout)
        raise ConnectionResetError
    status = int(line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


def phones(port: int, minted: list[str], items: list[int], spread_s: float, out: Any) -> None:
    """100 phones share 1,000 people; each person orders a main dish and rice once. `spread_s`:
    the orders spread evenly over that many seconds (0: as fast as they come, for lunch, by
    the first thousand people; else for dinner, by the next thousand)."""
    import orjson

    meal = "dinner" if spread_s else "lunch"
    if spread_s:
        minted, items = minted[PEOPLE:], items[DISHES:]
    else:
        minted, items = minted[:PEOPLE], items[:DISHES]
    path = f"/api/canteens/main/orders/{tomorrow().isoformat()}/{meal}"
    rng = random.Random(7)
    baskets = [
        orjson.dumps(
            {
                "lines": [
                    {"item_id": rng.choice(items[:8]), "portions": 1},
                    {"item_id": items[-1], "portions": 1},
                ]
            }
        )
        for _ in range(PEOPLE)
    ]

    async def main() -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        start = time.perf_counter() + 0.5

        async def phone(k: int) -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for person in range(k, PEOPLE, PHONES):
                if spread_s:
                    await asyncio.sleep(
                        max(0.0, start + spread_s * person / PEOPLE - time.perf_counter())
                    )
                t0 = time.perf_counter()
                try:
                    status = await put(reader, writer, path, minted[person], baskets[person])
                except ConnectionResetError:  # a phone idle past keep-alive connects again
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    status = await put(reader, writer, path, minted[person], baskets[person])
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
                if status not in (200, 409):
                    raise RuntimeError(f"person {person}: HTTP {status}")
            writer.close()

        t0 = time.perf_counter()
        await asyncio.gather(*(phone(k) for k in range(PHONES)))
        out.put((PEOPLE / (time.perf_counter() - t0), latencies, statuses))

    asyncio.run(main())


def measure(server: Any, spread_s: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    figures: dict[str, Any] = {}
    port_q = ctx.Queue()
    proc = ctx.Process(target=server, args=(port_q,), daemon=True)
    proc.start()
    port, minted, items = port_q.get(timeout=180)
    for spread in (0.0, spread_s):  # lunch's rush, then dinner's minute (their own dishes)
        out = ctx.Queue()
        client = ctx.Process(target=phones, args=(port, minted, items, spread, out), daemon=True)
        client.start()
        rate, latencies, statuses = out.get(timeout=spread + 300)
        client.join(30)
        q = statistics.quantiles(latencies, n=100)
        if spread:
            figures.update(p50_ms=q[49] * 1000, p99_ms=q[98] * 1000, paced_statuses=statuses)
        else:
            figures.update(per_s=rate, loaded_p99_ms=q[98] * 1000, statuses=statuses)
    proc.terminate()
    proc.join(30)
    return figures


def main() -> None:
    args = parse(__doc__.splitlines()[0])
    spread = 15.0 if args.quick else 60.0
    bare = measure(bare_server, spread)
    print(
        f"bare insert:  {bare['per_s']:,.0f} orders/s closed loop; over {spread:.0f} s "
        f"p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    hub = measure(hub_server, spread)
    refused = hub["statuses"].get(409, 0)
    print(
        f"hub orders:   {hub['per_s']:,.0f} orders/s closed loop "
        f"(p99 {hub['loaded_p99_ms']:.0f} ms with 100 in flight; {refused} refused past a "
        f"dish's limit); over {spread:.0f} s "
        f"p50 {hub['p50_ms']:.1f} ms, p99 {hub['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    result(
        "canteen",
        hub["per_s"],
        "orders/s (1,000 people, 100 phones, closed loop)",
        bare["per_s"],
        0.5,
        p50_ms=round(hub["p50_ms"], 2),
        p99_ms=round(hub["p99_ms"], 2),
        p99_goal_ms=100,
        spread_s=spread,
        loaded_p99_ms=round(hub["loaded_p99_ms"], 1),
        refused_past_limit=refused,
        bare_p99_ms=round(bare["p99_ms"], 2),
    )


if __name__ == "__main__":
    main()
