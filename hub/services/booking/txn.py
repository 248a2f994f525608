"""The serialised transaction behind every no-overlap rule of booking."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from hub.errors import Conflict
from hub.storage import Database

LOST_RACE = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


class Serialised:
    """Transactions whose checks and writes cannot interleave with another's: BEGIN IMMEDIATE
    on SQLite (the database's one writer lock, taken before the first read); on PostgreSQL
    the exclusion constraints of migration 0004 refuse the loser of a race (an IntegrityError,
    or a deadlock PostgreSQL breaks by aborting one side), which becomes a 409."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()  # SQLite: spares threads of one process the busy wait

    @contextlib.contextmanager
    def __call__(self, what: str) -> Iterator[Session]:
        """A session committed on success; `what` names the thing taken in a lost race."""
        sqlite = self._db.dialect == "sqlite"
        try:
            with self._lock if sqlite else contextlib.nullcontext(), self._db.sessions() as s:
                if sqlite:
                    s.execute(text("BEGIN IMMEDIATE"))
                yield s
                s.commit()
        except IntegrityError as err:
            raise Conflict(f"{what} was taken meanwhile", key="taken_meanwhile") from err
        except OperationalError as err:
            # PostgreSQL may break a tie between two transactions checking the same exclusion
            # constraint by aborting one (deadlock, 40P01): that one lost the race.
            if getattr(err.orig, "sqlstate", None) in LOST_RACE:
                raise Conflict(f"{what} was taken meanwhile", key="taken_meanwhile") from err
            raise
