"""Alembic environment: uses the engine the hub hands over (never builds one at import)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from hub.storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through `hub migrate`, which provides the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
