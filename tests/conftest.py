"""Shared fixtures: the demo site, hub settings in a temporary folder, databases."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hub.runtime import load_site_for_hub
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database, upgrade
from tests.support.servers import postgres_server

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = ROOT / "hub" / "demo" / "site.yaml"


@pytest.fixture(scope="session")
def demo_site() -> Site:
    """The bundled demo compound."""
    return load_site_for_hub(DEMO_SITE)


@pytest.fixture(scope="session")
def quiet_site(demo_site: Site) -> Site:
    """The demo site without devices and without the patrol rules, which raise "missed"
    alarms by the wall clock: a test counting alarms or messages gets only its own."""
    rules = [r for r in demo_site.rules if r.kind != "missed_patrol"]
    return demo_site.model_copy(update={"devices": [], "rules": rules})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Development settings with data in a temporary folder."""
    return Settings(data_dir=tmp_path / "data", site_file=DEMO_SITE, secret_key="x" * 48)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session."""
    with postgres_server() as url:
        yield url


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated (for several hub workers sharing it)."""
    with fresh_database(postgres_url) as url:
        db = Database.from_url(url)
        upgrade(db.engine)
        db.close()
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated relational store on each backend."""
    database = Database.from_url(database_url)
    upgrade(database.engine)
    yield database
    database.close()
