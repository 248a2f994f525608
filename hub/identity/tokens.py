"""Signed bearer tokens (JWT, HS256) and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "dayuan-hub"
KEY_PREFIX = "dyh"


class TokenError(Exception):
    """A token that is malformed, forged, expired or revoked."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid access token says."""

    subject: str
    version: int
    purpose: str  # "access" or "display"
    expires: datetime


def issue_token(
    secret: str,
    subject: str,
    version: int,
    ttl: timedelta,
    *,
    purpose: str = "access",
    now: datetime | None = None,
) -> str:
    """A signed token for `subject`, valid for `ttl`."""
    now = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "ver": version,
        "pur": purpose,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str) -> TokenClaims:
    """Verify signature, issuer and expiry; raise TokenError otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            # iat is not checked against the clock: a clock stepped back (NTP) would sign
            # everyone out until it caught up again; exp bounds a token's life
            options={"require": ["exp", "iat", "sub", "iss"], "verify_iat": False},
        )
    except jwt.PyJWTError as err:
        raise TokenError(str(err)) from err
    try:
        return TokenClaims(
            subject=str(claims["sub"]),
            version=int(claims.get("ver", 0)),
            purpose=str(claims.get("pur", "access")),
            expires=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as err:  # OverflowError,
        raise TokenError("malformed claims") from err  # OSError: an exp no date can hold


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly minted API key: the full key is shown once, only its hash is stored."""

    key: str
    prefix: str
    key_hash: str


def new_api_key() -> NewApiKey:
    """A random key of the form dyh_<prefix>_<secret>."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = f"{KEY_PREFIX}_{prefix}_{secret}"
    return NewApiKey(key=key, prefix=prefix, key_hash=hash_api_key(key))


def split_api_key(key: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def hash_api_key(key: str) -> str:
    """SHA-256 of the key: API keys are long random strings, so a fast hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a, b)
