"""The live websocket: a snapshot on connect, then every change."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from hub.api.deps import WsAuth, WsGuard
from hub.api.errors import problem
from hub.identity.roles import VIEWERS

router = APIRouter(tags=["live"])


@router.websocket("/ws")
async def live(websocket: WebSocket, auth: Annotated[WsAuth, Depends(WsGuard(VIEWERS))]) -> None:
    """Authenticate (`?token=`), send `{"type":"snapshot"}`, then `{"type":"delta"}` frames of
    changes coalesced per entity (docs/api.md, "Live websocket").

    A refused handshake answers with an HTTP 401 or 403 problem, not an upgrade.
    """
    if auth.principal is None:
        err = auth.error
        status = err.status if err else 401
        await websocket.send_denial_response(
            problem(status, "Unauthorized" if status == 401 else "Forbidden", str(err))
        )
        return
    live_hub = websocket.app.state.ctx.live
    await websocket.accept()
    client, snapshot = live_hub.connect(auth.principal.name)
    try:
        await websocket.send_text(snapshot)

        async def drain_incoming() -> None:
            # Clients only listen; reading notices when they go away.
            while True:
                await websocket.receive_text()

        tasks = [
            asyncio.create_task(client.pump(websocket.send_text)),
            asyncio.create_task(drain_incoming()),
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
