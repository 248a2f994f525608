"""Request dependencies: the hub context, and role guards every route declares.

Every HTTP route either depends on a `RoleGuard` or is marked public with `PUBLIC`; the app
refuses to build otherwise (see `hub.api.openapi.check_routes`), and a test walks every route ×
role.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import date as _date
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request, WebSocket
from pydantic import AfterValidator, AwareDatetime
from starlette.concurrency import run_in_threadpool

from hub.context import HubContext
from hub.errors import Forbidden, HubError, Unauthorized
from hub.identity.roles import Principal, Role

# Marks a route that needs no authentication (health, sign-in).
T = TypeVar("T")
PUBLIC: dict[str, Any] = {"x-public": True}


def ctx_of(request: Request) -> HubContext:
    """The hub context the app was built with."""
    ctx: HubContext = request.app.state.ctx
    return ctx


async def get_ctx(request: Request) -> HubContext:
    """`ctx_of` as a dependency (async: a sync one would cost every request a thread hop)."""
    return ctx_of(request)


Ctx = Annotated[HubContext, Depends(get_ctx)]

# A row's number in a path: what the databases can hold (a bigger one is a 422, not a 500)
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _plausible(t: _date) -> _date:
    if not 2000 <= t.year <= 2199:  # year 1 or 9999 would overflow the arithmetic on it: 422
        raise ValueError("a time between the years 2000 and 2199")
    return t


# Times and days people and pages send (query parameters, request bodies): aware, plausible
When = Annotated[AwareDatetime, AfterValidator(_plausible)]
Day = Annotated[_date, AfterValidator(_plausible)]


def credentials(request: Request | WebSocket) -> tuple[str | None, str | None]:
    """The request's bearer token (`Authorization: Bearer …`) and API key (`X-API-Key`).

    Read from the headers directly: as FastAPI security dependencies under every route they
    cost each request two more dependencies to solve, a third of the gate's decision time.
    The OpenAPI document names both schemes (`hub.api.openapi`)."""
    headers = request.headers
    scheme, _, token = headers.get("authorization", "").partition(" ")
    bearer = token if scheme.lower() == "bearer" and token else None
    return bearer, headers.get("x-api-key") or None


def client_of(request: Request | WebSocket) -> str:
    """The client's address (the proxy's X-Forwarded-For where uvicorn trusts it)."""
    return request.client.host if request.client else ""


def guarded_authenticate(
    ctx: HubContext, bearer: str | None, api_key: str | None, client: str
) -> Principal:
    """`authenticate`, with wrong API keys counted per address and an address that guessed
    too often refused (429) before the lookup."""
    key = api_key or (bearer if bearer and bearer.startswith("dyh_") else None)
    if not key:
        return authenticate(ctx, bearer, api_key)
    with guessing(ctx, client, "api_key", Unauthorized):
        return authenticate(ctx, bearer, api_key)


@contextmanager
def guessing(
    ctx: HubContext, client: str, what: str, wrong: type[HubError], key: str | None = None
) -> Iterator[None]:
    """Around a lookup by something a client could guess (an API key, a follow-up code): an
    address that guessed too often is refused (429) first, and a `wrong` answer (of catalogue
    key `key`, when given) counts as a guess from `client`."""
    ctx.identity.check_guess(client)
    try:
        yield
    except wrong as err:
        if key is None or err.key == key:
            ctx.identity.guessed(client, what)
        raise


def authenticate(ctx: HubContext, bearer: str | None, api_key: str | None) -> Principal:
    """The principal of a bearer token or API key (a bearer token that looks like a key works)."""
    if api_key:
        return ctx.identity.principal_from_api_key(api_key)
    if bearer:
        if bearer.startswith("dyh_"):
            return ctx.identity.principal_from_api_key(bearer)
        return ctx.identity.principal_from_token(bearer)
    raise Unauthorized("authentication required")


class RoleGuard:
    """A dependency that admits a principal holding one of `roles`.

    `query_key` also takes an API key as `?key=` (for trackers that can't set headers; a key
    in a URL ends up in logs, so only routes that need it allow it); a name instead of True
    takes it under that name, from the query or a form body (Open311's `api_key`).
    """

    def __init__(self, roles: Iterable[Role], *, query_key: bool | str = False) -> None:
        self.roles = frozenset(roles)
        self.key_param = "key" if query_key is True else (query_key or None)

    async def __call__(self, request: Request) -> Principal:
        bearer, api_key = credentials(request)
        if self.key_param and not api_key and not bearer:
            api_key = await _key_param(request, self.key_param)
        ctx = ctx_of(request)
        credential = api_key or bearer
        # a credential seen moments ago costs no database round trip (nor a thread hop)
        principal = ctx.identity.remembered(credential) if credential else None
        if principal is None:
            client = client_of(request)
            principal = await run_in_threadpool(guarded_authenticate, ctx, bearer, api_key, client)
        if not principal.has_any(self.roles):
            raise Forbidden("your role may not do this")
        request.state.principal = principal
        return principal


async def _key_param(request: Request, name: str) -> str | None:
    """An API key sent as a parameter: in the query, or in a form body."""
    key = request.query_params.get(name)
    kind = request.headers.get("content-type", "")
    if key is None and kind.startswith(("application/x-www-form-urlencoded", "multipart/")):
        value = (await request.form()).get(name)  # Starlette keeps the form for the route
        key = value if isinstance(value, str) else None
    return key


def allow(*roles: Role | Iterable[Role], query_key: bool | str = False) -> Any:
    """`Annotated[Principal, allow(...)]`: admit these roles (or role groups)."""
    flat: set[Role] = set()
    for r in roles:
        flat |= {r} if isinstance(r, Role) else set(r)
    return Depends(RoleGuard(flat, query_key=query_key))


@dataclass(frozen=True, slots=True)
class WsAuth:
    """The outcome of authenticating a websocket handshake."""

    principal: Principal | None
    error: HubError | None
    bearer: str | None = None
    api_key: str | None = None

    async def still_valid(self, ctx: HubContext, roles: frozenset[Role]) -> bool:
        """Whether the credential the socket opened with still admits its holder (revoked,
        deactivated, expired or stripped of the role: no)."""
        try:
            principal = await run_in_threadpool(authenticate, ctx, self.bearer, self.api_key)
        except HubError:
            return False
        return principal.has_any(roles)


class WsGuard:
    """Like RoleGuard for websockets: the token comes as `?token=` (browsers can't set headers)."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, websocket: WebSocket) -> WsAuth:
        ctx: HubContext = websocket.app.state.ctx
        bearer, api_key = credentials(websocket)
        bearer = bearer or websocket.query_params.get("token")
        try:
            principal = await run_in_threadpool(
                guarded_authenticate, ctx, bearer, api_key, client_of(websocket)
            )
        except HubError as err:
            return WsAuth(None, err)
        if not principal.has_any(self.roles):
            return WsAuth(None, Forbidden("your role may not do this"))
        return WsAuth(principal, None, bearer, api_key)


def recent(
    start: datetime | None, end: datetime | None, days: int = 30
) -> tuple[datetime, datetime]:
    """A report's [start, end): what was asked, by default the `days` up to now."""
    end = end or datetime.now(UTC)
    return start or end - timedelta(days=days), end
