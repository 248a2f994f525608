"""The front door: a person's home (their things, what waits for their approval, their
queues, their unread messages)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter

from hub.api.deps import Ctx, allow
from hub.api.public import HomePublic
from hub.identity.roles import PEOPLE, Principal

router = APIRouter(prefix="/api/home", tags=["home"])


@router.get("", response_model=HomePublic, summary="My home")
async def home(ctx: Ctx, who: Annotated[Principal, allow(PEOPLE)]) -> dict[str, Any]:
    """Meetings, car requests (a driver's trips), visitors expected, repairs reported; what
    waits for this person's approval; their queues' counts; their unread messages."""
    return await asyncio.to_thread(ctx.home.for_person, who)
