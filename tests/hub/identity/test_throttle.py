"""Failed sign-ins slow down, then lock, per account and per address, in the database (so
every hub worker and a restart see the same counts); the security room hears of a lock and
an administrator lifts it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.errors import TooManyAttempts, Unauthorized
from hub.identity import IdentityService, Role
from hub.identity.throttle import ACCOUNT, ADDRESS, Throttle, wait_after
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database
from hub.storage.audit import recent
from tests.support.clock import Clock

PASSWORD = "the right password 1"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its smallest cost: these tests guess hundreds of times, and what they check
    is the counting, not the hash (the crowd test measures hashing with these too)."""
    from argon2 import PasswordHasher

    from hub.identity import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY", cheap.hash("not a real password"))


NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def test_the_first_failures_are_free_then_each_waits_longer_then_a_lock() -> None:
    waits = [wait_after(n, ACCOUNT).total_seconds() for n in range(1, 101)]
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:9] == [1, 2, 4, 8, 16]  # from the fifth failure on, doubling
    assert max(waits[9:19]) == 30  # capped
    assert waits[19] == waits[39] == 15 * 60  # every twentieth locks for 15 minutes
    assert waits[99] == 24 * 3600  # the hundredth in a row: a day
    # an office behind one address gets more room before it slows down
    assert wait_after(ACCOUNT.free, ADDRESS) == timedelta(0)


def test_a_guesser_is_held_off_and_the_real_user_gets_back_in(db: Database) -> None:
    clock = Clock(NOW)
    locked: list[tuple[str, int]] = []
    throttle = Throttle(db, clock=clock, on_lock=lambda k, n, _: locked.append((k, n)))
    identity = IdentityService(db, "s" * 48, throttle=throttle)
    identity.create_user("li", PASSWORD, [Role.STAFF])

    def guess_for(hours: float) -> int:
        """Guess as fast as the hub lets one (waiting as told); the guesses that reached
        the password check."""
        guesses, end = 0, clock.now + timedelta(hours=hours)
        while clock.now < end and ("account:li", 100) not in locked:
            try:  # from many addresses (a botnet): only the account's count holds them
                identity.login("li", f"guess {clock.now}", client=f"10.0.{guesses % 200}.9")
            except Unauthorized:
                guesses += 1
            except TooManyAttempts as err:
                clock.advance(err.retry_after)
        return guesses

    assert guess_for(1) < 100  # NIST's limit is not reached in an hour
    assert locked[0] == ("account:li", 20)
    # the real user is held off at most until the short lock ends
    waited = 0
    while waited <= 15 * 60:
        try:
            assert identity.login("li", PASSWORD, client="10.0.0.7")
            break
        except TooManyAttempts as held:
            waited += clock.advance(held.retry_after) and held.retry_after
    assert waited <= 15 * 60
    # a patient guesser reaches 100 in a row at last: then a day's lock
    guess_for(3)
    assert locked[-1] == ("account:li", 100)
    with pytest.raises(TooManyAttempts) as held:
        identity.login("li", PASSWORD, client="10.0.0.7")
    assert held.value.retry_after > 23 * 3600


def test_an_administrator_lifts_a_lock_and_it_is_audited(db: Database) -> None:
    identity = IdentityService(db, "s" * 48, throttle=Throttle(db, clock=Clock(NOW)))
    identity.create_user("wang", PASSWORD, [Role.STAFF])
    for i in range(ACCOUNT.lock_at):
        with pytest.raises((Unauthorized, TooManyAttempts)):
            identity.login("wang", f"wrong {i}")
        identity.throttle.clock.advance(31)  # type: ignore[attr-defined]  # waits as told
    with pytest.raises(TooManyAttempts):
        identity.login("wang", PASSWORD)
    assert identity.lift_lock("account:wang", actor="admin")
    assert identity.login("wang", PASSWORD)
    actions = [a.action for a in recent(db, limit=100)]
    assert actions.count("auth.fail") == ACCOUNT.lock_at
    assert "auth.lock" in actions
    assert "auth.unlock" in actions


@pytest.mark.timeout(120)
def test_on_the_api_a_burst_of_failures_is_a_429_an_alarm_and_a_lock_to_lift(
    tmp_path: Path, quiet_site: Site
) -> None:
    hub = Hub(Settings(data_dir=tmp_path, secret_key="k" * 48), quiet_site, factories=())
    with TestClient(hub.app()) as client:
        hub.ctx.identity.ensure_user("admin2", PASSWORD, [Role.ADMIN])
        hub.ctx.identity.ensure_user("duty", PASSWORD, [Role.SECURITY])
        duty = client.post("/api/auth/token", data={"username": "duty", "password": PASSWORD})
        security = {"Authorization": f"Bearer {duty.json()['access_token']}"}
        clock = Clock(datetime.now(UTC))
        hub.ctx.identity.throttle.clock = clock
        statuses = []
        for i in range(60):  # an attacker who waits as told
            r = client.post("/api/auth/token", data={"username": "admin2", "password": f"x{i}"})
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert r.headers["content-type"] == "application/problem+json"
                clock.advance(int(r.headers["Retry-After"]))
        assert statuses[:5] == [401] * 5
        assert 429 in statuses
        # the account locked: security sees an alarm, an administrator the lock
        alarms = client.get("/api/alarms", headers=security).json()
        (alarm,) = [a for a in alarms if a["type"] == "sign_in_locked"]
        assert "admin2" in alarm["message"]
        assert client.get("/api/sign-in-locks", headers=security).status_code == 403
        clock.advance(3600)  # an hour later the account's lock is over
        admin = client.post("/api/auth/token", data={"username": "admin2", "password": PASSWORD})
        assert admin.status_code == 200, admin.text
        headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        keys = [row["key"] for row in client.get("/api/sign-in-locks", headers=headers).json()]
        assert "addr:testclient" in keys  # the address's failures stay until lifted
        lift = client.delete("/api/sign-in-locks/addr:testclient", headers=headers)
        assert lift.status_code == 204
        again = client.delete("/api/sign-in-locks/addr:testclient", headers=headers)
        assert again.status_code == 404


def test_keys_long_quiet_are_forgotten(db: Database) -> None:
    clock = Clock(NOW)
    throttle = Throttle(db, clock=clock)
    for i in range(30):
        throttle.failed([f"addr:10.1.0.{i}"])
    throttle.failed(["account:locked"] * 1)
    clock.advance(25 * 3600)  # a day and more without a failure
    assert throttle.forget_old() == 31
    assert throttle.locks() == []


def test_a_crowd_of_sign_ins_hashes_two_at_a_time(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight sign-ins at once (Argon2: 64 MiB each) never hash more than two at a time."""
    import threading

    from hub.identity import passwords

    identity = IdentityService(db, "s" * 48, throttle=Throttle(db, clock=Clock(NOW)))
    identity.create_user("crowd", PASSWORD, [Role.STAFF])
    real, running, peak, lock = passwords.verify_password, [0], [0], threading.Lock()

    def counted(stored: str | None, password: str) -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real(stored, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(passwords, "verify_password", counted)
    tokens: list[str] = []

    def sign_in(i: int) -> None:
        tokens.append(identity.login("crowd", PASSWORD, client=f"10.2.0.{i}"))

    threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(tokens) == 8  # everyone got in, waiting their turn
    assert 1 <= peak[0] <= 2
    # and no database connection is left checked out by the crowd
    pool = db.engine.pool
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


def test_an_offices_shared_address_never_adds_up_honest_typos(db: Database) -> None:
    """Two hundred staff behind one NAT address mistype a password now and then all day:
    the address is never slowed down; a burst from it is."""
    clock = Clock(NOW)
    identity = IdentityService(db, "s" * 48, throttle=Throttle(db, clock=clock))
    identity.create_user("typist", PASSWORD, [Role.STAFF])
    for minute in range(0, 8 * 60, 2):  # a typo every two minutes for a working day
        clock.now = NOW + timedelta(minutes=minute)
        with pytest.raises(Unauthorized):
            identity.login(f"person{minute}", "typo", client="10.9.0.1")
    assert identity.login("typist", PASSWORD, client="10.9.0.1")


def test_guessed_api_keys_and_feed_tokens_are_held_off_too(
    tmp_path: Path, quiet_site: Site
) -> None:
    hub = Hub(Settings(data_dir=tmp_path, secret_key="k" * 48), quiet_site, factories=())
    with TestClient(hub.app()) as client:
        answers = []
        for i in range(30):
            key = f"dyh_{i:012x}_{'x' * 40}"
            answers.append(client.get("/api/alarms", headers={"X-API-Key": key}).status_code)
        assert answers[:20] == [401] * 20  # the first are plain refusals
        assert 429 in answers  # then the address waits, told how long
        feed = client.get("/api/calendars/me.ics", params={"token": "not-a-token"})
        assert feed.status_code == 429  # feed tokens count against the same address
        assert int(feed.headers["Retry-After"]) >= 1
        actions = {
            a.action
            for a in __import__("hub.storage.audit", fromlist=["recent"]).recent(
                hub.ctx.db, limit=100
            )
        }
        assert "auth.bad_credential" in actions
