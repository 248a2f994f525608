"""The hub's full health answer, as an administrator's key reads it (anonymous callers get
only up/degraded/down)."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient

from hub.context import HubContext
from hub.identity import Role

_KEYS: dict[int, str] = {}
_SERIAL = itertools.count()


def admin_key(ctx: HubContext) -> str:
    """An admin API key for this hub (made once)."""
    if id(ctx) not in _KEYS:
        name = f"health-check-{next(_SERIAL)}"
        _KEYS[id(ctx)] = ctx.identity.create_api_key(name, Role.ADMIN, actor="test")[0]
    return _KEYS[id(ctx)]


def full_health(client: TestClient) -> dict[str, Any]:
    """GET /api/health of the client's hub with an administrator's key."""
    ctx: HubContext = client.app.state.ctx  # type: ignore[attr-defined]
    body: dict[str, Any] = client.get("/api/health", headers={"X-API-Key": admin_key(ctx)}).json()
    return body
