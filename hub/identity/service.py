"""Users, roles, API keys and sign-in: the identity service (its API keys in hub.identity.keys,
who to tell in hub.identity.directory)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hub.errors import Conflict, Invalid, NotFound, Unauthorized, Unavailable
from hub.identity import passwords, tokens
from hub.identity.directory import Directory
from hub.identity.keys import ApiKeys
from hub.identity.roles import Principal, Role
from hub.identity.throttle import Throttle
from hub.storage.audit import record as audit
from hub.storage.db import Database
from hub.storage.models import ApiKey, User, UserRole


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as others may see them (no hash)."""

    username: str
    display_name: str
    roles: list[str]
    work_unit: str | None
    active: bool
    created_at: datetime
    email: str | None = None


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _view(user: User) -> UserView:
    return UserView(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.role_names),
        work_unit=user.work_unit,
        active=user.active,
        created_at=user.created_at,
        email=user.email,
    )


FEED_TTL = timedelta(days=365)
REMEMBER_MAX = 10_000  # credentials remembered at once (a compound has a few hundred)
HASH_WAIT_S = 10.0  # how long a sign-in waits for a hashing slot before a 503


class IdentityService(ApiKeys, Directory):
    """Signs people and machines in and manages their credentials."""

    def __init__(
        self,
        db: Database,
        secret: str,
        *,
        access_ttl: timedelta = timedelta(hours=12),
        display_ttl: timedelta = timedelta(days=365),
        known_units: Iterable[str] | None = None,
        remember_s: float = 5.0,
        throttle: Throttle | None = None,
        hash_slots: int = 2,
    ) -> None:
        self._db = db
        self.throttle = throttle or Throttle(db)
        self._hash_slots = threading.BoundedSemaphore(hash_slots)
        self._secret = secret
        self.access_ttl = access_ttl
        self.display_ttl = display_ttl
        self._units = frozenset(known_units) if known_units is not None else None
        # credential digest -> (principal, monotonic deadline): a terminal calling many times
        # a second costs one lookup per `remember_s`, not one per call
        self.remember_s = remember_s
        self._recent: dict[bytes, tuple[Principal, float]] = {}
        # counts changes to users and keys made here: open connections re-check on a change
        self.generation = 0

    # -- remembered credentials -----------------------------------------------------------

    def remembered(self, credential: str) -> Principal | None:
        """The principal a token or key was found to speak for less than `remember_s` ago.

        Any change to users or keys made through this service forgets everything at once;
        a change made by another hub process takes effect here within `remember_s`.
        """
        hit = self._recent.get(hashlib.sha256(credential.encode()).digest())
        if hit is None or hit[1] <= time.monotonic():
            return None
        return hit[0]

    def _remember(self, credential: str, principal: Principal, expires: datetime | None) -> None:
        if self.remember_s <= 0:
            return
        left = self.remember_s
        if expires is not None:
            left = min(left, (expires - datetime.now(UTC)).total_seconds())
        if left <= 0:
            return
        if len(self._recent) >= REMEMBER_MAX:
            self._recent.clear()
        digest = hashlib.sha256(credential.encode()).digest()
        self._recent[digest] = (principal, time.monotonic() + left)

    def forget_credentials(self) -> None:
        """Forget every remembered credential (after a change to users or keys)."""
        self._recent.clear()
        self.generation += 1

    # -- users ----------------------------------------------------------------------------

    def _check_unit(self, unit: str | None) -> None:
        if unit is not None and self._units is not None and unit not in self._units:
            raise Invalid(f"unknown work unit {unit!r}", field="work_unit")

    def create_user(
        self,
        username: str,
        password: str,
        roles: Iterable[Role],
        *,
        display_name: str = "",
        work_unit: str | None = None,
        email: str | None = None,
        actor: str = "system",
    ) -> UserView:
        """Create a user; refuses weak passwords, unknown units, bad e-mail addresses and
        taken names."""
        if email is not None and not _EMAIL.match(email):
            raise Invalid(f"not an e-mail address: {email!r}", field="email")
        role_set = {Role(r) for r in roles}
        if not role_set:
            raise Invalid("a user needs at least one role", field="roles")
        if problem := passwords.password_problem(password):
            raise Invalid(f"password {problem}", field="password")
        self._check_unit(work_unit)
        with self._db.session() as s:
            if s.scalar(select(User).where(User.username == username)) is not None:
                raise Conflict(f"user {username!r} already exists")
            user = User(
                username=username,
                display_name=display_name or username,
                password_hash=passwords.hash_password(password),
                work_unit=work_unit,
                email=email,
                roles=[UserRole(role=r.value) for r in sorted(role_set)],
            )
            s.add(user)
            audit(s, actor, "user.create", username, roles=sorted(role_set))
            s.flush()
            return _view(user)

    def ensure_user(
        self,
        username: str,
        password: str,
        roles: Iterable[Role],
        *,
        display_name: str = "",
        work_unit: str | None = None,
        email: str | None = None,
    ) -> bool:
        """Create the user, or make sure it is active with this password and these roles.

        Returns True when it was created. Used for the admin account and demo accounts.
        """
        role_set = {Role(r) for r in roles}
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is not None:
                if not passwords.verify_password(user.password_hash, password):
                    user.password_hash = passwords.hash_password(password)
                    user.token_version += 1
                    self.forget_credentials()
                    audit(s, "system", "user.password_reset", username)
                for r in sorted(role_set - {Role(x) for x in user.role_names}):
                    user.roles.append(UserRole(role=r.value))
                user.active = True
                if email is not None:
                    user.email = email
                return False
        self.create_user(
            username,
            password,
            role_set,
            display_name=display_name,
            work_unit=work_unit,
            email=email,
        )
        return True

    def list_users(self) -> list[UserView]:
        """Every user, by name."""
        with self._db.session() as s:
            return [_view(u) for u in s.scalars(select(User).order_by(User.username))]

    def get_user(self, username: str) -> UserView:
        """One user by name."""
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no user {username!r}")
            return _view(user)

    def set_active(self, username: str, active: bool, *, actor: str) -> UserView:
        """Enable or disable a user; disabling revokes their tokens, display tokens and
        calendar feeds, and the API keys they created."""
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no user {username!r}")
            user.active = active
            user.token_version += 1  # their tokens, display tokens and calendar feeds
            if not active:  # a person who leaves keeps nothing open: the keys they made too
                now = datetime.now(UTC)
                for key in s.scalars(
                    select(ApiKey).where(ApiKey.created_by == username, ApiKey.revoked_at.is_(None))
                ):
                    key.revoked_at = now
                    audit(s, actor, "api_key.revoke", key.name, reason="creator deactivated")
            self.forget_credentials()
            audit(s, actor, "user.activate" if active else "user.deactivate", username)
            return _view(user)

    # -- sign-in --------------------------------------------------------------------------

    def login(
        self, username: str, password: str, *, purpose: str = "access", client: str = ""
    ) -> str:
        """A bearer token for the right password; the same error for every failure.

        Failures are counted per account and per client address (`client`): past a few,
        each attempt must wait longer, then the account or address is locked for a while
        (TooManyAttempts, before any hashing); every failure and lock is audited.
        """
        keys = [f"account:{username.strip().lower()[:150]}"]
        if client:
            keys.append(f"addr:{client}")
        self.throttle.check(keys)
        with self._db.session() as s:  # read the account, then let the connection go:
            user = s.scalar(select(User).where(User.username == username))  # hashing waits
            stored = user.password_hash if user is not None else None
            active = user is not None and user.active
            roles = user.role_names if user is not None else set()
            version = user.token_version if user is not None else 0
        with self._hashing():
            ok = passwords.verify_password(stored, password)
        token = None
        if ok and active and stored is not None:
            if purpose == "display" and Role.DISPLAY not in roles:
                raise Unauthorized("display tokens are for display accounts")
            if passwords.needs_rehash(stored):
                with self._hashing():
                    fresh = passwords.hash_password(password)
                with self._db.session() as s:
                    again = s.scalar(select(User).where(User.username == username))
                    if again is not None and again.password_hash == stored:
                        again.password_hash = fresh
            ttl = self.display_ttl if purpose == "display" else self.access_ttl
            token = tokens.issue_token(self._secret, username, version, ttl, purpose=purpose)
        if token is None:
            self._failed(keys, "auth.fail", username[:120], client=client)
            raise Unauthorized("wrong username or password")
        self.throttle.succeeded(keys[:1])
        return token

    def _failed(self, keys: list[str], action: str, target: str, **detail: str) -> None:
        """Count a failed attempt against `keys` and audit it (outside the failed request's
        transaction, which is rolled back)."""
        locked = self.throttle.failed(keys)
        with self._db.session() as s:
            audit(s, "anonymous", action, target, **detail)
            for key, failures in locked:
                audit(s, "system", "auth.lock", key, failures=failures)

    def lift_lock(self, key: str, *, actor: str) -> bool:
        """Lift a sign-in lock ("account:NAME", "addr:IP", "cred:IP"); audited."""
        lifted = self.throttle.lift(key)
        if lifted:
            with self._db.session() as s:
                audit(s, actor, "auth.unlock", key)
        return lifted

    def check_guess(self, client: str) -> None:
        """TooManyAttempts when this address has guessed at keys or tokens too often."""
        if client:
            self.throttle.check([f"cred:{client}"])

    def guessed(self, client: str, what: str) -> None:
        """Count a wrong API key or feed token presented from `client`."""
        if client:
            self._failed([f"cred:{client}"], "auth.bad_credential", what, client=client)

    @contextlib.contextmanager
    def _hashing(self) -> Iterator[None]:
        # Argon2 takes 64 MiB and ~50 ms a hash: a crowd of sign-ins (or an attacker's)
        # waits for a slot instead of taking the memory and the cores from the gate.
        if not self._hash_slots.acquire(timeout=HASH_WAIT_S):
            raise Unavailable("the hub is busy signing people in: try again in a moment")
        try:
            yield
        finally:
            self._hash_slots.release()

    def principal_from_token(self, token: str) -> Principal:
        """Who a bearer token speaks for; Unauthorized if invalid, expired or revoked."""
        try:
            claims = tokens.read_token(self._secret, token)
        except tokens.TokenError as err:
            raise Unauthorized("invalid or expired token") from err
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == claims.subject))
            if user is None or not user.active or user.token_version != claims.version:
                raise Unauthorized("token revoked")
            roles = frozenset(Role(r) for r in user.role_names)
            if claims.purpose == "feed":  # a calendar URL's token reads calendars, nothing else
                raise Unauthorized("a calendar feed token is not an access token")
            if claims.purpose == "display":
                roles = frozenset({Role.DISPLAY}) & roles
            principal = Principal(user.username, roles, user.work_unit, "user")
        self._remember(token, principal, claims.expires)
        return principal

    def feed_token(self, username: str) -> str:
        """A long-lived token for a calendar application's feed URL (it can read calendars
        only; changing the password revokes it)."""
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None or not user.active:
                raise Unauthorized("no such user")
            return tokens.issue_token(
                self._secret, user.username, user.token_version, FEED_TTL, purpose="feed"
            )

    def feed_user(self, token: str, client: str = "") -> Principal:
        """Who a calendar feed token belongs to; Unauthorized unless it is a valid feed token
        (wrong ones counted against `client`, which may then wait: TooManyAttempts)."""
        self.check_guess(client)
        try:
            return self._feed_user(token)
        except Unauthorized:
            self.guessed(client, "feed_token")
            raise

    def _feed_user(self, token: str) -> Principal:
        try:
            claims = tokens.read_token(self._secret, token)
        except tokens.TokenError as err:
            raise Unauthorized("invalid or expired feed token") from err
        if claims.purpose != "feed":
            raise Unauthorized("not a calendar feed token")
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == claims.subject))
            if user is None or not user.active or user.token_version != claims.version:
                raise Unauthorized("feed token revoked")
            roles = frozenset(Role(r) for r in user.role_names)
            return Principal(user.username, roles, user.work_unit, "user")
