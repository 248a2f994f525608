"""Failed sign-ins slow down, then lock, per account and per client address.

The shape OWASP ASVS 2.2 and NIST SP 800-63B 5.2.2 describe: the first few failures in a
row cost nothing, each one after waits twice as long as the last (capped at 30 s), every
twentieth locks the key for 15 minutes — short enough that an attacker cannot keep a real
user out for long — and the hundredth in a row (NIST's limit) locks it for a day or until an
administrator lifts it. A right answer clears the account's count. The counts live in the
database (`sign_in_throttle`), so they hold across hub workers and restarts; a refused
attempt is answered before any password hashing, so guessing costs the hub almost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hub.errors import TooManyAttempts
from hub.storage.db import Database
from hub.storage.models import SignInThrottle


@dataclass(frozen=True, slots=True)
class Policy:
    """When one kind of key (an account, an address) slows down and locks."""

    free: int  # consecutive failures that cost nothing
    lock_at: int  # every this many consecutive failures lock the key for `lock`
    lock: timedelta
    max_delay: timedelta = timedelta(seconds=30)  # the longest wait between locks
    hard_at: int = 100  # NIST 800-63B's limit: this many in a row lock it for `hard_lock`
    hard_lock: timedelta = timedelta(hours=24)
    # failures count until a right answer, an administrator, or this long without one; with
    # `fixed`, only those of the last `window` (from its first failure) count
    window: timedelta = timedelta(hours=24)
    fixed: bool = False


# An account's failures are consecutive (NIST's limit is on those). An address may be an
# office's NAT, shared by a hundred honest people whose typos must never add up to a lock:
# only a burst counts (100 in 15 minutes before the first lock).
ACCOUNT = Policy(free=5, lock_at=20, lock=timedelta(minutes=15))
ADDRESS = Policy(
    free=20,
    lock_at=100,
    lock=timedelta(minutes=15),
    hard_at=1000,
    window=timedelta(minutes=15),
    fixed=True,
)
CREDENTIAL = ADDRESS  # keys and feed tokens guessed at from one address
WINDOW = max(ACCOUNT.window, ADDRESS.window)  # how long a quiet key is kept

SWEEP_EVERY = 200  # failures counted between sweeps of keys long quiet

# (key, failures, locked until) when a key is locked
OnLock = Callable[[str, int, datetime], None]


def policy_of(key: str) -> Policy:
    """The policy for a key by its kind ("account:…", "addr:…", "cred:…")."""
    kind = key.split(":", 1)[0]
    return {"account": ACCOUNT, "addr": ADDRESS}.get(kind, CREDENTIAL)


def wait_after(failures: int, policy: Policy) -> timedelta:
    """How long the next attempt must wait after `failures` in a row (pure)."""
    if failures >= policy.hard_at:
        return policy.hard_lock
    if failures % policy.lock_at == 0 and failures:
        return policy.lock
    if failures < policy.free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - policy.free, 20)), policy.max_delay)


class Throttle:
    """Failed attempts per key, in the relational database."""

    def __init__(
        self,
        db: Database,
        *,
        window: timedelta = WINDOW,
        on_lock: OnLock | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self.window = window
        self.on_lock = on_lock
        self.clock = clock
        self._failures_counted = 0

    def check(self, keys: Iterable[str]) -> None:
        """TooManyAttempts (with when to try again) if any key must still wait."""
        now = self.clock()
        with self._db.session() as s:
            rows = s.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(list(keys))))
            waits = [r.blocked_until for r in rows if r.blocked_until and r.blocked_until > now]
        if waits:
            left = int((max(waits) - now).total_seconds()) + 1
            raise TooManyAttempts(
                f"too many failed attempts: try again in {left} s", retry_after=left
            )

    def failed(self, keys: Iterable[str]) -> list[tuple[str, int]]:
        """Count a failure against each key; the keys this failure locked, with their counts."""
        now = self.clock()
        locked: list[tuple[str, int, datetime]] = []
        for key in keys:
            for attempt in range(2):  # a first failure may race another worker's insert
                try:
                    if hit := self._count(key, now):
                        locked.append(hit)
                    break
                except IntegrityError:
                    if attempt:
                        raise
        for key, failures, until in locked:
            if self.on_lock is not None:
                self.on_lock(key, failures, until)
        self._failures_counted += 1
        if self._failures_counted % SWEEP_EVERY == 0:
            self.forget_old()
        return [(k, n) for k, n, _ in locked]

    def forget_old(self) -> int:
        """Drop the rows of keys that have waited out their lock and failed nothing for a
        window (the table holds at most the keys active in the last day)."""
        now = self.clock()
        with self._db.session() as s:
            stale = s.execute(
                delete(SignInThrottle).where(
                    SignInThrottle.last_failure < now - self.window,
                    (SignInThrottle.blocked_until.is_(None)) | (SignInThrottle.blocked_until < now),
                )
            )
            return int(getattr(stale, "rowcount", 0) or 0)

    def _count(self, key: str, now: datetime) -> tuple[str, int, datetime] | None:
        policy = policy_of(key)
        with self._db.session() as s:
            row = s.scalar(
                select(SignInThrottle).where(SignInThrottle.key == key).with_for_update()
            )
            if row is None:
                row = SignInThrottle(key=key, failures=0, window_start=now, locks=0)
                s.add(row)
            elif not (row.blocked_until and row.blocked_until > now) and (
                now - (row.window_start if policy.fixed else row.last_failure) > policy.window
            ):
                row.failures, row.window_start = 0, now  # afresh
            row.failures += 1
            row.last_failure = now
            wait = wait_after(row.failures, policy)
            row.blocked_until = now + wait if wait else None
            if wait >= policy.lock:
                row.locks += 1
                assert row.blocked_until is not None
                return key, row.failures, row.blocked_until
            return None

    def succeeded(self, keys: Iterable[str]) -> None:
        """A right answer clears these keys (the account's, not the address's)."""
        with self._db.session() as s:
            s.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(list(keys))))

    def locks(self) -> list[dict[str, object]]:
        """Keys that are waiting now or failed in the window, worst first."""
        now = self.clock()
        out: list[dict[str, object]] = []
        with self._db.session() as s:
            for r in s.scalars(select(SignInThrottle).order_by(SignInThrottle.failures.desc())):
                waiting = r.blocked_until if r.blocked_until and r.blocked_until > now else None
                if waiting or now - r.last_failure <= self.window:
                    out.append(
                        {
                            "key": r.key,
                            "failures": r.failures,
                            "last_failure": r.last_failure,
                            "blocked_until": waiting,
                            "locks": r.locks,
                        }
                    )
        return out

    def lift(self, key: str) -> bool:
        """Lift a key's lock and forget its failures; whether there was anything to lift."""
        with self._db.session() as s:
            row = s.get(SignInThrottle, key)
            if row is None:
                return False
            s.delete(row)
            return True
