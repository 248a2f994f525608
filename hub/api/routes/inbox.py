"""A person's inbox: what happened to their things, read or not (the unread count also comes
live over the websocket as an `inbox` message)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from hub.api.deps import Ctx, allow
from hub.api.public import InboxCount, InboxMessagePublic
from hub.api.schemas import In
from hub.identity.roles import PEOPLE, Principal

router = APIRouter(prefix="/api/inbox", tags=["inbox"])

Person = Annotated[Principal, allow(PEOPLE)]
MessageId = Annotated[int, Field(ge=1, le=2**31 - 1)]  # a database id (PostgreSQL's integer)


class MarkRead(In):
    """Which messages were read: `ids`, or all of them when none are given."""

    ids: list[MessageId] | None = Field(None, max_length=500)


@router.get("", response_model=list[InboxMessagePublic], summary="My messages")
def messages(
    ctx: Ctx,
    who: Person,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[dict[str, Any]]:
    """The signed-in person's messages, newest first (`before`: older than this id)."""
    return ctx.inbox.messages(who.name, unread_only=unread, limit=limit, before=before)


@router.get("/count", response_model=InboxCount, summary="How many are unread")
def count(ctx: Ctx, who: Person) -> dict[str, int]:
    """The unread count (the badge)."""
    return {"unread": ctx.inbox.unread(who.name)}


@router.post("/read", response_model=InboxCount, summary="Mark messages read")
async def mark_read(ctx: Ctx, body: MarkRead, who: Person) -> dict[str, int]:
    """Mark some (or all) of the person's messages read; the unread count after, which also
    goes to the person's other open pages."""
    unread = await asyncio.to_thread(ctx.inbox.mark_read, who.name, body.ids)
    ctx.live.tell(who.name, {"type": "inbox", "key": who.name, "unread": unread})
    return {"unread": unread}
