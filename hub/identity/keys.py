"""Machine credentials: API keys for gate terminals, displays and trackers (part of the
identity service)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.errors import Conflict, Invalid, NotFound, Unauthorized
from hub.identity import tokens
from hub.identity.roles import MACHINE_ROLES, Principal, Role
from hub.storage.audit import record as audit
from hub.storage.db import Database
from hub.storage.models import ApiKey


class ApiKeys:
    """Create, list, revoke and check API keys (IdentityService builds on it)."""

    # what IdentityService provides: its store, the work units it knows, its credential cache
    _db: Database
    _check_unit: Callable[[str | None], None]
    forget_credentials: Callable[[], None]
    _remember: Callable[[str, Principal, datetime | None], None]

    def create_api_key(
        self,
        name: str,
        role: Role,
        *,
        actor: str,
        work_unit: str | None = None,
        expires_in: timedelta | None = None,
        trackers: Iterable[str] = (),
    ) -> tuple[str, dict[str, Any]]:
        """A new key (returned once, in full) and its public description; a device key
        reports positions only for `trackers` (device ids as the trackers send them)."""
        role = Role(role)
        bound = sorted({t.strip() for t in trackers if t.strip()})
        if bound and role != Role.DEVICE:
            raise Invalid("only device keys are bound to trackers", field="trackers")
        if role not in MACHINE_ROLES:
            allowed = ", ".join(sorted(MACHINE_ROLES))
            raise Invalid(f"API keys take a machine role ({allowed})", field="role")
        self._check_unit(work_unit)
        minted = tokens.new_api_key()
        expires = datetime.now(UTC) + expires_in if expires_in else None
        with self._db.session() as s:
            if s.scalar(select(ApiKey).where(ApiKey.name == name)) is not None:
                raise Conflict(f"an API key named {name!r} exists")
            key = ApiKey(
                name=name,
                prefix=minted.prefix,
                key_hash=minted.key_hash,
                role=role.value,
                work_unit=work_unit,
                created_by=actor,
                expires_at=expires,
                trackers=bound or None,
            )
            s.add(key)
            audit(s, actor, "api_key.create", name, role=role.value, trackers=bound)
            s.flush()
            return minted.key, _key_view(key)

    def list_api_keys(self) -> list[dict[str, Any]]:
        """Every key's public description."""
        with self._db.session() as s:
            return [_key_view(k) for k in s.scalars(select(ApiKey).order_by(ApiKey.name))]

    def revoke_api_key(self, key_id: int, *, actor: str) -> dict[str, Any]:
        """Revoke a key; it stops working at once."""
        with self._db.session() as s:
            key = s.get(ApiKey, key_id)
            if key is None:
                raise NotFound(f"no API key {key_id}")
            if key.revoked_at is None:
                key.revoked_at = datetime.now(UTC)
                self.forget_credentials()
                audit(s, actor, "api_key.revoke", key.name)
            return _key_view(key)

    def principal_from_api_key(self, raw: str) -> Principal:
        """Who an API key speaks for; Unauthorized if unknown, revoked or expired."""
        prefix = tokens.split_api_key(raw)
        if prefix is None:
            raise Unauthorized("invalid API key")
        now = datetime.now(UTC)
        with self._db.session() as s:
            key = s.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
            if key is None or not tokens.same_hash(key.key_hash, tokens.hash_api_key(raw)):
                raise Unauthorized("invalid API key")
            if key.revoked_at is not None or (key.expires_at and key.expires_at <= now):
                raise Unauthorized("API key revoked or expired")
            if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
                key.last_used_at = now  # coarse, so a busy terminal doesn't write every call
            principal = Principal(
                f"key:{key.name}",
                frozenset({Role(key.role)}),
                key.work_unit,
                "api_key",
                frozenset(key.trackers or ()),
            )
            expires = key.expires_at
        self._remember(raw, principal, expires)
        return principal


def _key_view(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "role": key.role,
        "work_unit": key.work_unit,
        "created_by": key.created_by,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "revoked": key.revoked_at is not None,
        "trackers": list(key.trackers or []),
    }
