"""Request and response bodies, split by direction (XCreate in, XPublic out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from hub.identity.roles import Role


class In(BaseModel):
    """Base of request bodies: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int


class Me(BaseModel):
    """The caller."""

    name: str
    roles: list[Role]
    work_unit: str | None
    kind: str


Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{2,64}$")]


class UserCreate(In):
    """A new user."""

    username: Username
    password: Annotated[str, Field(min_length=1, max_length=200)]
    roles: Annotated[list[Role], Field(min_length=1)]
    display_name: Annotated[str, Field(max_length=200)] = ""
    work_unit: str | None = None
    email: Annotated[str, Field(max_length=254)] | None = None


class UserPublic(BaseModel):
    """A user as the API shows it."""

    username: str
    display_name: str
    roles: list[Role]
    work_unit: str | None
    active: bool
    created_at: datetime
    email: str | None = None


TrackerId = Annotated[str, Field(min_length=1, max_length=64)]


class ApiKeyCreate(In):
    """A new machine credential."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{2,100}$")]
    role: Role
    work_unit: str | None = None
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    # a device key's trackers (their ids as they report): it may send positions for no other
    trackers: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=500)
    ] = []


class ApiKeyPublic(BaseModel):
    """An API key's description (never the key, except once at creation)."""

    id: int
    name: str
    prefix: str
    role: Role
    work_unit: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool
    trackers: list[str] = []


class ApiKeyCreated(ApiKeyPublic):
    """The new key: shown once."""

    key: str


class LatestPublic(BaseModel):
    """A point and its newest value."""

    point_id: str
    device_id: str
    name: str | None
    unit: str
    kind: str
    value: float | None
    ts: datetime | None
    quality: str | None


class SamplePublic(BaseModel):
    """A stored value."""

    ts: datetime
    value: float
    quality: str


class AuditPublic(BaseModel):
    """An audit entry."""

    ts: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class WriteRequest(In):
    """A value to write."""

    value: Annotated[float, Field(strict=True, allow_inf_nan=False)]


class CommandPublic(BaseModel):
    """A command's outcome."""

    ok: bool
    value: float | None
    detail: str


class SignInLockPublic(BaseModel):
    """Failed sign-ins of an account or address in the window, and its wait if any."""

    key: str
    failures: int
    last_failure: datetime
    blocked_until: datetime | None
    locks: int
