"""Engine and session factory: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


def again_on_conflict(transaction: Callable[[], T]) -> T:
    """Run a transaction; if it lost a race on a unique index (another hub worker inserted
    the same active alarm or ticket first), run it once more: it now finds the winner's row."""
    try:
        return transaction()
    except IntegrityError:
        return transaction()


def _private_file(path: str | None) -> None:
    """Create the SQLite file readable by its owner only (0600: it holds people's data);
    SQLite gives its -wal and -shm files the same mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)  # a file made before this release, too


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for the URL; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        _private_file(make_url(url).database)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """The relational store: an engine and its sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._shared: ContextVar[Session | None] = ContextVar(f"db-{id(self)}", default=None)

    @classmethod
    def from_url(cls, url: str) -> Database:
        """Connect to the database at URL."""
        return cls(make_engine(url))

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error (inside `reading()`,
        that one's shared session)."""
        shared = self._shared.get()
        if shared is not None:
            yield shared
            return
        with self.sessions() as s, s.begin():
            yield s

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """The sessions opened inside (in this thread or task) are one: one connection and
        one snapshot for a page made of many services' reads, like a person's home (fourteen
        sessions before, each checking out a connection and beginning and ending its own
        transaction). For reads: a write inside would commit only at the end."""
        if self._shared.get() is not None:
            yield
            return
        with self.session() as s:
            token = self._shared.set(s)
            try:
                yield
            finally:
                self._shared.reset(token)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def health(self) -> dict[str, Any]:
        """Whether a trivial query answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as err:  # any driver error means the store is unusable
            return {"status": "down", "backend": self.dialect, "error": type(err).__name__}
        return {"status": "ok", "backend": self.dialect}

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
