"""Visitor passes: compact JWS tokens signed with Ed25519 (EdDSA), so a gate terminal holding
only the public key can verify one offline. The hub keeps the private key in a file of its
data folder (created at first start, readable by the hub alone)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ISSUER = "dayuan-hub"
AUDIENCE = "gate"


class PassError(ValueError):
    """A pass that does not verify: forged, expired, not yet valid, malformed."""


@dataclass(frozen=True, slots=True)
class PassClaims:
    """What a verified pass says."""

    pass_id: str  # jti
    visitor: int
    visit: int
    gates: tuple[str, ...]  # empty: every gate
    entries: int
    label: str  # a display label, never an ID number
    not_before: datetime
    expires: datetime


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at `path` (PEM, PKCS#8), created with mode 0600 if missing."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked in (atomic, refused if there): hub workers starting together
    # on one shared folder all end up with the one key that got there first.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return load_or_create_key(path)
    finally:
        tmp.unlink()
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    """The public key terminals verify passes with."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def issue(key: Ed25519PrivateKey, claims: PassClaims) -> str:
    """A signed pass (compact JWS)."""
    body: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": claims.pass_id,
        "vis": claims.visitor,
        "vst": claims.visit,
        "gts": list(claims.gates),
        "ent": claims.entries,
        "lbl": claims.label,
        "nbf": int(claims.not_before.timestamp()),
        "exp": int(claims.expires.timestamp()),
    }
    return jwt.encode(body, key, algorithm="EdDSA")


def decode(public: Ed25519PublicKey, token: str, leeway: timedelta) -> dict[str, Any]:
    """The claims of a token the hub signed (a visitor's pass, a staff credential), its times
    not yet checked; PassError if it is not one."""
    if len(token) > 2000:
        raise PassError("not a pass (too long)")
    try:
        return dict(
            jwt.decode(
                token,
                public,
                algorithms=["EdDSA"],  # never "none", never a symmetric algorithm
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=leeway,
                # validity is checked against the hub's clock (`in_time`), not PyJWT's
                options={
                    "require": ["exp", "nbf", "jti"],
                    "verify_exp": False,
                    "verify_nbf": False,
                },
            )
        )
    except jwt.InvalidSignatureError:
        raise PassError("forged pass (bad signature)") from None
    except jwt.PyJWTError as err:
        raise PassError(f"not a valid pass ({type(err).__name__})") from None


def in_time(body: dict[str, Any], now: datetime, leeway: timedelta) -> tuple[datetime, datetime]:
    """The token's (not before, expires), if `now` is within them (± `leeway`); PassError
    saying which way it is out otherwise."""
    try:
        opens = datetime.fromtimestamp(int(body["nbf"]), now.tzinfo)
        expires = datetime.fromtimestamp(int(body["exp"]), now.tzinfo)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):  # times no date can hold
        raise PassError("not a valid pass (claims)") from None
    if now > expires + leeway:
        raise PassError("the pass has expired")
    if now < opens - leeway:
        raise PassError("the pass is not valid yet")
    return opens, expires


def verify(public: Ed25519PublicKey, token: str, now: datetime, leeway: timedelta) -> PassClaims:
    """The claims of a genuine visitor's pass valid at `now` (± `leeway`); PassError
    otherwise."""
    body = decode(public, token, leeway)
    return claims_of(body, now, leeway)


def claims_of(body: dict[str, Any], now: datetime, leeway: timedelta) -> PassClaims:
    """A decoded visitor's pass's claims, valid at `now`; PassError otherwise."""
    opens, expires = in_time(body, now, leeway)
    try:
        return PassClaims(
            pass_id=str(body["jti"]),
            visitor=int(body["vis"]),
            visit=int(body["vst"]),
            gates=tuple(str(g) for g in body.get("gts", [])),
            entries=int(body.get("ent", 1)),
            label=str(body.get("lbl", "")),
            not_before=opens,
            expires=expires,
        )
    except (KeyError, TypeError, ValueError):
        raise PassError("not a valid pass (claims)") from None
