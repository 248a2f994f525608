"""The demo's gate: a few visitors invited for today, arriving and leaving through the main
gate on their own (a car read by the camera, a QR pass scanned), so the wall shows gate
traffic; one car with an unregistered plate is refused now and then."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import UTC, datetime, timedelta

from hub.context import HubContext
from hub.identity.roles import Principal, Role
from hub.services.gate.queue import Presented
from hub.services.gate.visits import VisitorIn
from hub.tasks import cancel

log = logging.getLogger(__name__)
HOST = Principal("staff", frozenset({Role.STAFF}), "u-office")
VISITORS = [
    VisitorIn("王小明", "13800000001", company="某某科技公司", plate="浙A10315"),
    VisitorIn("李华", "13800000002", company="市规划设计院"),
    VisitorIn("张伟", "13800000003", company="区融媒体中心", plate="浙B2E8K1"),
    VisitorIn("陈静", "13800000004", company="某某会计师事务所"),
]


class DemoGate:
    """A hub component: invites the demo's visitors, then every `every_s` seconds one of
    them passes the main gate (in, later out), and sometimes a stranger's car is refused."""

    name = "demo_gate"

    def __init__(self, ctx: HubContext, every_s: float = 20.0) -> None:
        self._ctx = ctx
        self._every = every_s
        self._task: asyncio.Task[None] | None = None
        self.passages = 0

    async def start(self) -> None:
        """Invite the visitors for today, then start walking them through the gate."""
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        visits, gate = self._ctx.visits, self._ctx.gate
        if visits is None or gate is None:
            return
        now = datetime.now(UTC)
        visit = await asyncio.to_thread(
            lambda: visits.register(
                HOST,
                purpose="项目洽谈（演示）",
                start=now,
                end=now + timedelta(hours=8),
                visitors=VISITORS,
                entries=100,
            )
        )
        people = visit["visitors"]
        tokens = {
            p["id"]: (await asyncio.to_thread(visits.pass_token, HOST, p["id"]))["token"]
            for p in people
        }
        inside: set[int] = set()
        rng = random.Random(7)  # noqa: S311 - a demo's visitors, not a secret
        while True:
            await asyncio.sleep(self._every)
            with contextlib.suppress(Exception):  # a demo: never stop the hub for it
                if rng.random() < 0.2:
                    await gate.queue.decide(
                        Presented("demo-camera", "gate-main", "in", plate="沪C99999")
                    )
                    continue
                p = rng.choice(people)
                direction = "out" if p["id"] in inside else "in"
                if p.get("plate"):
                    read = p["plate"].replace("0", "O") if rng.random() < 0.5 else p["plate"]
                    await gate.queue.decide(
                        Presented("demo-camera", "gate-main", direction, plate=read)
                    )
                else:
                    await gate.queue.decide(
                        Presented("demo-scanner", "gate-main", direction, qr=tokens[p["id"]])
                    )
                inside ^= {p["id"]}
                self.passages += 1

    async def stop(self) -> None:
        """Stop walking."""
        if self._task is not None:
            await cancel([self._task])

    def health(self) -> dict[str, object]:
        """How many passages it made."""
        return {"status": "ok", "passages": self.passages}
