"""User accounts, API keys and the audit trail (admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from hub.api.deps import Ctx, RowId, allow
from hub.api.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    AuditPublic,
    SignInLockPublic,
    UserCreate,
    UserPublic,
)
from hub.errors import NotFound
from hub.identity.roles import Principal, Role
from hub.storage import audit

router = APIRouter(prefix="/api", tags=["admin"])

Admin = Annotated[Principal, allow(Role.ADMIN)]


@router.get("/users", summary="List users")
def list_users(ctx: Ctx, _: Admin) -> list[UserPublic]:
    """Every user account."""
    return [UserPublic.model_validate(u, from_attributes=True) for u in ctx.identity.list_users()]


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Create a user")
def create_user(ctx: Ctx, body: UserCreate, admin: Admin) -> UserPublic:
    """A new account; 409 if the name is taken, 422 for a weak password or unknown unit."""
    user = ctx.identity.create_user(
        body.username,
        body.password,
        body.roles,
        display_name=body.display_name,
        work_unit=body.work_unit,
        email=body.email,
        actor=admin.name,
    )
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/users/{username}", summary="One user")
def get_user(ctx: Ctx, username: str, _: Admin) -> UserPublic:
    """A user account by name."""
    return UserPublic.model_validate(ctx.identity.get_user(username), from_attributes=True)


@router.post("/users/{username}/deactivate", summary="Disable a user (revokes their tokens)")
def deactivate_user(ctx: Ctx, username: str, admin: Admin) -> UserPublic:
    """Disable an account at once."""
    user = ctx.identity.set_active(username, False, actor=admin.name)
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/users/{username}/activate", summary="Enable a user")
def activate_user(ctx: Ctx, username: str, admin: Admin) -> UserPublic:
    """Enable a disabled account."""
    user = ctx.identity.set_active(username, True, actor=admin.name)
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/api-keys", summary="List API keys")
def list_api_keys(ctx: Ctx, _: Admin) -> list[ApiKeyPublic]:
    """Every machine credential (never the keys themselves)."""
    return [ApiKeyPublic.model_validate(k) for k in ctx.identity.list_api_keys()]


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, summary="Create an API key")
def create_api_key(ctx: Ctx, body: ApiKeyCreate, admin: Admin) -> ApiKeyCreated:
    """A new key for a gate terminal, tracker or display; the key is shown only now."""
    expires = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    key, view = ctx.identity.create_api_key(
        body.name,
        body.role,
        actor=admin.name,
        work_unit=body.work_unit,
        expires_in=expires,
        trackers=body.trackers,
    )
    return ApiKeyCreated.model_validate({**view, "key": key})


@router.delete("/api-keys/{key_id}", summary="Revoke an API key")
def revoke_api_key(ctx: Ctx, key_id: RowId, admin: Admin) -> ApiKeyPublic:
    """Revoke a key; it stops working at once."""
    return ApiKeyPublic.model_validate(ctx.identity.revoke_api_key(key_id, actor=admin.name))


@router.get("/sign-in-locks", summary="Accounts and addresses failing to sign in")
def sign_in_locks(ctx: Ctx, _: Admin) -> list[SignInLockPublic]:
    """Keys ("account:NAME", "addr:IP", "cred:IP") with failures in the window, worst first;
    `blocked_until` is set while they must wait."""
    return [SignInLockPublic.model_validate(r) for r in ctx.identity.throttle.locks()]


@router.delete("/sign-in-locks/{key}", status_code=204, summary="Lift a sign-in lock")
def lift_sign_in_lock(ctx: Ctx, key: Annotated[str, Path(max_length=200)], admin: Admin) -> None:
    """Forget the key's failures; it may sign in again at once (audited)."""
    if not ctx.identity.lift_lock(key, actor=admin.name):
        raise NotFound(f"no failed sign-ins for {key!r}")


@router.get("/audit", summary="The audit trail, newest first")
def audit_log(
    ctx: Ctx,
    _: Admin,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditPublic]:
    """Recent changes made through the hub."""
    entries = audit.recent(ctx.db, action=action, limit=limit)
    return [AuditPublic.model_validate(a, from_attributes=True) for a in entries]
