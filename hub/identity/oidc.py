"""Single sign-on with an OpenID Connect provider: the authorization code flow with PKCE
(RFC 7636), the ID token verified against the provider's published keys (issuer, audience,
expiry, nonce), and the person's account kept in step with the token's claims (their roles
and work unit by the settings' mapping) before the hub issues its own bearer token.

    /api/auth/oidc/start ──302──► provider /auth?code_challenge=…&state=…&nonce=…
    provider ──302──► /api/auth/oidc/callback?code&state ──POST /token (code_verifier)──►
        ID token ──verify (JWKS)──► account (roles, unit) ──► /login.html#token=…&next=…

The flow's secrets (state, nonce, verifier, where to go next) travel in a short-lived cookie
signed with the hub's secret, so any hub worker can finish what another began.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select

from hub.errors import Unauthorized, Unavailable
from hub.identity import passwords, tokens
from hub.identity.roles import Role
from hub.settings import OidcSettings
from hub.storage.audit import record as audit
from hub.storage.db import Database
from hub.storage.models import User, UserRole

FLOW_TTL = timedelta(minutes=10)
COOKIE = "hub_oidc"


@dataclass(frozen=True, slots=True)
class Started:
    """Where to send the browser, and the cookie that carries the flow."""

    url: str
    cookie: str


def _http(url: str) -> str:
    """`url` if it is http(s): a provider's document naming file: or another scheme is not
    followed."""
    if not url.startswith(("https://", "http://")):
        raise Unavailable(f"the sign-in provider names a URL that is not http(s): {url[:80]}")
    return url


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OidcSignIn:
    """Signs people in through the provider; their accounts follow the provider's claims."""

    def __init__(
        self,
        settings: OidcSettings,
        db: Database,
        secret: str,
        access_ttl: timedelta,
    ) -> None:
        self.settings, self._db, self._secret = settings, db, secret
        self.access_ttl = access_ttl
        self._discovery: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKClient | None = None

    def _get(self, url: str) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(_http(url), timeout=10) as r:  # noqa: S310 (http(s) only)
                data: dict[str, Any] = json.loads(r.read())
                return data
        except (OSError, ValueError) as err:
            raise Unavailable(f"the sign-in provider does not answer: {err}") from err

    def discovery(self) -> dict[str, Any]:
        """The provider's configuration (asked once)."""
        if self._discovery is None:
            issuer = self.settings.issuer.rstrip("/")
            self._discovery = self._get(f"{issuer}/.well-known/openid-configuration")
        return self._discovery

    def start(self, next_page: str, redirect_uri: str) -> Started:
        """The provider's authorization URL for a new flow (coming back to `redirect_uri`,
        the hub's callback as registered with the provider), and the flow's signed cookie."""
        d = self.discovery()
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.settings.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        flow = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "next": next_page,
            "back": redirect_uri,
            "exp": int((datetime.now(UTC) + FLOW_TTL).timestamp()),
        }
        cookie = jwt.encode(flow, self._secret, algorithm="HS256")
        url = f"{d['authorization_endpoint']}?{urllib.parse.urlencode(query)}"
        return Started(url, cookie)

    def _exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.settings.client_id,
            "code_verifier": verifier,
        }
        if self.settings.client_secret is not None:
            form["client_secret"] = self.settings.client_secret.get_secret_value()
        req = urllib.request.Request(  # noqa: S310 (http(s) only)
            _http(self.discovery()["token_endpoint"]),
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 (http(s) only)
                data: dict[str, Any] = json.loads(r.read())
                return data
        except urllib.error.HTTPError as err:
            raise Unauthorized(f"the sign-in provider refused the code ({err.code})") from err
        except (OSError, ValueError) as err:
            raise Unavailable(f"the sign-in provider does not answer: {err}") from err

    def _verified(self, id_token: str, nonce: str) -> dict[str, Any]:
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(self.discovery()["jwks_uri"])
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                audience=self.settings.client_id,
                issuer=self.discovery()["issuer"],
            )
        except jwt.PyJWTError as err:
            raise Unauthorized(f"the sign-in provider's ID token does not hold: {err}") from err
        if claims.get("nonce") != nonce:
            raise Unauthorized("the ID token is not this sign-in's (nonce)")
        return claims

    def finish(self, code: str, state: str, cookie: str | None) -> tuple[str, str]:
        """The hub's bearer token for the person the provider signed in, and where to go."""
        try:
            flow = jwt.decode(cookie or "", self._secret, algorithms=["HS256"])
        except jwt.PyJWTError as err:
            raise Unauthorized("this sign-in was not started here, or took too long") from err
        if not secrets.compare_digest(str(flow.get("state", "")), state):
            raise Unauthorized("this sign-in's state does not match (start again)")
        answer = self._exchange(code, flow["verifier"], flow["back"])
        claims = self._verified(str(answer.get("id_token", "")), flow["nonce"])
        return self._account(claims), str(flow.get("next") or "/")

    def roles_of(self, claims: dict[str, Any]) -> set[Role]:
        """The hub roles the claims map to (`staff` when none does)."""
        values = claims.get(self.settings.roles_claim) or []
        if isinstance(values, str):
            values = [values]
        roles = {Role(r) for v in values for r in self.settings.role_map.get(str(v), [])}
        return roles or {Role.STAFF}

    def _account(self, claims: dict[str, Any]) -> str:
        s_ = self.settings
        username = str(claims.get(s_.username_claim) or claims["sub"])[:64]
        roles = self.roles_of(claims)
        unit = claims.get(s_.unit_claim) if s_.unit_claim else None
        name = str(claims.get(s_.name_claim) or username)[:200]
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                user = User(
                    username=username,
                    display_name=name,
                    # never used: these accounts sign in through the provider only
                    password_hash=passwords.hash_password(secrets.token_urlsafe(32)),
                    work_unit=unit if isinstance(unit, str) else None,
                    email=claims.get("email"),
                )
                s.add(user)
                s.flush()
                audit(s, "oidc", "user.create", username, roles=sorted(r.value for r in roles))
            elif not user.active:
                raise Unauthorized("this account is disabled")
            had = {Role(x) for x in user.role_names}
            if had != roles:  # the provider's claims are the source of truth
                user.roles.clear()
                user.roles.extend(UserRole(role=r.value) for r in sorted(roles))
                user.token_version += 1  # older tokens carried the old roles
                audit(s, "oidc", "user.roles", username, roles=sorted(r.value for r in roles))
            user.display_name = name
            if isinstance(unit, str):
                user.work_unit = unit
            version = user.token_version
            audit(s, username, "auth.sso", username)
        return tokens.issue_token(self._secret, username, version, self.access_ttl)
