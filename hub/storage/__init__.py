"""Relational storage: SQLAlchemy 2 models, engine/session factory, Alembic migrations."""

from hub.storage.db import Database, again_on_conflict, make_engine
from hub.storage.migrate import upgrade

__all__ = ["Database", "again_on_conflict", "make_engine", "upgrade"]
