"""Sign-in (OAuth2 password flow) and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from hub.api.deps import PUBLIC, Ctx, allow, client_of
from hub.api.schemas import Me, Token
from hub.identity.roles import EVERYONE, Principal

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", openapi_extra=PUBLIC, summary="Sign in; scope 'display' for a wall display")
def token(
    ctx: Ctx, request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """Exchange username and password for a bearer token.

    With `scope=display` a display account gets a long-lived token that carries only the
    display role, for a wall screen that must stay signed in.
    """
    purpose = "display" if "display" in form.scopes else "access"
    access = ctx.identity.login(
        form.username, form.password, purpose=purpose, client=client_of(request)
    )
    ttl = ctx.identity.display_ttl if purpose == "display" else ctx.identity.access_ttl
    return Token(access_token=access, expires_in=int(ttl.total_seconds()))


@router.get("/me", summary="Who am I")
def me(principal: Annotated[Principal, allow(EVERYONE)]) -> Me:
    """The caller's name, roles and work unit."""
    return Me(
        name=principal.name,
        roles=sorted(principal.roles),
        work_unit=principal.work_unit,
        kind=principal.kind,
    )
