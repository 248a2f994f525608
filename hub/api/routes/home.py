"""The front door: a person's home (their things, what waits for their approval, their
queues, their unread messages)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter

from hub.api.deps import Ctx, allow
from hub.api.public import HomePublic
from hub.identity.roles import PEOPLE, Principal

router = APIRouter(prefix="/api/home", tags=["home"])
# Homes are made on two threads of their own: the thread pool's forty, all making homes at
# the start of the day, contended for the interpreter and the database's connections and
# made each home slower (bench/home.py: 100 homes/s then, 150 with these two)
_HOMES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="home")


@router.get("", response_model=HomePublic, summary="My home")
async def home(ctx: Ctx, who: Annotated[Principal, allow(PEOPLE)]) -> dict[str, Any]:
    """Meetings, car requests (a driver's trips), visitors expected, repairs reported; what
    waits for this person's approval; their queues' counts; their unread messages."""
    return await asyncio.get_running_loop().run_in_executor(_HOMES, ctx.home.for_person, who)
