"""The live websocket: a snapshot on connect, then every change."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from hub.api.deps import WsAuth, WsGuard
from hub.api.errors import problem
from hub.identity.roles import PEOPLE, VIEWERS

router = APIRouter(tags=["live"])

WATCH_S = 0.5  # how often a socket looks for a change to users or keys made here
RECHECK_S = 5.0  # how often it asks the database anyway (changes made by other workers)
WS_REVOKED = 4401  # close code: the credential no longer admits its holder (docs/api.md)


@router.websocket("/ws")
async def live(
    websocket: WebSocket, auth: Annotated[WsAuth, Depends(WsGuard(VIEWERS | PEOPLE))]
) -> None:
    """Authenticate (`?token=`), send `{"type":"snapshot"}`, then `{"type":"delta"}` frames of
    changes coalesced per entity (docs/api.md, "Live websocket"). Operators and screens get
    the shared feed; other people (staff) only their own messages (the inbox's count).

    A refused handshake answers with an HTTP 401 or 403 problem, not an upgrade.
    """
    if auth.principal is None:
        err = auth.error
        status = err.status if err else 401
        await websocket.send_denial_response(
            problem(status, "Unauthorized" if status == 401 else "Forbidden", str(err))
        )
        return
    ctx = websocket.app.state.ctx
    live_hub = ctx.live
    await websocket.accept()
    shared = auth.principal.has_any(VIEWERS)
    admits = VIEWERS if shared else PEOPLE
    client, snapshot = live_hub.connect(auth.principal.name, shared=shared)
    try:
        await websocket.send_text(snapshot)

        async def drain_incoming() -> None:
            # Clients only listen; reading notices when they go away.
            while True:
                await websocket.receive_text()

        async def watch_credential() -> None:
            # A revoked token or a deactivated user must not keep the feed: re-check at once
            # after a change made through this hub, and every RECHECK_S for other workers'.
            identity = ctx.identity
            seen, last = identity.generation, time.monotonic()
            while True:
                await asyncio.sleep(WATCH_S)
                if identity.generation == seen and time.monotonic() - last < RECHECK_S:
                    continue
                seen, last = identity.generation, time.monotonic()
                if not await auth.still_valid(ctx, admits):
                    await websocket.close(code=WS_REVOKED, reason="credential revoked")
                    return

        tasks = [
            asyncio.create_task(client.pump(websocket.send_text)),
            asyncio.create_task(drain_incoming()),
            asyncio.create_task(watch_credential()),
        ]
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await t
    except (WebSocketDisconnect, RuntimeError):
        pass  # gone before the snapshot was written
    finally:
        live_hub.disconnect(client)
