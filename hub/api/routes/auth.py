"""Sign-in (OAuth2 password flow, or single sign-on through an OpenID Connect provider) and
the caller's identity."""

from __future__ import annotations

import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from hub.api.deps import PUBLIC, Ctx, allow, client_of
from hub.api.schemas import Me, Token
from hub.errors import NotFound, Unauthorized, Unavailable
from hub.identity.oidc import COOKIE as OIDC_COOKIE
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


class SsoOffered(BaseModel):
    """Whether the sign-in page offers the provider's button, and its words."""

    enabled: bool
    label: str


@router.get(
    "/oidc",
    openapi_extra=PUBLIC,
    response_model=SsoOffered,
    summary="Whether single sign-on is offered",
)
def oidc_offered(ctx: Ctx) -> dict[str, Any]:
    """`{"enabled": bool, "label": ...}`: the sign-in page shows the provider's button."""
    sso = ctx.oidc
    return {"enabled": sso is not None, "label": sso.settings.label if sso else ""}


def _callback_url(ctx: Ctx, request: Request) -> str:
    base = ctx.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/api/auth/oidc/callback"


@router.get("/oidc/start", openapi_extra=PUBLIC, summary="Sign in with the provider")
def oidc_start(ctx: Ctx, request: Request, next: str = "/") -> RedirectResponse:
    """Send the browser to the provider (authorization code with PKCE); 404 when single
    sign-on is not configured."""
    if ctx.oidc is None:
        raise NotFound("single sign-on is not configured here")
    started = ctx.oidc.start(_same_site(next), _callback_url(ctx, request))
    answer = RedirectResponse(started.url, status_code=302)
    answer.set_cookie(
        OIDC_COOKIE,
        started.cookie,
        max_age=600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/api/auth/oidc",
    )
    return answer


@router.get("/oidc/callback", openapi_extra=PUBLIC, summary="The provider's answer")
def oidc_callback(
    ctx: Ctx, request: Request, code: str = "", state: str = "", error: str = ""
) -> RedirectResponse:
    """Finish the sign-in: the person lands on the sign-in page with the hub's token in the
    URL's fragment (never sent to a server), which takes them where they were going."""
    if ctx.oidc is None:
        raise NotFound("single sign-on is not configured here")
    try:
        if error or not code:
            raise Unauthorized(f"the provider did not sign you in ({error or 'no code'})")
        token, next_page = ctx.oidc.finish(code, state, request.cookies.get(OIDC_COOKIE))
        target = "/login.html#" + urllib.parse.urlencode({"token": token, "next": next_page})
    except (Unauthorized, Unavailable) as err:
        target = "/login.html#" + urllib.parse.urlencode({"sso_error": str(err)})
    answer = RedirectResponse(target, status_code=302)
    answer.delete_cookie(OIDC_COOKIE, path="/api/auth/oidc")
    return answer


def _same_site(next_page: str) -> str:
    """A path on this hub ("/rooms.html"), never another site ("//evil.example")."""
    return next_page if next_page.startswith("/") and not next_page.startswith("//") else "/"
