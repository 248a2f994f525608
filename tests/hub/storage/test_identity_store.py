"""Users, roles, API keys and the audit trail, stored through the migrations on both backends."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from hub.errors import Conflict, Invalid, Unauthorized
from hub.identity import IdentityService, Role
from hub.identity.tokens import issue_token
from hub.storage import Database, upgrade
from hub.storage.audit import recent
from hub.storage.migrate import current, head

SECRET = "s" * 48
GOOD_PASSWORD = "correct horse battery"


@pytest.fixture
def identity(db: Database) -> IdentityService:
    return IdentityService(db, SECRET, known_units=["u-office", "u-security"])


def test_migrations_create_the_schema_and_are_idempotent(db: Database) -> None:
    assert current(db.engine) == head() == "0017"
    upgrade(db.engine)  # a second run changes nothing
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "user_roles", "api_keys", "audit_log", "alembic_version"} <= tables
    assert {"alarms", "alarm_log", "rule_state", "tickets", "ticket_log"} <= tables
    assert {"patrol_tours", "patrol_scans", "inbox_messages"} <= tables
    # The migrations build exactly what the models describe.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from hub.storage.models import Base

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_user_signs_in_and_the_token_names_their_roles(identity: IdentityService) -> None:
    identity.create_user(
        "zhang", GOOD_PASSWORD, [Role.SECURITY, Role.STAFF], work_unit="u-security"
    )
    token = identity.login("zhang", GOOD_PASSWORD)
    who = identity.principal_from_token(token)
    assert who.name == "zhang"
    assert who.roles == {Role.SECURITY, Role.STAFF}
    assert who.work_unit == "u-security"


def test_wrong_password_unknown_user_and_disabled_user_all_fail_alike(
    identity: IdentityService,
) -> None:
    identity.create_user("li", GOOD_PASSWORD, [Role.STAFF])
    messages = set()
    for user, pw in [("li", "wrong password!"), ("nobody", GOOD_PASSWORD)]:
        with pytest.raises(Unauthorized) as err:
            identity.login(user, pw)
        messages.add(str(err.value))
    identity.set_active("li", False, actor="admin")
    with pytest.raises(Unauthorized) as err:
        identity.login("li", GOOD_PASSWORD)
    messages.add(str(err.value))
    assert messages == {"wrong username or password"}


def test_deactivating_a_user_revokes_tokens_already_issued(identity: IdentityService) -> None:
    identity.create_user("wang", GOOD_PASSWORD, [Role.DISPATCHER])
    token = identity.login("wang", GOOD_PASSWORD)
    identity.set_active("wang", False, actor="admin")
    identity.set_active("wang", True, actor="admin")
    with pytest.raises(Unauthorized, match="revoked"):
        identity.principal_from_token(token)


def test_forged_and_expired_tokens_are_refused(identity: IdentityService) -> None:
    identity.create_user("zhao", GOOD_PASSWORD, [Role.ADMIN])
    forged = issue_token("another secret " * 4, "zhao", 0, timedelta(hours=1))
    expired = issue_token(
        SECRET, "zhao", 0, timedelta(minutes=5), now=datetime.now(UTC) - timedelta(hours=1)
    )
    for token in (forged, expired, "not.a.token"):
        with pytest.raises(Unauthorized):
            identity.principal_from_token(token)


def test_duplicate_usernames_weak_passwords_and_unknown_units_are_refused(
    identity: IdentityService,
) -> None:
    identity.create_user("chen", GOOD_PASSWORD, [Role.TECHNICIAN])
    with pytest.raises(Conflict):
        identity.create_user("chen", GOOD_PASSWORD, [Role.STAFF])
    with pytest.raises(Invalid, match="at least 10"):
        identity.create_user("liu", "short", [Role.STAFF])
    with pytest.raises(Invalid, match="unknown work unit"):
        identity.create_user("liu", GOOD_PASSWORD, [Role.STAFF], work_unit="u-mars")


def test_api_keys_work_until_revoked_and_are_stored_only_as_hashes(
    identity: IdentityService, db: Database
) -> None:
    key, view = identity.create_api_key("gate-main-1", Role.GATE_TERMINAL, actor="admin")
    who = identity.principal_from_api_key(key)
    assert who.roles == {Role.GATE_TERMINAL}
    assert who.name == "key:gate-main-1"
    with db.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_keys"))
    assert key not in dump
    assert key.split("_", 2)[2] not in dump  # the secret part (it may contain "_")
    with pytest.raises(Unauthorized):
        identity.principal_from_api_key(key[:-1] + ("A" if key[-1] != "A" else "B"))
    identity.revoke_api_key(view["id"], actor="admin")
    with pytest.raises(Unauthorized, match="revoked"):
        identity.principal_from_api_key(key)
    with pytest.raises(Invalid, match="machine role"):
        identity.create_api_key("someone", Role.STAFF, actor="admin")


def test_credentials_are_remembered_briefly_and_forgotten_on_any_change(
    identity: IdentityService, db: Database
) -> None:
    """A terminal calling many times a second is looked up once per few seconds; a change
    made here takes effect at once, one made by another hub worker within `remember_s`."""
    key, view = identity.create_api_key("gate-main-2", Role.GATE_TERMINAL, actor="admin")
    identity.create_user("qian", GOOD_PASSWORD, [Role.DISPATCHER])
    token = identity.login("qian", GOOD_PASSWORD)
    assert identity.remembered(key) is None  # never checked yet
    identity.principal_from_api_key(key)
    identity.principal_from_token(token)
    assert identity.remembered(key) == identity.principal_from_api_key(key)
    assert identity.remembered(token) is not None
    identity.revoke_api_key(view["id"], actor="admin")
    assert identity.remembered(key) is None
    assert identity.remembered(token) is None  # everything is forgotten, not just the key
    # another worker's change: this one trusts what it saw for at most remember_s
    other = IdentityService(db, SECRET)
    identity.remember_s = 0.2
    identity.principal_from_token(token)
    other.set_active("qian", False, actor="admin")
    assert identity.remembered(token) is not None
    time.sleep(0.25)
    assert identity.remembered(token) is None
    with pytest.raises(Unauthorized, match="revoked"):
        identity.principal_from_token(token)


def test_changes_are_audited_with_actor_and_utc_time(
    identity: IdentityService, db: Database
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    identity.create_user("sun", GOOD_PASSWORD, [Role.STAFF], actor="admin")
    entries = recent(db, action="user.create")
    assert entries[0].actor == "admin"
    assert entries[0].target == "sun"
    assert entries[0].ts.tzinfo is not None
    assert entries[0].ts >= before


def test_ensure_user_creates_then_resets_password(identity: IdentityService) -> None:
    assert identity.ensure_user("admin", GOOD_PASSWORD, [Role.ADMIN]) is True
    old = identity.login("admin", GOOD_PASSWORD)
    assert identity.ensure_user("admin", "another good password", [Role.ADMIN]) is False
    with pytest.raises(Unauthorized):
        identity.principal_from_token(old)  # the reset revoked the old session
    identity.login("admin", "another good password")


def test_a_deactivated_user_keeps_nothing_open(identity: IdentityService) -> None:
    identity.create_user("leaving", GOOD_PASSWORD, [Role.ADMIN])
    token = identity.login("leaving", GOOD_PASSWORD)
    feed = identity.feed_token("leaving")
    key, _ = identity.create_api_key("their-wall", Role.DISPLAY, actor="leaving")
    other, _ = identity.create_api_key("someone-elses", Role.DISPLAY, actor="admin")
    identity.set_active("leaving", False, actor="admin")
    with pytest.raises(Unauthorized):
        identity.principal_from_token(token)
    with pytest.raises(Unauthorized):
        identity.feed_user(feed)
    with pytest.raises(Unauthorized):
        identity.principal_from_api_key(key)  # a key they made goes with them
    assert identity.principal_from_api_key(other).name == "key:someone-elses"
